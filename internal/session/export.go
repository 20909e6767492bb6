package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// Export is everything the server keeps that is keyed to one person, as
// they may take it away: their account, the courses they are enrolled in
// or teach, and their own sessions with transcripts. Other people's
// sessions (a professor's students') are theirs, not the professor's.
type Export struct {
	Account  auth.User
	Enrolled []CourseLink
	Teaching []CourseLink
	Sessions []Session // each with its transcript
}

// CourseLink is a course and since when the person belongs to it.
type CourseLink struct {
	ID    int64
	Code  string
	Name  string
	Since time.Time
}

// ExportOf gathers u's own data in one read transaction, so the parts agree
// with each other.
func (s *Service) ExportOf(ctx context.Context, u auth.User) (Export, error) {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Export{}, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	var out Export
	out.Account, err = auth.ScanUser(tx.QueryRowContext(ctx, `SELECT `+auth.UserColumns+` FROM users WHERE id = ?`, u.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return Export{}, auth.ErrUserNotFound
	}
	if err != nil {
		return Export{}, fmt.Errorf("export account: %w", err)
	}
	if out.Enrolled, err = courseLinks(ctx, tx, `SELECT c.id, c.code, c.name, e.enrolled_at FROM enrollments e JOIN courses c ON c.id = e.course_id
		WHERE e.user_id = ? ORDER BY c.code`, u.ID); err != nil {
		return Export{}, err
	}
	if out.Teaching, err = courseLinks(ctx, tx, `SELECT c.id, c.code, c.name, ci.added_at FROM course_instructors ci JOIN courses c ON c.id = ci.course_id
		WHERE ci.user_id = ? ORDER BY c.code`, u.ID); err != nil {
		return Export{}, err
	}
	// Only sessions the person held: listQuery would add a professor's
	// students' sessions, which are not theirs to take.
	rows, err := tx.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.user_id = ? ORDER BY s.started_at, s.id`, u.ID)
	if err != nil {
		return Export{}, fmt.Errorf("export sessions: %w", err)
	}
	out.Sessions = []Session{}
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return Export{}, fmt.Errorf("export sessions: %w", err)
		}
		out.Sessions = append(out.Sessions, sess)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Export{}, fmt.Errorf("export sessions: %w", err)
	}
	for i := range out.Sessions {
		if out.Sessions[i].Transcript, err = transcript(ctx, tx, out.Sessions[i].ID); err != nil {
			return Export{}, err
		}
	}
	return out, nil
}

func courseLinks(ctx context.Context, tx *sql.Tx, q string, userID int64) ([]CourseLink, error) {
	rows, err := tx.QueryContext(ctx, q, userID)
	if err != nil {
		return nil, fmt.Errorf("export courses: %w", err)
	}
	defer rows.Close()
	out := []CourseLink{}
	for rows.Next() {
		var c CourseLink
		var since string
		if err := rows.Scan(&c.ID, &c.Code, &c.Name, &since); err != nil {
			return nil, fmt.Errorf("export courses: %w", err)
		}
		if c.Since, err = sqlite.ParseTime(since); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export courses: %w", err)
	}
	return out, nil
}
