package session

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
)

const sessionColumns = `s.id, s.user_id, s.course_id, s.week_id, s.course_created_at, s.week_created_at, s.course_code, s.course_name, s.week_number, s.week_title,
	s.status, s.counted, s.theme, s.voice_id, s.started_at, s.expires_at, s.ended_at, coalesce(s.end_reason, ''),
	s.duration_seconds, s.moderated_count, s.moderation_flags, coalesce(s.audio_name, ''), coalesce(s.audio_type, ''), coalesce(s.audio_size, 0),
	s.student_turns, coalesce(s.last_turn_at, '')`

type scanner interface{ Scan(dest ...any) error }

func scanSession(r scanner) (Session, error) {
	var (
		s                Session
		started, expires string
		ended            sql.NullString
		duration         sql.NullInt64
		counted          bool
		flags            string
		lastTurn         string
	)
	err := r.Scan(&s.ID, &s.UserID, &s.CourseID, &s.WeekID, &s.CourseCreatedAt, &s.WeekCreatedAt, &s.CourseCode, &s.CourseName, &s.WeekNumber, &s.WeekTitle,
		&s.Status, &counted, &s.Theme, &s.VoiceID, &started, &expires, &ended, &s.EndReason,
		&duration, &s.ModeratedCount, &flags, &s.AudioName, &s.AudioType, &s.AudioSize,
		&s.StudentTurns, &lastTurn)
	if err != nil {
		return Session{}, err
	}
	s.Counted = counted
	if err := decodeList(flags, &s.Flags); err != nil {
		return Session{}, fmt.Errorf("session flags: %w", err)
	}
	if s.StartedAt, err = sqlite.ParseTime(started); err != nil {
		return Session{}, err
	}
	if s.ExpiresAt, err = sqlite.ParseTime(expires); err != nil {
		return Session{}, err
	}
	if ended.Valid {
		t, err := sqlite.ParseTime(ended.String)
		if err != nil {
			return Session{}, err
		}
		s.EndedAt = &t
	}
	if lastTurn != "" {
		if s.LastTurnAt, err = sqlite.ParseTime(lastTurn); err != nil {
			return Session{}, err
		}
	}
	if duration.Valid {
		d := int(duration.Int64)
		s.Duration = &d
	}
	return s, nil
}

// decodeList decodes a stored JSON array into v. The usual value, "[]"
// (a session without flags, a turn moderation passed, an answer on no
// passage), is decoded without encoding/json's reflection: to the same
// empty, non-nil slice json.Unmarshal makes of it.
func decodeList[T any](s string, v *[]T) error {
	if s == "[]" {
		*v = []T{}
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// findSession loads a session by id, whoever asks.
func findSession(ctx context.Context, ex sqlite.Execer, id int64) (Session, error) {
	s, err := scanSession(ex.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("find session %d: %w", id, err)
	}
	return s, nil
}

// teaches says whether a professor is an instructor of a session's course
// (the course itself, not a later one given its id).
func teaches(ctx context.Context, ex sqlite.Execer, userID int64, sess Session) (bool, error) {
	var n int
	err := ex.QueryRowContext(ctx, `SELECT count(*) FROM course_instructors ci JOIN courses c ON c.id = ci.course_id
		WHERE ci.course_id = ? AND ci.user_id = ? AND c.created_at = ?`, sess.CourseID, userID, sess.CourseCreatedAt).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check instructor: %w", err)
	}
	return n > 0, nil
}

// canRead is the visibility rule for one session: its student, the
// instructors of its course (while they are professors), and admins.
func canRead(ctx context.Context, ex sqlite.Execer, u auth.User, sess Session) (bool, error) {
	switch {
	case u.ID == sess.UserID || u.Role == auth.RoleAdmin:
		return true, nil
	case u.Role == auth.RoleProfessor:
		return teaches(ctx, ex, u.ID, sess)
	}
	return false, nil
}

// readable loads a session u may read; any other is ErrNotFound, so ids
// cannot be probed.
func readable(ctx context.Context, ex sqlite.Execer, u auth.User, id int64) (Session, error) {
	sess, err := findSession(ctx, ex, id)
	if err != nil {
		return Session{}, err
	}
	ok, err := canRead(ctx, ex, u, sess)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, ErrNotFound
	}
	return sess, nil
}

// owned loads a session only its student may change: others who may read
// it get ErrNotOwner, everyone else ErrNotFound.
func owned(ctx context.Context, ex sqlite.Execer, u auth.User, id int64) (Session, error) {
	sess, err := readable(ctx, ex, u, id)
	if err != nil {
		return Session{}, err
	}
	if sess.UserID != u.ID {
		return Session{}, ErrNotOwner
	}
	return sess, nil
}

