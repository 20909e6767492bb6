package auth

import (
	"sync"
	"time"
)

// Throttle counts failed sign-ins per key (an account name, a client address)
// in a sliding window. Once a key has max failures inside the window, further
// attempts on it are refused until the oldest failure ages out. It lives in
// memory: one process serves the school, and a restart forgiving a few
// failures is an acceptable price for not writing on every guess.
type Throttle struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time
	fails   map[string][]time.Time
}

// NewThrottle allows max failures per key per window. now may be nil.
func NewThrottle(max int, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{max: max, window: window, maxKeys: 100_000, now: now, fails: map[string][]time.Time{}}
}

// Blocked reports whether any key is at its limit, and for how long.
func (t *Throttle) Blocked(keys ...string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		f := t.recent(k, now)
		if len(f) >= t.max {
			if w := f[len(f)-t.max].Add(t.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait, wait > 0
}

// Fail records one failed attempt against every key.
func (t *Throttle) Fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.fails) >= t.maxKeys {
		t.sweep(now)
	}
	for _, k := range keys {
		f := t.recent(k, now)
		if len(f) >= t.max {
			// Only the newest max failures matter for when the key unblocks.
			f = f[1:]
		}
		t.fails[k] = append(f, now)
	}
}

// Reset forgets a key's failures (an account after a successful sign-in).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.fails, key)
	t.mu.Unlock()
}

// recent returns k's failures inside the window, dropping older ones.
func (t *Throttle) recent(k string, now time.Time) []time.Time {
	f := t.fails[k]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= t.window {
		i++
	}
	if i > 0 {
		f = f[i:]
		if len(f) == 0 {
			delete(t.fails, k)
			return nil
		}
		t.fails[k] = f
	}
	return f
}

// sweep drops expired keys; if the map is still full (a flood of distinct
// names), it drops arbitrary keys so memory stays bounded.
func (t *Throttle) sweep(now time.Time) {
	for k := range t.fails {
		t.recent(k, now)
	}
	for k := range t.fails {
		if len(t.fails) < t.maxKeys*9/10 {
			break
		}
		delete(t.fails, k)
	}
}
