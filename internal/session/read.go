package session

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// Filter narrows a session list.
type Filter struct {
	CourseID, WeekID, UserID int64
	Moderated                bool // only sessions with a moderated turn
	Limit, Offset            int
}

// List returns the sessions u may see, newest first: students their own,
// professors theirs and those of the courses they teach, admins all.
func (s *Service) List(ctx context.Context, u auth.User, f Filter) ([]Session, int, error) {
	where, args := listQuery(u, f)
	var total int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM sessions s`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s`+where+` ORDER BY s.started_at DESC, s.id DESC LIMIT ? OFFSET ?`,
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	rows.Close()
	if err := attachStudents(ctx, s.db.Read, u, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// Get returns a session u may read, with its transcript.
func (s *Service) Get(ctx context.Context, u auth.User, id int64) (Session, error) {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	defer tx.Rollback()
	sess, err := readable(ctx, tx, u, id)
	if err != nil {
		return Session{}, err
	}
	if sess.Transcript, err = transcript(ctx, tx, id); err != nil {
		return Session{}, err
	}
	one := []Session{sess}
	if err := attachStudents(ctx, tx, u, one); err != nil {
		return Session{}, err
	}
	return one[0], nil
}

// Audio opens a session's recording for u: the file, its media type and
// size. The caller closes the file.
func (s *Service) Audio(ctx context.Context, u auth.User, id int64) (io.ReadSeekCloser, Session, error) {
	sess, err := readable(ctx, s.db.Read, u, id)
	if err != nil {
		return nil, Session{}, err
	}
	if !sess.HasAudio() || strings.ContainsAny(sess.AudioName, `/\`) {
		return nil, Session{}, ErrNoAudio
	}
	f, err := s.o.Recordings.Open(ctx, sess.AudioName)
	if errors.Is(err, fs.ErrNotExist) {
		s.log.ErrorContext(ctx, "recording missing from disk", "session", id, "name", sess.AudioName)
		return nil, Session{}, ErrNoAudio
	}
	if err != nil {
		return nil, Session{}, fmt.Errorf("open recording: %w", err)
	}
	return f, sess, nil
}

// CourseCSV writes one row per session of a course for its instructors:
// who held it (id, username, name, email), week, start, end, duration,
// turns, moderated turns, whether it has a recording, and the transcript
// in one cell. Every text a user typed goes through cell.
func (s *Service) CourseCSV(ctx context.Context, u auth.User, courseID int64, w io.Writer) error {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sessions csv: %w", err)
	}
	defer tx.Rollback()
	if _, err := course.AuthorizeCourse(ctx, tx, u, courseID, course.Teach); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.user_id, u.username, u.full_name, u.email, s.week_number, s.week_title, s.status,
		s.started_at, coalesce(s.ended_at, ''), coalesce(s.duration_seconds, -1),
		(SELECT count(*) FROM turns t WHERE t.session_id = s.id AND t.role = 'user'),
		s.moderated_count, s.audio_name IS NOT NULL
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.course_id = ? AND s.course_created_at = (SELECT created_at FROM courses WHERE id = ?) ORDER BY s.started_at, s.id`, courseID, courseID)
	if err != nil {
		return fmt.Errorf("sessions csv: %w", err)
	}
	type row struct {
		id  int64
		rec []string
	}
	var out []row
	for rows.Next() {
		var (
			id, userID, duration     int64
			user, name, email, title string
			status, started, ended   string
			week, turns, moderated   int
			hasAudio                 bool
		)
		if err := rows.Scan(&id, &userID, &user, &name, &email, &week, &title, &status, &started, &ended, &duration, &turns, &moderated, &hasAudio); err != nil {
			rows.Close()
			return fmt.Errorf("sessions csv: %w", err)
		}
		dur := ""
		if duration >= 0 {
			dur = strconv.FormatInt(duration, 10)
		}
		out = append(out, row{id, []string{strconv.FormatInt(id, 10), strconv.FormatInt(userID, 10), cell(user), cell(name), cell(email),
			strconv.Itoa(week), cell(title), status, rfc3339(started), rfc3339(ended), dur, strconv.Itoa(turns), strconv.Itoa(moderated),
			strconv.FormatBool(hasAudio)}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sessions csv: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"session_id", "user_id", "student_username", "student_name", "student_email", "week_number", "week_title",
		"status", "started_at", "ended_at", "duration_seconds", "student_turns", "moderated_count", "has_audio", "transcript"}); err != nil {
		return err
	}
	for _, r := range out {
		turns, err := transcript(ctx, tx, r.id)
		if err != nil {
			return err
		}
		if err := cw.Write(append(r.rec, cell(transcriptText(turns)))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// transcriptText is a transcript as a professor reads it in one cell: a
// line per turn, "Student: …" or "Tutor: …", marked when moderation
// changed it or the tutor never answered it.
func transcriptText(turns []Turn) string {
	var b strings.Builder
	for i, t := range turns {
		if i > 0 {
			b.WriteByte('\n')
		}
		if t.Role == Student {
			b.WriteString("Student")
		} else {
			b.WriteString("Tutor")
		}
		switch {
		case t.Moderated:
			b.WriteString(" (moderated)")
		case t.Unanswered:
			b.WriteString(" (unanswered)")
		}
		b.WriteString(": ")
		b.WriteString(t.Content)
	}
	return b.String()
}

// cell keeps a text a user typed from being read as a formula by a
// spreadsheet (CSV injection). OWASP's list is a leading = + - @ tab or
// carriage return; spreadsheets that trim on import also read a formula
// behind leading spaces, line feeds or NULs, and some accept the
// full-width signs, so those count too. The quote shows as text.
func cell(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsRune("\t\r\n\x00", rune(s[0])) {
		return "'" + s
	}
	t := strings.TrimLeft(s, " \t\r\n\x00")
	if r, _ := utf8.DecodeRuneInString(t); t != "" && strings.ContainsRune("=+-@\uFF1D\uFF0B\uFF0D\uFF20", r) {
		return "'" + s
	}
	return s
}

func rfc3339(stored string) string {
	if stored == "" {
		return ""
	}
	t, err := sqlite.ParseTime(stored)
	if err != nil {
		return stored
	}
	return t.UTC().Format(time.RFC3339)
}

// Counts are the sessions the admin's figures report.
type Counts struct {
	// ThisWeek: started in the current calendar week (the quota's week);
	// Moderated: holding at least one moderated turn.
	ThisWeek, Total, Moderated int
}

// Count counts every session, whoever ran it.
func (s *Service) Count(ctx context.Context) (Counts, error) {
	start, _ := weekBounds(s.o.Now(), s.o.Location)
	var c Counts
	err := s.db.Read.QueryRowContext(ctx, `SELECT coalesce(sum(CASE WHEN started_at >= ? THEN 1 ELSE 0 END), 0), count(*),
		coalesce(sum(CASE WHEN moderated_count > 0 THEN 1 ELSE 0 END), 0) FROM sessions`, sqlite.FormatTime(start)).Scan(&c.ThisWeek, &c.Total, &c.Moderated)
	if err != nil {
		return Counts{}, fmt.Errorf("count sessions: %w", err)
	}
	return c, nil
}
