package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// OWASP is the OWASP Password Storage Cheat Sheet's argon2id minimum:
// 19 MiB, 2 passes, 1 lane.
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters read back from a stored hash, so a tampered row cannot
// make one verification eat gigabytes.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	maxThreads   = 8
)

// ErrBusy is returned when no hashing slot frees up in time.
var ErrBusy = errs.New(errs.Unavailable, "the server is busy signing people in; try again in a moment")

// Hasher hashes and verifies passwords with argon2id, running at most a fixed
// number of hashes at once: each costs ~19 MiB and a core for ~20 ms, so an
// unbounded login flood would exhaust memory and CPU.
type Hasher struct {
	params Params
	slots  chan struct{}
	wait   time.Duration
	dummy  string

	active   atomic.Int32
	peak     atomic.Int32
	hashes   atomic.Int64
	verifies atomic.Int64
}

// NewHasher returns a hasher running at most concurrency hashes at once;
// a caller waits at most wait for a slot.
func NewHasher(p Params, concurrency int, wait time.Duration) (*Hasher, error) {
	h := &Hasher{params: p, slots: make(chan struct{}, max(1, concurrency)), wait: wait}
	// The dummy hash is verified when an account does not exist, so a failed
	// login costs the same whether or not the name is registered.
	d, err := h.Hash(context.Background(), "dummy password for timing equalisation")
	if err != nil {
		return nil, err
	}
	h.dummy = d
	return h, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrBusy
	}
	n := h.active.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return nil
}

func (h *Hasher) release() {
	h.active.Add(-1)
	<-h.slots
}

// Peak is the largest number of hashes that ever ran at once.
func (h *Hasher) Peak() int { return int(h.peak.Load()) }

// Counts are how many passwords were hashed and how many checked (dummy
// checks included): what a throttle is meant to bound, so tests count it.
func (h *Hasher) Counts() (hashed, verified int64) { return h.hashes.Load(), h.verifies.Load() }

// Hash returns the PHC-formatted argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	h.hashes.Add(1)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, comparing in constant time.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	h.release()
	h.verifies.Add(1)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the time of one verification and reports false.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, h.dummy, password)
	return err
}

func decodeHash(encoded string) (Params, []byte, []byte, error) {
	bad := errors.New("stored password hash is malformed")
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, bad
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, bad
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, bad
	}
	if p.Memory < 8 || p.Memory > maxMemoryKiB || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads {
		return Params{}, nil, nil, bad
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, bad
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, bad
	}
	return p, salt, key, nil
}
