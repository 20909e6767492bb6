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

// The account-wide delay doubles with the account's failures, reaches only
// an address whose pair has failed twice, and is capped at tens of seconds:
// it slows a guesser down, it never locks the owner out. (It used to reach
// an address after one failure and grow to the whole window, so an attacker
// turned the owner's one typo into a 15-minute lockout.)
func TestAccountDelayGrowsForAddressesThatFailed(t *testing.T) {
	l, c := newLimit()
	addr := func(i int) string { return fmt.Sprintf("10.0.1.%d", i) }
	for i := range 4 {
		mustReserve(t, l, "u:1", addr(i))
	}
	// 4 failures: below the pair budget, no delay yet.
	mustReserve(t, l, "u:1", addr(0))
	// 5 failures now, but addr(1) has failed once only: not delayed.
	mustReserve(t, l, "u:1", addr(1))
	// addr(0) has failed twice: it waits 2 s (6 failures) after its last try.
	if _, wait, ok := l.reserve("u:1", addr(0)); ok || wait != 2*time.Second {
		t.Fatalf("ok=%v wait=%v, want 2s", ok, wait)
	}
	for i := 10; i < 20; i++ {
		mustReserve(t, l, "u:1", addr(i)) // fresh addresses are never delayed
		mustReserve(t, l, "u:1", addr(i)) // nor is a second try
	}
	// 26 failures: 2^21 s, capped low.
	if _, wait, ok := l.reserve("u:1", addr(12)); ok || wait != delayCap {
		t.Fatalf("ok=%v wait=%v, want the cap %v", ok, wait, delayCap)
	}
	c.now = t0.Add(delayCap)
	mustReserve(t, l, "u:1", addr(12)) // the cap passed: a slow-down, not a lock
	if got := l.delay(5 + 40); got != delayCap {
		t.Errorf("delay after many failures = %v, want the cap", got)
	}
	if got := l.delay(7); got != 4*time.Second {
		t.Errorf("delay(7) = %v, want 4s", got)
	}
	if delayCap > time.Minute {
		t.Errorf("delayCap %v: the account-driven delay must stay a slow-down", delayCap)
	}
}

// The owner's one typo from their own address, while an attacker's failures
// from elsewhere pile up on the account, is not delayed.
func TestOneTypoIsNeverDelayedByOthersFailures(t *testing.T) {
	l, c := newLimit()
	for round := range 5 {
		c.now = t0.Add(time.Duration(round) * delayCap) // the attacker waits out the delays
		for i := range 3 {
			mustReserve(t, l, "u:1", fmt.Sprintf("198.51.100.%d", i))
		}
	}
	mustReserve(t, l, "u:1", "203.0.113.5")              // the typo
	l.succeeded(mustReserve(t, l, "u:1", "203.0.113.5")) // the right password
}

// An address that signed in to an account is exempt from the account delay
// and from the address budgets, though not from the pair's.
func TestTrustedAddressIsExemptFromAllButThePair(t *testing.T) {
	l, c := newLimit()
	const home = "2001:db8:1:2::7"
	l.succeeded(mustReserve(t, l, "u:1", home))
	c.now = t0.Add(24 * time.Hour)
	for i := range 20 {
		mustReserve(t, l, "u:1", fmt.Sprintf("198.51.100.%d", i))
	}
	for i := range 100 {
		mustReserve(t, l, fmt.Sprintf("a:spray%d", i), "2001:db8:1:2::99") // a neighbour on the /64
	}
	if _, _, ok := l.reserve("u:2", "2001:db8:1:2::99"); ok {
		t.Fatal("the /64's budget was not spent")
	}
	for range 5 {
		mustReserve(t, l, "u:1", home) // owner's typos: no delay, no address budget
	}
	if _, _, ok := l.reserve("u:1", home); ok {
		t.Error("a trusted pair got past its own budget")
	}
	c.now = t0.Add(trustFor + time.Hour)
	for range 2 {
		mustReserve(t, l, "u:1", "2001:db8:1:2::7")
	}
	for i := range 5 {
		mustReserve(t, l, "u:1", fmt.Sprintf("198.51.100.%d", i))
	}
	if _, _, ok := l.reserve("u:1", home); ok {
		t.Error("trust outlived trustFor")
	}
}

// IPv6 /64s of one /48 share a budget netFactor times an address's, so
// rotating /64s does not give a site unlimited guesses.
func TestIPv6SlashFortyEightHasALooseBudget(t *testing.T) {
	l, _ := newLimit()
	n := 0
	for sub := range 20 {
		for i := range 50 {
			mustReserve(t, l, fmt.Sprintf("a:name%d", i), fmt.Sprintf("2001:db8:7:%x::1", sub))
			n++
		}
	}
	if n != 100*netFactor {
		t.Fatalf("sent %d", n)
	}
	if _, _, ok := l.reserve("u:1", "2001:db8:7:ff::1"); ok {
		t.Error("a fresh /64 of a spent /48 was let through")
	}
	mustReserve(t, l, "u:1", "2001:db8:8::1") // another /48
	mustReserve(t, l, "u:1", "10.0.0.1")      // IPv4 has no /48
}

// A flood of made-up names from fresh addresses must not evict a pair's or
// an account's failures: that would hand a guesser a fresh budget.
func TestFloodDoesNotEvictLiveAccountKeys(t *testing.T) {
	l, c := newLimit()
	l.t.maxKeys = 300
	for range 4 {
		mustReserve(t, l, "u:1", "192.0.2.1")
	}
	for i := range 5000 {
		c.now = t0.Add(time.Duration(i+1) * time.Millisecond)
		mustReserve(t, l, fmt.Sprintf("a:junk%d", i), fmt.Sprintf("10.%d.%d.1", i/250, i%250))
	}
	if n := len(l.t.fails["p:u:1|192.0.2.1"]); n != 4 {
		t.Fatalf("the pair holds %d failures after the flood, want 4", n)
	}
	if n := len(l.t.fails["u:1"]); n != 4 {
		t.Fatalf("the account holds %d failures after the flood, want 4", n)
	}
	mustReserve(t, l, "u:1", "192.0.2.1")
	if _, _, ok := l.reserve("u:1", "192.0.2.1"); ok {
		t.Error("the flood renewed the pair's budget")
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
