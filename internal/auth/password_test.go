package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
)

// cheap keeps tests that are about slots and parsing, not cost, fast.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newHasher(t *testing.T, p Params, concurrency int, wait time.Duration) *Hasher {
	t.Helper()
	h, err := NewHasher(p, concurrency, wait)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// holdSlots takes every slot as a running hash would, so a test can make a
// caller wait without racing a real hash to the semaphore.
func holdSlots(h *Hasher) (release func()) {
	n := cap(h.slots)
	for range n {
		h.slots <- struct{}{}
	}
	return func() {
		for range n {
			<-h.slots
		}
	}
}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestOWASPHashIsPHCAndVerifiesOnlyItsPassword(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, OWASP, 2, time.Minute)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	m := phc.FindStringSubmatch(enc)
	if m == nil {
		t.Fatalf("not an OWASP argon2id PHC string: %q", enc)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(m[1])
	key, err2 := base64.RawStdEncoding.DecodeString(m[2])
	if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("salt %d bytes (%v), key %d bytes (%v)", len(salt), err1, len(key), err2)
	}

	for _, tc := range []struct {
		name, password string
		want           bool
	}{
		{"right password accepted", "correct horse battery staple", true},
		{"wrong password refused", "correct horse battery stapler", false},
		{"case matters", "Correct horse battery staple", false},
		{"empty refused", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(ctx, enc, tc.password)
			if err != nil || ok != tc.want {
				t.Fatalf("Verify = %v, %v; want %v", ok, err, tc.want)
			}
		})
	}
}

func TestSamePasswordHashesDifferently(t *testing.T) {
	h := newHasher(t, cheap, 1, time.Minute)
	a, err1 := h.Hash(context.Background(), "same password here")
	b, err2 := h.Hash(context.Background(), "same password here")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a == b || strings.Split(a, "$")[4] == strings.Split(b, "$")[4] {
		t.Fatalf("salt was not random: %q and %q", a, b)
	}
}

// Stored hashes outlive a change of OWASP parameters, so Verify must use the
// parameters written in the hash, not the hasher's.
func TestVerifyUsesTheHashsOwnParameters(t *testing.T) {
	old := newHasher(t, Params{Memory: 128, Time: 3, Threads: 2, SaltLen: 12, KeyLen: 24}, 1, time.Minute)
	enc, err := old.Hash(context.Background(), "legacy password")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := newHasher(t, cheap, 1, time.Minute).Verify(context.Background(), enc, "legacy password")
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

func TestVerifyRefusesMalformedOrCostlyHashesWithoutRunningThem(t *testing.T) {
	h := newHasher(t, cheap, 1, time.Millisecond)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(good, "$") // "", argon2id, v=19, m=..., salt, key
	with := func(i int, v string) string {
		q := append([]string(nil), p...)
		q[i] = v
		return strings.Join(q, "$")
	}
	b64 := func(n int) string { return base64.RawStdEncoding.EncodeToString(make([]byte, n)) }

	// While every slot is held, reaching the semaphore means ErrBusy; a
	// parse error instead proves the hash was refused before any work.
	release := holdSlots(h)
	defer release()
	if _, err := h.Verify(context.Background(), good, "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("well-formed hash while slots are held: %v, want ErrBusy", err)
	}

	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i variant", with(1, "argon2i")},
		{"old version", with(2, "v=16")},
		{"missing field", strings.Join(p[:5], "$")},
		{"extra field", good + "$x"},
		{"memory 10 GB", with(3, "m=10000000,t=2,p=1")},
		{"memory overflows uint32", with(3, "m=5000000000,t=2,p=1")},
		{"negative memory", with(3, "m=-1,t=2,p=1")},
		{"memory below minimum", with(3, "m=4,t=1,p=1")},
		{"time 1000", with(3, "m=64,t=1000,p=1")},
		{"time 0", with(3, "m=64,t=0,p=1")},
		{"threads 64", with(3, "m=64,t=1,p=64")},
		{"threads overflow uint8", with(3, "m=64,t=1,p=257")},
		{"threads 0", with(3, "m=64,t=1,p=0")},
		{"params garbled", with(3, "memory=64")},
		{"salt not base64", with(4, "!!!!")},
		{"salt too short", with(4, b64(4))},
		{"key not base64", with(5, "%%%%")},
		{"key too short", with(5, b64(8))},
		{"key too long", with(5, b64(65))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), tc.hash, "pw")
			if ok || err == nil || errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "malformed") {
				t.Fatalf("Verify(%q) = %v, %v; want a malformed-hash error", tc.hash, ok, err)
			}
		})
	}
}

func TestAtMostNHashesRunAtOnce(t *testing.T) {
	// 8 MiB makes each hash long enough that eight started together overlap.
	h := newHasher(t, Params{Memory: 8192, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2, time.Minute)
	// Overlap is up to the scheduler, so rounds repeat until it happened;
	// the bound itself must hold in every round.
	for round := 0; round < 20 && h.Peak() < 2; round++ {
		start := make(chan struct{})
		failures := make(chan error, 8)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				<-start
				if _, err := h.Hash(context.Background(), "concurrent"); err != nil {
					failures <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Fatal(err)
		}
		if h.Peak() > 2 {
			t.Fatalf("round %d: %d hashes ran at once, limit is 2", round, h.Peak())
		}
	}
	if h.Peak() != 2 {
		t.Fatalf("peak %d: hashes never overlapped, so the limit was not exercised", h.Peak())
	}
}

func TestWaitingForASlotEndsWithTheContext(t *testing.T) {
	h := newHasher(t, cheap, 1, 30*time.Second) // far beyond the cancel below
	release := holdSlots(h)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash: %v, want context.Canceled", err)
	}
	dl, cancelDL := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelDL()
	if _, err := h.Verify(dl, h.dummy, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify: %v, want context.DeadlineExceeded", err)
	}

	// A caller that gave up must not have kept a slot.
	release()
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatalf("after the slot freed: %v", err)
	}
}

func TestFullSlotsPastTheWaitGiveErrBusy(t *testing.T) {
	h := newHasher(t, cheap, 1, time.Millisecond)
	release := holdSlots(h)
	_, err := h.Hash(context.Background(), "pw")
	var e *errs.Error
	if !errors.Is(err, ErrBusy) || !errors.As(err, &e) || e.Code != errs.Unavailable {
		t.Fatalf("Hash: %v, want ErrBusy (unavailable)", err)
	}
	if err := h.VerifyDummy(context.Background(), "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("VerifyDummy: %v, want ErrBusy", err)
	}
	release()
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatalf("after the slot freed: %v", err)
	}
}

func TestVerifyDummyRunsAndReportsNoError(t *testing.T) {
	h := newHasher(t, cheap, 1, time.Minute)
	if err := h.VerifyDummy(context.Background(), "anything"); err != nil {
		t.Fatal(err)
	}
	// The dummy must be a real, parseable hash, or unknown accounts would
	// answer faster than known ones.
	if _, _, _, err := decodeHash(h.dummy); err != nil {
		t.Fatalf("dummy hash %q: %v", h.dummy, err)
	}
}

func BenchmarkHashOWASP(b *testing.B) {
	h, err := NewHasher(OWASP, 1, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
