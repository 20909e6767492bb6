package auth

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Throttle counts failed sign-ins per key (an account name, a client address)
// in a sliding window. Once a key has max failures inside the window, further
// attempts on it are refused until the oldest failure ages out. It is the
// policy's one definition, kept in memory: the server keeps its counts in
// the database through Shared, which loads the keys one call needs into a
// Throttle, runs it, and stores what changed, so every instance on a
// database counts against one budget. The memory bound (maxKeys, sweep)
// matters only to a Throttle used on its own.
type Throttle struct {
	mu      sync.Mutex
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time
	fails   map[string][]time.Time
	// expendable, when set, tells keys that a full map gives up first:
	// those a flood makes up (names that are no account).
	expendable func(key string) bool
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
// names), it evicts down to nine tenths of maxKeys so memory stays bounded.
// A flood must not buy a guesser a fresh budget by pushing out the keys that
// hold it, so eviction goes by what forgetting a key forgives: expendable
// keys first, then those holding the fewest attempts, then the least
// recently updated. The flood's own keys hold one attempt each and go
// before a pair or an account near its limit.
func (t *Throttle) sweep(now time.Time) {
	for k := range t.fails {
		t.recent(k, now)
	}
	excess := len(t.fails) - t.maxKeys*9/10 + 1
	if excess <= 0 {
		return
	}
	type entry struct {
		key        string
		expendable bool
		n          int
		last       time.Time
	}
	all := make([]entry, 0, len(t.fails))
	for k, f := range t.fails {
		all = append(all, entry{k, t.expendable != nil && t.expendable(k), len(f), f[len(f)-1]})
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.expendable != b.expendable {
			if a.expendable {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.n, b.n), a.last.Compare(b.last))
	})
	for _, e := range all[:min(excess, len(all))] {
		delete(t.fails, e.key)
	}
}

// Limit is one key and the most attempts it may hold in the window.
type Limit struct {
	Key string
	Max int
}

// Reservation is an attempt counted before it was checked; Release uncounts
// it when it turns out not to have been a failure.
type Reservation struct {
	keys []string
	at   time.Time
}

// Reserve counts one attempt against every limit at once, before the
// attempt is checked, if none is at its max; otherwise it counts nothing and
// reports the longest wait. Counting first is what holds under a burst:
// parallel attempts cannot all find room before any records its failure.
func (t *Throttle) Reserve(limits ...Limit) (Reservation, time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, l := range limits {
		wait = max(wait, t.waitFor(l.Key, l.Max, now))
	}
	if wait > 0 {
		return Reservation{}, wait, false
	}
	r := Reservation{at: now}
	for _, l := range limits {
		r.keys = append(r.keys, l.Key)
	}
	t.add(now, 0, r.keys...)
	return r, 0, true
}

// Release uncounts a reservation: the attempt succeeded, or was never
// checked (the hasher was busy, the client left).
func (t *Throttle) Release(r Reservation) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range r.keys {
		t.uncount(k, r.at)
	}
}

// waitFor is how long k must wait before it holds fewer than max attempts.
func (t *Throttle) waitFor(k string, max int, now time.Time) time.Duration {
	f := t.recent(k, now)
	if max < 1 || len(f) < max {
		return 0
	}
	return f[len(f)-max].Add(t.window).Sub(now)
}

// add records an attempt at now against keys, keeping at most keep (0: no
// limit) of each key's newest; the caller holds mu.
func (t *Throttle) add(now time.Time, keep int, keys ...string) {
	if len(t.fails) >= t.maxKeys {
		t.sweep(now)
	}
	for _, k := range keys {
		f := append(t.recent(k, now), now)
		if keep > 0 && len(f) > keep {
			f = f[len(f)-keep:]
		}
		t.fails[k] = f
	}
}

// uncount drops one attempt made at at from k; the caller holds mu.
func (t *Throttle) uncount(k string, at time.Time) {
	f := t.fails[k]
	for i := len(f) - 1; i >= 0; i-- {
		if f[i].Equal(at) {
			f = append(f[:i:i], f[i+1:]...)
			break
		}
	}
	if len(f) == 0 {
		delete(t.fails, k)
		return
	}
	t.fails[k] = f
}
