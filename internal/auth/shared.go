package auth

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Shared is a Throttle whose attempts live in the database (the
// throttle_attempts table), so every instance on one database counts
// against one budget: two instances behind a load balancer do not each
// allow the full budget (issue 20).
//
// One implementation serves both engines, and the policy is not written
// twice: each call runs in a write transaction that locks its keys (on
// PostgreSQL an advisory lock per key, taken in sorted order; SQLite's one
// writer is the lock already), loads their live attempts into a Throttle
// of its own, runs the in-memory Throttle's or loginLimit's code on it, and
// writes back only the rows that code added or dropped. The memory types
// stay the policy's one definition and its unit tests; this is where the
// counts are kept. BenchmarkSharedLogin measures the cost of a sign-in's
// throttling on each engine.
type Shared struct {
	db     *sqlite.DB
	prefix string
	max    int
	window time.Duration
	now    func() time.Time
	pruned atomic.Int64 // Unix nanoseconds of this handle's last prune
}

// pruneEvery is how often one instance deletes expired attempts and trusts.
const pruneEvery = time.Minute

// NewShared allows max attempts per key per window; name keeps one
// throttle's keys apart from another's in the shared table. now may be nil.
func NewShared(db *sqlite.DB, name string, max int, window time.Duration, now func() time.Time) *Shared {
	if now == nil {
		now = time.Now
	}
	return &Shared{db: db, prefix: name + "/", max: max, window: window, now: now}
}

// Blocked reports whether any key is at its limit, and for how long.
func (s *Shared) Blocked(ctx context.Context, keys ...string) (wait time.Duration, blocked bool, err error) {
	err = s.do(ctx, "", keys, nil, func(t *Throttle, _ map[string]time.Time) {
		wait, blocked = t.Blocked(keys...)
	})
	return wait, blocked, err
}

// Fail records one failed attempt against every key.
func (s *Shared) Fail(ctx context.Context, keys ...string) error {
	return s.do(ctx, "", keys, nil, func(t *Throttle, _ map[string]time.Time) { t.Fail(keys...) })
}

// Reset forgets a key's failures.
func (s *Shared) Reset(ctx context.Context, key string) error {
	return s.do(ctx, "", []string{key}, nil, func(t *Throttle, _ map[string]time.Time) { t.Reset(key) })
}

// Reserve counts one attempt against every limit at once if none is at its
// max (see Throttle.Reserve).
func (s *Shared) Reserve(ctx context.Context, limits ...Limit) (r Reservation, wait time.Duration, ok bool, err error) {
	keys := make([]string, len(limits))
	for i, l := range limits {
		keys[i] = l.Key
	}
	err = s.do(ctx, "", keys, nil, func(t *Throttle, _ map[string]time.Time) {
		r, wait, ok = t.Reserve(limits...)
	})
	if err != nil {
		return Reservation{}, 0, false, err
	}
	return r, wait, ok, nil
}

// Release uncounts a reservation.
func (s *Shared) Release(ctx context.Context, r Reservation) error {
	return s.do(ctx, "", r.keys, nil, func(t *Throttle, _ map[string]time.Time) { t.Release(r) })
}

// attemptRow is one stored attempt.
type attemptRow struct {
	id int64
	at int64
}

// do runs fn on the live attempts of keys (and the trusted pairs named by
// trust) inside one write transaction, then stores what fn changed, the
// rows it adds marked with account (a sign-in's account key, or empty). fn
// must touch no other keys.
func (s *Shared) do(ctx context.Context, account string, keys, trust []string, fn func(t *Throttle, trusted map[string]time.Time)) error {
	keys = uniqueSorted(keys)
	trust = uniqueSorted(trust)
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	defer tx.Rollback()
	if s.db.Engine == sqlite.Postgres {
		// Writers do not queue on PostgreSQL: two instances reserving on
		// one key must take turns, or both could find room for the last
		// attempt. Sorted, so two calls over the same keys cannot deadlock.
		locks := make([]string, 0, len(keys)+len(trust))
		for _, k := range keys {
			locks = append(locks, s.prefix+k)
		}
		for _, p := range trust {
			locks = append(locks, "trust/"+p)
		}
		slices.Sort(locks)
		for _, l := range locks {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, l); err != nil {
				return fmt.Errorf("throttle: lock: %w", err)
			}
		}
	}
	now := s.now()
	nowNS := now.UnixNano()
	before, err := s.load(ctx, tx, keys, nowNS)
	if err != nil {
		return err
	}
	trustedBefore, err := loadTrust(ctx, tx, trust, nowNS)
	if err != nil {
		return err
	}
	t := &Throttle{max: s.max, window: s.window, maxKeys: int(^uint(0) >> 1), now: func() time.Time { return now }, fails: map[string][]time.Time{}}
	for k, rows := range before {
		for _, r := range rows {
			t.fails[k] = append(t.fails[k], time.Unix(0, r.at))
		}
	}
	trusted := make(map[string]time.Time, len(trustedBefore))
	for p, at := range trustedBefore {
		trusted[p] = at
	}
	fn(t, trusted)
	wrote := false
	for _, k := range keys {
		gone, added := diffAttempts(before[k], t.fails[k])
		for _, id := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE id = ?`, id); err != nil {
				return fmt.Errorf("throttle: %w", err)
			}
			wrote = true
		}
		for _, at := range added {
			if _, err := tx.ExecContext(ctx, `INSERT INTO throttle_attempts (key, at, expires, account) VALUES (?, ?, ?, ?)`, s.prefix+k, at, at+int64(s.window), account); err != nil {
				return fmt.Errorf("throttle: %w", err)
			}
			wrote = true
		}
	}
	for _, p := range trust {
		at, ok := trusted[p]
		was, had := trustedBefore[p]
		switch {
		case ok && (!had || !at.Equal(was)):
			ns := at.UnixNano()
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_trust (pair, at, expires) VALUES (?, ?, ?)
				ON CONFLICT (pair) DO UPDATE SET at = excluded.at, expires = excluded.expires`, p, ns, ns+int64(trustFor)); err != nil {
				return fmt.Errorf("throttle: trust: %w", err)
			}
			wrote = true
		case !ok && had:
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_trust WHERE pair = ?`, p); err != nil {
				return fmt.Errorf("throttle: trust: %w", err)
			}
			wrote = true
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if wrote {
		s.prune(ctx, nowNS)
	}
	return nil
}

// load reads the live attempts of keys, oldest first.
func (s *Shared) load(ctx context.Context, tx *sql.Tx, keys []string, now int64) (map[string][]attemptRow, error) {
	out := map[string][]attemptRow{}
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, s.prefix+k)
	}
	args = append(args, now)
	rows, err := tx.QueryContext(ctx, `SELECT id, key, at FROM throttle_attempts
		WHERE key IN (?`+strings.Repeat(", ?", len(keys)-1)+`) AND expires > ? ORDER BY key, at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r attemptRow
		var k string
		if err := rows.Scan(&r.id, &k, &r.at); err != nil {
			return nil, fmt.Errorf("throttle: %w", err)
		}
		k = strings.TrimPrefix(k, s.prefix)
		out[k] = append(out[k], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	return out, nil
}

// loadTrust reads when each pair last signed in, if within trustFor.
func loadTrust(ctx context.Context, tx *sql.Tx, pairs []string, now int64) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, p := range pairs {
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT at FROM login_trust WHERE pair = ? AND expires > ?`, p, now).Scan(&at)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("throttle: trust: %w", err)
		}
		out[p] = time.Unix(0, at)
	}
	return out, nil
}

// diffAttempts returns the rows of before that after no longer holds and
// the times after holds that before did not, as multisets of times.
func diffAttempts(before []attemptRow, after []time.Time) (gone []int64, added []int64) {
	left := map[int64]int{}
	for _, at := range after {
		left[at.UnixNano()]++
	}
	had := map[int64]int{}
	for _, r := range before {
		if left[r.at] > 0 {
			left[r.at]--
			had[r.at]++
		} else {
			gone = append(gone, r.id)
		}
	}
	for _, at := range after {
		ns := at.UnixNano()
		if had[ns] > 0 {
			had[ns]--
			continue
		}
		added = append(added, ns)
	}
	return gone, added
}

// prune deletes expired attempts and trusts, at most once per pruneEvery
// per handle; a failure is left for the next prune (expired rows are
// never read, only kept).
func (s *Shared) prune(ctx context.Context, now int64) {
	last := s.pruned.Load()
	if now-last < int64(pruneEvery) || !s.pruned.CompareAndSwap(last, now) {
		return
	}
	_, _ = s.db.Write.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE expires <= ?`, now)
	_, _ = s.db.Write.ExecContext(ctx, `DELETE FROM login_trust WHERE expires <= ?`, now)
}

