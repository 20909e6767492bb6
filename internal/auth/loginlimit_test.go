package auth

import (
	"fmt"
	"testing"
	"time"
)

func newLimit() (*loginLimit, *clock) {
	c := &clock{t0}
	return newLoginLimit(5, 100, c.Now), c
}

func mustReserve(t *testing.T, l *loginLimit, account, address string) loginAttempt {
	t.Helper()
	a, wait, ok := l.reserve(account, address)
	if !ok {
		t.Fatalf("%s from %s refused for %v", account, address, wait)
	}
	return a
}

func TestPairBudgetIsReservedBeforeTheCheck(t *testing.T) {
	l, _ := newLimit()
	for range 5 {
		mustReserve(t, l, "u:1", "10.0.0.1") // in flight: none answered yet
	}
	if _, wait, ok := l.reserve("u:1", "10.0.0.1"); ok || wait != window {
		t.Fatalf("6th attempt in flight: ok=%v wait=%v, want refused for %v", ok, wait, window)
	}
}

func TestSuccessForgivesThePairOnly(t *testing.T) {
	l, _ := newLimit()
	for range 4 {
		mustReserve(t, l, "u:1", "10.0.0.1")
	}
	mustReserve(t, l, "u:2", "10.0.0.1") // another account's failure on the address
	a := mustReserve(t, l, "u:1", "10.0.0.1")
	l.succeeded(a)
	mustReserve(t, l, "u:1", "10.0.0.1")
	for key, want := range map[string]int{
		"p:u:1|10.0.0.1": 1, // forgiven, then one new attempt
		"i:10.0.0.1":     6, // the address's failures stand; the success is uncounted
		"u:1":            5, // so do the account's
	} {
		if n := len(l.t.fails[key]); n != want {
			t.Errorf("%s holds %d attempts, want %d", key, n, want)
		}
	}
}

func TestUncheckedAttemptsAreUncounted(t *testing.T) {
	l, _ := newLimit()
	for range 20 {
		l.unchecked(mustReserve(t, l, "u:1", "10.0.0.1"))
	}
	if len(l.t.fails) != 0 {
		t.Errorf("keys left: %v", l.t.fails)
	}
}

func TestAddressBudgetIsLooseAcrossAccounts(t *testing.T) {
	l, _ := newLimit()
	for i := range 100 {
		mustReserve(t, l, fmt.Sprintf("a:name%d", i), "10.0.0.1")
	}
	if _, _, ok := l.reserve("u:7", "10.0.0.1"); ok {
		t.Error("101st failure from one address allowed")
	}
	mustReserve(t, l, "u:7", "10.0.0.2")
}

// The account-wide delay doubles with the account's failures, applies only
// to addresses that have failed on it, and is capped.
func TestAccountDelayGrowsForAddressesThatFailed(t *testing.T) {
	l, c := newLimit()
	addr := func(i int) string { return fmt.Sprintf("10.0.1.%d", i) }
	for i := range 4 {
		mustReserve(t, l, "u:1", addr(i))
	}
	// 4 failures: below the pair budget, no delay yet.
	mustReserve(t, l, "u:1", addr(0))
	// 5 failures now: an address that failed waits 1 s after its last try.
	if _, wait, ok := l.reserve("u:1", addr(1)); ok || wait != time.Second {
		t.Fatalf("ok=%v wait=%v, want 1s", ok, wait)
	}
	for i := 10; i < 20; i++ {
		mustReserve(t, l, "u:1", addr(i)) // fresh addresses are never delayed
	}
	// 15 failures: 2^10 s, capped at the window.
	if _, wait, ok := l.reserve("u:1", addr(12)); ok || wait != window {
		t.Fatalf("ok=%v wait=%v, want the cap %v", ok, wait, window)
	}
	c.now = t0.Add(window)
	mustReserve(t, l, "u:1", addr(12)) // everything aged out
	if got := l.delay(5 + 40); got != delayCap {
		t.Errorf("delay after many failures = %v, want the cap", got)
	}
	if got := l.delay(7); got != 4*time.Second {
		t.Errorf("delay(7) = %v, want 4s", got)
	}
}

// A spray of names from many addresses stays within the key bound.
func TestLoginLimitMemoryIsBounded(t *testing.T) {
	l, c := newLimit()
	l.t.maxKeys = 300
	worst := 0
	for i := range 5000 {
		c.now = t0.Add(time.Duration(i) * time.Millisecond)
		if _, _, ok := l.reserve(fmt.Sprintf("a:user%d", i), fmt.Sprintf("10.%d.%d.1", i/250, i%250)); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		worst = max(worst, len(l.t.fails))
	}
	if worst > 302 {
		t.Fatalf("map reached %d keys, bound 302", worst)
	}
}

// BenchmarkLoginThrottle is what the throttle adds to one sign-in: reserve,
// then succeed or fail, with 50,000 other keys in the map.
func BenchmarkLoginThrottle(b *testing.B) {
	l := newLoginLimit(5, 100, nil)
	for i := range 25_000 {
		l.reserve(fmt.Sprintf("u:%d", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	accounts := make([]string, 1024)
	addrs := make([]string, 1024)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("u:%d", i*7)
		addrs[i] = fmt.Sprintf("192.0.%d.%d", i>>8, i&255)
	}
	b.ResetTimer()
	for i := range b.N {
		a, _, ok := l.reserve(accounts[i&1023], addrs[i*31&1023])
		if ok && i%2 == 0 {
			l.succeeded(a)
		} else if ok {
			l.unchecked(a)
		}
	}
}
