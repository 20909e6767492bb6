package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

var (
	ErrLastAdmin  = errs.New(errs.Conflict, "the last admin account cannot be deleted; make another admin first")
	ErrDeleteSelf = errs.New(errs.Conflict, "you cannot delete your own account; another admin must do it")
)

// Erase deletes account id inside tx, the caller's write transaction, for
// actor (nil: the command line). dependents runs after the checks and
// before the row goes: it removes what references the account without a
// cascade (the session package's sessions and turns). Enrolments and
// instructor links go with the row (ON DELETE CASCADE); courses and
// documents the account made stay, without it (SET NULL).
//
// The audit log keeps its entries but loses the person: entries about the
// account lose their detail (its username and role), entries of its own
// actions, and sign-in attempts on it, lose their address, and a tombstone
// records the erasure under the old id alone. Ids are never reused (see
// migration 00009), so that id names no one from now on. Only Erase may
// blank audit entries (migration 00010 gates the trigger on its marker row).
//
// engine is the database's (tx's): on PostgreSQL the active admins' rows
// are locked before they are counted (see activeAdmins).
func Erase(ctx context.Context, tx *sql.Tx, engine sqlite.Engine, actor *User, id int64, at time.Time, dependents func(User) error) (User, error) {
	u, err := findUserByID(ctx, tx, id)
	if err != nil {
		return User{}, err
	}
	if u.Role == RoleAdmin {
		others, err := otherActiveAdmins(ctx, tx, engine, id)
		if err != nil {
			return User{}, fmt.Errorf("erase user: %w", err)
		}
		if others == 0 {
			return User{}, ErrLastAdmin
		}
	}
	if actor != nil && actor.ID == id {
		return User{}, ErrDeleteSelf
	}
	if dependents != nil {
		if err := dependents(u); err != nil {
			return User{}, err
		}
	}
	const scrub = `UPDATE audit_log SET
		ip = CASE WHEN actor_id = ?1 OR (actor_id IS NULL AND target_type = 'user' AND target_id = ?1) THEN '' ELSE ip END,
		detail = CASE WHEN target_type = 'user' AND target_id = ?1 THEN '{}' ELSE detail END
		WHERE actor_id = ?1 OR (target_type = 'user' AND target_id = ?1)`
	// The audit log's trigger allows the blanking only while this row
	// exists (migration 00010); it never outlives this transaction.
	if _, err := tx.ExecContext(ctx, `INSERT INTO erasure_in_progress (one) VALUES (1)`); err != nil {
		return User{}, fmt.Errorf("erase user's audit entries: %w", err)
	}
	if _, err := tx.ExecContext(ctx, scrub, id); err != nil {
		return User{}, fmt.Errorf("erase user's audit entries: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM erasure_in_progress`); err != nil {
		return User{}, fmt.Errorf("erase user's audit entries: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
		return User{}, fmt.Errorf("erase user: %w", err)
	}
	if err := eraseThrottles(ctx, tx, id); err != nil {
		return User{}, fmt.Errorf("erase user's sign-in counts: %w", err)
	}
	var actorID *int64
	if actor != nil {
		actorID = &actor.ID
	}
	if err := audit.Record(ctx, tx, audit.Entry{At: at, ActorID: actorID, Action: audit.UserDelete, TargetType: "user", TargetID: &id,
		Detail: map[string]any{"role": string(u.Role)}}); err != nil {
		return User{}, err
	}
	return u, nil
}

// activeAdmins lists the active admins, per engine. On PostgreSQL it locks
// their rows, in id order: two erasures of the last two admins (from two
// instances) would otherwise each count the other and both go on, leaving
// none; locked, the second waits for the first, then counts again and is
// refused. SQLite's write transaction already holds the one write lock.
var activeAdmins = map[sqlite.Engine]string{
	sqlite.SQLite:   `SELECT id FROM users WHERE role = 'admin' AND is_active = TRUE ORDER BY id`,
	sqlite.Postgres: `SELECT id FROM users WHERE role = 'admin' AND is_active = TRUE ORDER BY id FOR UPDATE`,
}

// otherActiveAdmins counts the active admins other than id.
func otherActiveAdmins(ctx context.Context, tx *sql.Tx, engine sqlite.Engine, id int64) (int, error) {
	rows, err := tx.QueryContext(ctx, activeAdmins[engine])
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var a int64
		if err := rows.Scan(&a); err != nil {
			return 0, err
		}
		if a != id {
			n++
		}
	}
	return n, rows.Err()
}

// eraseThrottles deletes what the shared throttles (see Shared) hold about
// account id: every row a sign-in on it counted (its pair's, its account's,
// its addresses'), its wrong current passwords and join codes, and its
// trusted addresses. The account's budget is forgiven with it; the account
// no longer exists.
func eraseThrottles(ctx context.Context, tx *sql.Tx, id int64) error {
	acct := accountKey(id)
	if _, err := tx.ExecContext(ctx, `DELETE FROM throttle_attempts WHERE account = ? OR key = ? OR key = ?`,
		acct, "password/"+acct, "join/join:"+strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM login_trust WHERE pair LIKE ?`, acct+"|%")
	return err
}