func uniqueSorted(keys []string) []string {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// sharedLogins is the sign-in policy (loginLimit) with its counts and
// trusted pairs in the database.
type sharedLogins struct {
	s                   *Shared
	perPair, perAddress int
}

func newSharedLogins(db *sqlite.DB, perPair, perAddress int, now func() time.Time) *sharedLogins {
	if perAddress <= 0 {
		perAddress = defaultPerAddress
	}
	return &sharedLogins{s: NewShared(db, "login", perPair, throttleWindow, now), perPair: perPair, perAddress: max(perPair, perAddress)}
}

// policy is the in-memory policy over one call's loaded rows.
func (l *sharedLogins) policy(t *Throttle, trusted map[string]time.Time) *loginLimit {
	return &loginLimit{t: t, perPair: l.perPair, perAddress: l.perAddress, trusted: trusted}
}

func (l *sharedLogins) reserve(ctx context.Context, account, address string) (a loginAttempt, wait time.Duration, ok bool, err error) {
	k := loginKeys(account, address)
	err = l.s.do(ctx, account, k.keys(), []string{k.trust}, func(t *Throttle, trusted map[string]time.Time) {
		a, wait, ok = l.policy(t, trusted).reserve(account, address)
	})
	if err != nil {
		return loginAttempt{}, 0, false, err
	}
	return a, wait, ok, nil
}

func (l *sharedLogins) succeeded(ctx context.Context, a loginAttempt) error {
	return l.s.do(ctx, a.account, a.keys(), []string{a.trust}, func(t *Throttle, trusted map[string]time.Time) {
		l.policy(t, trusted).succeeded(a)
	})
}

func (l *sharedLogins) unchecked(ctx context.Context, a loginAttempt) error {
	return l.s.do(ctx, a.account, a.keys(), nil, func(t *Throttle, trusted map[string]time.Time) {
		l.policy(t, trusted).unchecked(a)
	})
}
