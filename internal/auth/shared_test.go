package auth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// twoInstances opens one migrated database twice, as two instances of the
// server would, on each engine of the run (sqlitetest.EachTwo).
func twoInstances(t *testing.T, fn func(t *testing.T, a, b *sqlite.DB)) {
	sqlitetest.EachTwo(t, fn)
}

func sharedService(t *testing.T, db *sqlite.DB, c *clock, maxFailures int) *Service {
	s, err := NewService(context.Background(), db, Options{
		Hasher: newHasher(t, cheap, 8, 10*time.Second), Tokens: newTokens(c),
		LoginMaxFailures: maxFailures, RegistrationMaxPerAddress: 3, AllowRegistration: true, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tooMany(err error, words string) bool {
	return isCode(err, errs.TooMany) && strings.Contains(err.Error(), words)
}

// TestLoginThrottleCountsAcrossInstances: failed sign-ins made through two
// instances on one database share one budget — three through one and two
// through the other use up a budget of five, and then neither instance
// checks even the right password; a burst split across both checks no more
// passwords than the budget; the registration and password-change budgets
// are shared the same way.
func TestLoginThrottleCountsAcrossInstances(t *testing.T) {
	twoInstances(t, func(t *testing.T, dbA, dbB *sqlite.DB) {
		ctx := context.Background()
		c := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
		a, b := sharedService(t, dbA, c, 5), sharedService(t, dbB, c, 5)
		if _, err := a.CreateUser(ctx, nil, NewUser{Email: "ann@law.example.edu", Username: "ann", Password: "a fine passphrase", Role: RoleStudent}); err != nil {
			t.Fatal(err)
		}
		for i, s := range []*Service{a, b, a, b, a} {
			if _, err := s.Login(ctx, "ann", "wrong guess", "192.0.2.1"); err != ErrBadCredentials {
				t.Fatalf("failure %d: %v, want %v", i+1, err, ErrBadCredentials)
			}
		}
		for name, s := range map[string]*Service{"a": a, "b": b} {
			if _, err := s.Login(ctx, "ann", "a fine passphrase", "192.0.2.1"); !tooMany(err, "too many failed sign-in attempts") {
				t.Fatalf("instance %s after five failures across both: %v, want too many failed sign-in attempts", name, err)
			}
		}
		// Another address is not the pair: it signs in, and trusts itself.
		if _, err := b.Login(ctx, "ann", "a fine passphrase", "198.51.100.7"); err != nil {
			t.Fatalf("the owner from another address: %v", err)
		}
		// The window passes on both instances at once.
		c.now = c.now.Add(throttleWindow)
		if _, err := a.Login(ctx, "ann", "a fine passphrase", "192.0.2.1"); err != nil {
			t.Fatalf("after the window: %v", err)
		}

		// A burst of 24 wrong guesses, half through each instance, on a fresh
		// pair: exactly five are checked, whichever instance takes them.
		var mu sync.Mutex
		checked, refused := 0, 0
		var wg sync.WaitGroup
		for i := range 24 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Login(ctx, "ann", "wrong guess", "203.0.113.9")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == ErrBadCredentials:
					checked++
				case tooMany(err, "too many failed sign-in attempts"):
					refused++
				default:
					t.Errorf("burst: %v", err)
				}
			}()
		}
		wg.Wait()
		if checked != 5 || refused != 19 {
			t.Fatalf("burst across two instances: %d checked, %d refused; want 5 and 19", checked, refused)
		}

		// Registrations: three per address per hour, across both.
		for i, s := range []*Service{a, b, a} {
			n := NewUser{Email: fmt.Sprintf("s%d@law.example.edu", i), Username: fmt.Sprintf("student%d", i), Password: "a fine passphrase"}
			if _, err := s.Register(ctx, Registration{NewUser: n, Address: "192.0.2.50"}); err != nil {
				t.Fatalf("registration %d: %v", i+1, err)
			}
		}
		n := NewUser{Email: "s9@law.example.edu", Username: "student9", Password: "a fine passphrase"}
		if _, err := b.Register(ctx, Registration{NewUser: n, Address: "192.0.2.50"}); !tooMany(err, "too many registrations from your address") {
			t.Fatalf("fourth registration through the other instance: %v", err)
		}

		// Wrong current passwords: five per account, across both.
		u, err := findUserByLogin(ctx, dbA.Read, "ann")
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range []*Service{a, b, a, b, a} {
			if err := s.ChangePassword(ctx, u, "not it at all", "a newer passphrase"); err != ErrWrongPassword {
				t.Fatalf("wrong password %d: %v", i+1, err)
			}
		}
		if err := b.ChangePassword(ctx, u, "a fine passphrase", "a newer passphrase"); !tooMany(err, "too many failed password attempts") {
			t.Fatalf("sixth password change: %v", err)
		}
	})
}