// endSession ends an active session at now for a reason.
func endSession(ctx context.Context, tx sqlite.Execer, sess *Session, now time.Time, duration int, reason string) error {
	const q = `UPDATE sessions SET status = 'ended', ended_at = ?, end_reason = ?, duration_seconds = ? WHERE id = ? AND status = 'active'`
	if _, err := tx.ExecContext(ctx, q, sqlite.FormatTime(now), reason, duration, sess.ID); err != nil {
		return fmt.Errorf("end session %d: %w", sess.ID, err)
	}
	sess.Status, sess.EndedAt, sess.EndReason, sess.Duration = Ended, &now, reason, &duration
	return nil
}

const turnColumns = `t.id, t.role, t.content, t.at, t.sources, t.moderated, t.moderation, t.state`

// turnColumnsNoSources are turnColumns without the passages behind each
// answer (a NULL in their place), for a transcript that drops them.
const turnColumnsNoSources = `t.id, t.role, t.content, t.at, NULL, t.moderated, t.moderation, t.state`

func scanTurn(r scanner) (Turn, error) {
	var (
		t         Turn
		at, state string
		src       sql.NullString
		cats      string
		moderated bool
	)
	if err := r.Scan(&t.ID, &t.Role, &t.Content, &at, &src, &moderated, &cats, &state); err != nil {
		return Turn{}, err
	}
	var err error
	if t.At, err = sqlite.ParseTime(at); err != nil {
		return Turn{}, err
	}
	if src.Valid { // NULL: not asked for (turnColumnsNoSources)
		if err := decodeList(src.String, &t.Sources); err != nil {
			return Turn{}, fmt.Errorf("turn %d sources: %w", t.ID, err)
		}
	}
	t.Moderated = moderated
	if err := decodeList(cats, &t.Categories); err != nil {
		return Turn{}, fmt.Errorf("turn %d moderation: %w", t.ID, err)
	}
	t.Unanswered = state == "unanswered"
	return t, nil
}

// transcript is a session's turns in order. Pending student turns (their
// answer is being made) are left out.
func transcript(ctx context.Context, ex sqlite.Execer, sessionID int64) ([]Turn, error) {
	return transcriptOf(ctx, ex, sessionID, turnColumns)
}

// transcriptNoSources is transcript without each answer's sources (nil):
// what ending a session answers, which would decode them only to drop
// them.
func transcriptNoSources(ctx context.Context, ex sqlite.Execer, sessionID int64) ([]Turn, error) {
	return transcriptOf(ctx, ex, sessionID, turnColumnsNoSources)
}

func transcriptOf(ctx context.Context, ex sqlite.Execer, sessionID int64, columns string) ([]Turn, error) {
	rows, err := ex.QueryContext(ctx, `SELECT `+columns+` FROM turns t WHERE t.session_id = ? AND t.state <> 'pending' ORDER BY t.id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	defer rows.Close()
	out := []Turn{}
	for rows.Next() {
		t, err := scanTurn(rows)
		if err != nil {
			return nil, fmt.Errorf("transcript: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	return out, nil
}

// insertTurn appends a turn and returns its id.
func insertTurn(ctx context.Context, tx sqlite.Execer, sessionID int64, role Role, content string, at time.Time, state string, clientMsgID string, replyTo int64) (int64, error) {
	var cid, reply any
	if clientMsgID != "" {
		cid = clientMsgID
	}
	if replyTo != 0 {
		reply = replyTo
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO turns (session_id, role, content, at, state, client_msg_id, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sessionID, role, content, sqlite.FormatTime(at), state, cid, reply).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store turn: %w", err)
	}
	return id, nil
}

// listQuery builds the WHERE clause of a session list for u and f.
func listQuery(u auth.User, f Filter) (string, []any) {
	var where []string
	var args []any
	switch u.Role {
	case auth.RoleAdmin:
	case auth.RoleProfessor:
		where = append(where, `(s.user_id = ? OR s.course_id IN (SELECT ci.course_id FROM course_instructors ci JOIN courses c ON c.id = ci.course_id WHERE ci.user_id = ? AND c.created_at = s.course_created_at))`)
		args = append(args, u.ID, u.ID)
	default:
		where = append(where, `s.user_id = ?`)
		args = append(args, u.ID)
	}
	if f.CourseID > 0 {
		where = append(where, `s.course_id = ?`)
		args = append(args, f.CourseID)
	}
	if f.WeekID > 0 {
		where = append(where, `s.week_id = ?`)
		args = append(args, f.WeekID)
	}
	if f.UserID > 0 {
		where = append(where, `s.user_id = ?`)
		args = append(args, f.UserID)
	}
	if f.Moderated {
		where = append(where, `(s.moderated_count > 0 OR s.moderation_flags <> '[]')`)
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, " AND "), args
}
