// Package audit keeps the append-only record of who did what: sign-ins,
// account changes and, later, course and session events. Entries are written
// in the same transaction as the change they describe.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Actions recorded. Strings, not iota: they are stored and queried by admins.
const (
	Register       = "register"
	LoginSuccess   = "login_success"
	LoginFailure   = "login_failure"
	Logout         = "logout"
	PasswordChange = "password_change"
	RoleChange     = "role_change"
	ActiveChange   = "activation_change"
	UserCreate     = "user_create"
	UserDelete     = "user_delete" // a tombstone: the erased account's old id, and no personal data

	CourseCreate       = "course_create"
	CourseUpdate       = "course_update"
	CourseDelete       = "course_delete"
	InstructorAdd      = "instructor_add"
	EnrollmentAdd      = "enrollment_add"
	EnrollmentRemove   = "enrollment_remove"
	JoinCodeRegenerate = "join_code_regenerate"
	WeekCreate         = "week_create"
	WeekUpdate         = "week_update"
	WeekDelete         = "week_delete"

	SessionStart = "session_start"
	SessionEnd   = "session_end"
)

// Entry is one audit record.
type Entry struct {
	ID         int64
	At         time.Time
	ActorID    *int64
	Action     string
	TargetType string
	TargetID   *int64
	IP         string
	Detail     map[string]any
}

type ctxKey struct{}

// WithIP returns a context that carries the client address for entries
// written while serving this request.
func WithIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ip)
}

// IPFrom returns the client address WithIP stored, or "".
func IPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(ctxKey{}).(string)
	return ip
}

// Record appends e using ex (usually the transaction that made the change).
// At and IP default to now and the request's address.
func Record(ctx context.Context, ex sqlite.Execer, e Entry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.IP == "" {
		e.IP = IPFrom(ctx)
	}
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("audit detail: %w", err)
		}
		detail = b
	}
	const q = `INSERT INTO audit_log (at, actor_id, action, target_type, target_id, ip, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	if _, err := ex.ExecContext(ctx, q, sqlite.FormatTime(e.At), e.ActorID, e.Action, e.TargetType, e.TargetID, e.IP, string(detail)); err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, err)
	}
	return nil
}

// Filter selects entries; zero values mean "any".
type Filter struct {
	Action  string
	ActorID int64
	Limit   int
	Offset  int
}

// List returns matching entries, newest first, and how many match in all.
func List(ctx context.Context, db *sql.DB, f Filter) ([]Entry, int, error) {
	var where []string
	var args []any
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.ActorID != 0 {
		where = append(where, "actor_id = ?")
		args = append(args, f.ActorID)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM audit_log"+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit: %w", err)
	}
	q := "SELECT id, at, actor_id, action, target_type, target_id, ip, detail FROM audit_log" + cond +
		" ORDER BY id DESC LIMIT ? OFFSET ?"
	rows, err := db.QueryContext(ctx, q, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at, detail string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Action, &e.TargetType, &e.TargetID, &e.IP, &detail); err != nil {
			return nil, 0, fmt.Errorf("scan audit: %w", err)
		}
		if e.At, err = sqlite.ParseTime(at); err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return nil, 0, fmt.Errorf("audit %d detail: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list audit: %w", err)
	}
	return out, total, nil
}