// TestSharedThrottleOnBothEngines: the stored throttle keeps the memory
// Throttle's rules on each engine — refusal at the max with the wait until
// the oldest counted attempt ages out, a released reservation uncounted,
// keys and throttles apart, Reset forgetting one key — and prunes expired
// rows.
func TestSharedThrottleOnBothEngines(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		ctx := context.Background()
		c := &clock{now: t0}
		th := NewShared(db, "test", 3, window, c.Now)
		other := NewShared(db, "other", 3, window, c.Now)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		r, _, ok, err := th.Reserve(ctx, Limit{Key: "k", Max: 3})
		must(err)
		if !ok {
			t.Fatal("first reservation refused")
		}
		must(th.Release(ctx, r))
		for i := range 3 {
			c.now = t0.Add(time.Duration(i) * time.Minute)
			if _, _, ok, err := th.Reserve(ctx, Limit{Key: "k", Max: 3}); err != nil || !ok {
				t.Fatalf("reservation %d: %v %v (the released one must not count)", i+1, ok, err)
			}
		}
		c.now = t0.Add(3 * time.Minute)
		if _, wait, ok, err := th.Reserve(ctx, Limit{Key: "k", Max: 3}); err != nil || ok || wait != window-3*time.Minute {
			t.Fatalf("fourth: ok=%v wait=%v err=%v, want refused for %v", ok, wait, err, window-3*time.Minute)
		}
		if _, blocked, err := other.Blocked(ctx, "k"); err != nil || blocked {
			t.Fatalf("another throttle's k: blocked=%v %v", blocked, err)
		}
		must(th.Fail(ctx, "j", "j2"))
		must(th.Fail(ctx, "j"))
		must(th.Fail(ctx, "j"))
		if wait, blocked, err := th.Blocked(ctx, "j2", "j"); err != nil || !blocked || wait != window {
			t.Fatalf("j after three failures: %v %v %v", wait, blocked, err)
		}
		must(th.Reset(ctx, "j"))
		if _, blocked, err := th.Blocked(ctx, "j", "j2"); err != nil || blocked {
			t.Fatalf("after Reset: blocked=%v %v", blocked, err)
		}
		// k's oldest attempt ages out: one more fits.
		c.now = t0.Add(window)
		if _, _, ok, err := th.Reserve(ctx, Limit{Key: "k", Max: 3}); err != nil || !ok {
			t.Fatalf("after the oldest aged out: %v %v", ok, err)
		}
		// Past every window and a prune's interval, a write prunes the rest.
		c.now = t0.Add(3*window + pruneEvery)
		must(th.Fail(ctx, "fresh"))
		var n int
		must(db.Read.QueryRowContext(ctx, `SELECT count(*) FROM throttle_attempts`).Scan(&n))
		if n != 1 {
			t.Fatalf("%d rows after pruning, want the fresh one", n)
		}
	})
}

// TestTrustIsSharedAcrossInstances: an address that signed in to an account
// through one instance is exempt, on the other, from the address budget that
// other accounts' failures used up.
func TestTrustIsSharedAcrossInstances(t *testing.T) {
	twoInstances(t, func(t *testing.T, dbA, dbB *sqlite.DB) {
		ctx := context.Background()
		c := &clock{now: t0}
		a := newSharedLogins(dbA, 5, 10, c.Now)
		b := newSharedLogins(dbB, 5, 10, c.Now)
		at, _, ok, err := a.reserve(ctx, "u:1", "10.0.0.1")
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := a.succeeded(ctx, at); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, _, ok, err := b.reserve(ctx, fmt.Sprintf("u:%d", 100+i), "10.0.0.1"); err != nil || !ok {
				t.Fatalf("failure %d on other accounts: %v %v", i, ok, err)
			}
		}
		if _, _, ok, err := a.reserve(ctx, "u:2", "10.0.0.1"); err != nil || ok {
			t.Fatalf("an untrusted pair past the address budget: ok=%v %v", ok, err)
		}
		if _, _, ok, err := b.reserve(ctx, "u:1", "10.0.0.1"); err != nil || !ok {
			t.Fatalf("the trusted pair on the other instance: ok=%v %v", ok, err)
		}
	})
}

