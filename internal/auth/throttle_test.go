package auth

import (
	"fmt"
	"testing"
	"time"
)

const window = 15 * time.Minute

func newThrottle() (*Throttle, *clock) {
	c := &clock{t0}
	return NewThrottle(5, window, c.Now), c
}

func TestFifthFailureBlocksForTheWindow(t *testing.T) {
	th, _ := newThrottle()
	for i := 1; i <= 4; i++ {
		th.Fail("alice")
		if wait, blocked := th.Blocked("alice"); blocked || wait != 0 {
			t.Fatalf("after %d failures: blocked=%v wait=%v", i, blocked, wait)
		}
	}
	th.Fail("alice")
	if wait, blocked := th.Blocked("alice"); !blocked || wait != window {
		t.Fatalf("after 5 failures: blocked=%v wait=%v, want true %v", blocked, wait, window)
	}
}

func TestKeysAreCountedSeparately(t *testing.T) {
	th, _ := newThrottle()
	for range 5 {
		th.Fail("alice", "10.0.0.1")
	}
	th.Fail("bob")
	for _, tc := range []struct {
		key     string
		blocked bool
	}{
		{"alice", true},
		{"10.0.0.1", true},
		{"bob", false},
		{"10.0.0.2", false},
		{"ALICE", false},
	} {
		if _, blocked := th.Blocked(tc.key); blocked != tc.blocked {
			t.Errorf("%s: blocked=%v, want %v", tc.key, blocked, tc.blocked)
		}
	}
}

func TestBlockLiftsWhenTheWindowPasses(t *testing.T) {
	th, c := newThrottle()
	for range 5 {
		th.Fail("alice")
	}
	c.now = t0.Add(window - time.Second)
	if wait, blocked := th.Blocked("alice"); !blocked || wait != time.Second {
		t.Fatalf("1s before the window ends: blocked=%v wait=%v", blocked, wait)
	}
	c.now = t0.Add(window)
	if wait, blocked := th.Blocked("alice"); blocked {
		t.Fatalf("window passed: still blocked for %v", wait)
	}
	// The old failures are forgotten, not merely outside the wait.
	th.Fail("alice")
	if _, blocked := th.Blocked("alice"); blocked {
		t.Fatal("one new failure after the window re-blocked the key")
	}
}

// The window slides: the key unblocks when its oldest counted failure ages
// out, and failures made while blocked push the unblocking back.
func TestWindowSlidesWithEachFailure(t *testing.T) {
	th, c := newThrottle()
	for i := range 5 {
		c.now = t0.Add(time.Duration(i) * time.Minute)
		th.Fail("alice")
	}
	if wait, _ := th.Blocked("alice"); wait != window-4*time.Minute {
		t.Fatalf("wait %v, want %v (until the first failure ages out)", wait, window-4*time.Minute)
	}
	c.now = t0.Add(window)
	if _, blocked := th.Blocked("alice"); blocked {
		t.Fatal("still blocked after the first of five failures aged out")
	}

	th2, c2 := newThrottle()
	for range 5 {
		th2.Fail("bob")
	}
	c2.now = t0.Add(10 * time.Minute)
	for range 5 {
		th2.Fail("bob") // a guesser who keeps going
	}
	c2.now = t0.Add(window)
	if wait, blocked := th2.Blocked("bob"); !blocked || wait != 10*time.Minute {
		t.Fatalf("blocked=%v wait=%v, want 10m from the newest five failures", blocked, wait)
	}
}

func TestResetForgetsOnlyItsKey(t *testing.T) {
	th, _ := newThrottle()
	for range 5 {
		th.Fail("alice", "10.0.0.1")
	}
	th.Reset("alice")
	if _, blocked := th.Blocked("alice"); blocked {
		t.Error("alice still blocked after Reset")
	}
	if _, blocked := th.Blocked("10.0.0.1"); !blocked {
		t.Error("Reset of alice also forgave the address")
	}
	for range 4 {
		th.Fail("alice")
	}
	if _, blocked := th.Blocked("alice"); blocked {
		t.Error("failures before Reset still counted")
	}
}

func TestBlockedOverSeveralKeysReportsTheLongestWait(t *testing.T) {
	th, c := newThrottle()
	for range 5 {
		th.Fail("10.0.0.1")
	}
	c.now = t0.Add(5 * time.Minute)
	for range 5 {
		th.Fail("alice")
	}
	for _, keys := range [][]string{{"alice", "10.0.0.1"}, {"10.0.0.1", "alice"}, {"bob", "alice"}} {
		if wait, blocked := th.Blocked(keys...); !blocked || wait != window {
			t.Errorf("%v: blocked=%v wait=%v, want %v", keys, blocked, wait, window)
		}
	}
	if wait, blocked := th.Blocked("10.0.0.1", "bob"); !blocked || wait != 10*time.Minute {
		t.Errorf("address alone: blocked=%v wait=%v, want 10m", blocked, wait)
	}
	if _, blocked := th.Blocked("bob", "carol"); blocked {
		t.Error("keys with no failures reported blocked")
	}
}

// A flood of distinct names (a spray of usernames) must not grow the map
// without limit.
func TestKeyCountStaysBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		perCall int
		bound   int
	}{
		{"one key per failure stays within maxKeys", 1, 100},
		// The size check runs before the call's keys are added, so a call
		// with an account and an address can overshoot by one.
		{"account and address per failure stay within maxKeys+1", 2, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th, c := newThrottle()
			th.maxKeys = 100
			worst := 0
			for i := range 5000 {
				c.now = t0.Add(time.Duration(i) * time.Millisecond) // all inside the window
				keys := make([]string, tc.perCall)
				for j := range keys {
					keys[j] = fmt.Sprintf("user-%d-%d", i, j)
				}
				th.Fail(keys...)
				worst = max(worst, len(th.fails))
			}
			if worst > tc.bound {
				t.Fatalf("map reached %d keys, bound %d", worst, tc.bound)
			}
			// The newest key survives the sweep: the flood must not make
			// throttling forget what just happened.
			if len(th.fails[fmt.Sprintf("user-%d-0", 4999)]) != 1 {
				t.Fatal("the latest failure was dropped")
			}
		})
	}
}

// Expired keys are swept first, so live ones survive a full map.
func TestSweepDropsExpiredKeysBeforeLiveOnes(t *testing.T) {
	th, c := newThrottle()
	th.maxKeys = 10
	for i := range 6 {
		th.Fail(fmt.Sprintf("stale-%d", i))
	}
	c.now = t0.Add(window - time.Minute)
	for i := range 4 {
		th.Fail(fmt.Sprintf("live-%d", i))
	}
	c.now = t0.Add(window + time.Second) // every stale-* has aged out
	th.Fail("new")
	if len(th.fails) != 5 {
		t.Fatalf("%d keys after the sweep, want the 4 live ones and the new one", len(th.fails))
	}
	for i := range 4 {
		if _, ok := th.fails[fmt.Sprintf("live-%d", i)]; !ok {
			t.Errorf("live-%d was dropped while expired keys could have been", i)
		}
	}
}