// BenchmarkSharedLogin is what the stored throttle adds to one sign-in on
// each engine: reserve, then succeed or uncount — two write transactions —
// beside BenchmarkLoginThrottle's memory-only figure.
func BenchmarkSharedLogin(b *testing.B) {
	for _, e := range sqlitetest.Engines {
		b.Run(e.Name, func(b *testing.B) {
			db := e.Open(b)
			if err := db.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			l := newSharedLogins(db, 5, 100, nil)
			b.ResetTimer()
			for i := range b.N {
				a, _, ok, err := l.reserve(ctx, fmt.Sprintf("u:%d", i&1023), fmt.Sprintf("192.0.%d.%d", i>>8&3, i&255))
				if err != nil {
					b.Fatal(err)
				}
				if ok && i%2 == 0 {
					err = l.succeeded(ctx, a)
				} else if ok {
					err = l.unchecked(ctx, a)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRacingReservationsAcrossInstances: 40 reservations at once on one
// key, half through each instance, with room for 5: exactly 5 are granted.
func TestRacingReservationsAcrossInstances(t *testing.T) {
	twoInstances(t, func(t *testing.T, dbA, dbB *sqlite.DB) {
		ctx := context.Background()
		th := []*Shared{NewShared(dbA, "race", 5, window, nil), NewShared(dbB, "race", 5, window, nil)}
		var granted sync.WaitGroup
		var mu sync.Mutex
		n := 0
		for i := range 40 {
			granted.Add(1)
			go func() {
				defer granted.Done()
				_, _, ok, err := th[i%2].Reserve(ctx, Limit{Key: "k", Max: 5}, Limit{Key: fmt.Sprintf("other-%d", i), Max: 5})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					n++
					mu.Unlock()
				}
			}()
		}
		granted.Wait()
		if n != 5 {
			t.Fatalf("%d of 40 racing reservations granted, want 5", n)
		}
	})
}

// TestErasureDeletesTheAccountsThrottleRows: erasing an account deletes the
// stored counts naming it or counted by its attempts (its pair, account and
// password keys, its addresses' rows from its attempts, its trusted
// addresses) and leaves other accounts' rows, on each engine.
func TestErasureDeletesTheAccountsThrottleRows(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		ctx := context.Background()
		c := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
		s := sharedService(t, db, c, 5)
		var ids []int64
		for _, name := range []string{"zelda", "other"} {
			u, err := s.CreateUser(ctx, nil, NewUser{Email: name + "@law.example.edu", Username: name, Password: "a fine passphrase", Role: RoleStudent})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
			if _, err := s.Login(ctx, name, "wrong guess", "203.0.113.77"); err != ErrBadCredentials {
				t.Fatal(err)
			}
		}
		if _, err := s.Login(ctx, "zelda", "a fine passphrase", "198.51.100.5"); err != nil {
			t.Fatal(err)
		}
		u, _ := findUserByID(ctx, db.Read, ids[0])
		if err := s.ChangePassword(ctx, u, "not it", "a newer passphrase"); err != ErrWrongPassword {
			t.Fatal(err)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.Read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT count(*) FROM login_trust`); n != 1 {
			t.Fatalf("%d trusted pairs before, want zelda's", n)
		}
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Erase(ctx, tx, db.Engine, nil, ids[0], c.now, nil); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		zelda := accountKey(ids[0])
		if n := count(`SELECT count(*) FROM throttle_attempts WHERE key LIKE ?`, "%"+zelda+"%"); n != 0 {
			t.Errorf("%d rows still name %s", n, zelda)
		}
		if n := count(`SELECT count(*) FROM login_trust`); n != 0 {
			t.Errorf("%d trusted pairs left", n)
		}
		// The other account's failure from the same address stands: its
		// pair, its account and the address's one count.
		if n := count(`SELECT count(*) FROM throttle_attempts`); n != 3 {
			t.Errorf("%d rows left, want the other account's three", n)
		}
	})
}

// TestUnknownNamesAreNotStored: what was typed as a name that is no
// account (sometimes a password, typed in the wrong field) is counted by a
// digest: the throttle's rows never hold it.
func TestUnknownNamesAreNotStored(t *testing.T) {
	twoInstances(t, func(t *testing.T, dbA, dbB *sqlite.DB) {
		ctx := context.Background()
		c := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
		a, b := sharedService(t, dbA, c, 5), sharedService(t, dbB, c, 5)
		for _, s := range []*Service{a, b} {
			if _, err := s.Login(ctx, "Hunter2-Secret!", "whatever", "192.0.2.1"); err != ErrBadCredentials {
				t.Fatalf("unknown name: %v", err)
			}
		}
		var n, leaks int
		if err := dbA.Read.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(CASE WHEN lower(key) LIKE '%hunter2%' OR lower(account) LIKE '%hunter2%' THEN 1 ELSE 0 END), 0) FROM throttle_attempts`).Scan(&n, &leaks); err != nil {
			t.Fatal(err)
		}
		if n == 0 || leaks != 0 {
			t.Errorf("%d throttle rows, %d holding the typed name", n, leaks)
		}
	})
}
