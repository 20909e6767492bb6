package session

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lawtutor/socratic/internal/auth"
)

// EraseUser deletes account id and everything of theirs: sessions, turns,
// recordings and their name on courses they teach here, enrolments, instructor links and the account in
// auth.Erase, which also strips the person from the audit log and leaves
// a tombstone. The rows go in one transaction; the recordings are removed
// after it commits, so no row ever names a missing file. A crash between
// the two leaves at worst recording files that no session names, under
// names nothing can reach over HTTP; Recover removes them at the next
// start.
func (s *Service) EraseUser(ctx context.Context, actor auth.User, id int64) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("erase user: %w", err)
	}
	defer tx.Rollback()
	var files []string
	_, err = auth.Erase(ctx, tx, s.db.Engine, &actor, id, s.o.Now(), func(u auth.User) error {
		var err error
		if files, err = recordingsOf(ctx, tx, u.ID); err != nil {
			return err
		}
		// Turns go with their sessions (ON DELETE CASCADE).
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID); err != nil {
			return fmt.Errorf("erase sessions: %w", err)
		}
		// A course they teach shows their name as its professor: the
		// course stays, their name does not.
		if u.FullName != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE courses SET professor_name = '' WHERE lower(professor_name) = lower(CAST(? AS text))
				AND id IN (SELECT course_id FROM course_instructors WHERE user_id = ?)`, u.FullName, u.ID); err != nil {
				return fmt.Errorf("erase professor name: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("erase user: %w", err)
	}
	// The write connection zeroes what a delete frees (secure_delete), but
	// the write-ahead log still holds the pages as they were before: cut
	// it. A failure leaves the erasure done, the old frames to be
	// overwritten by later commits; it is logged for the operator.
	const stale = "erase user: the write-ahead log keeps the erased rows until later commits overwrite it"
	if ok, err := s.db.TruncateWAL(ctx); err != nil {
		s.log.ErrorContext(ctx, stale, "err", err)
	} else if !ok {
		s.log.WarnContext(ctx, stale, "reason", "readers kept the checkpoint busy")
	}
	for _, name := range files {
		s.removeRecording(ctx, name)
	}
	return nil
}

// recordingsOf names the recording files of a user's sessions.
func recordingsOf(ctx context.Context, tx *sql.Tx, userID int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT audio_name FROM sessions WHERE user_id = ? AND audio_name IS NOT NULL`, userID)
	if err != nil {
		return nil, fmt.Errorf("find recordings: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("find recordings: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// removeRecording deletes a recording file that no row names any more. A
// failure is logged, not returned: the rows are already gone, and the
// orphan sweep retries.
func (s *Service) removeRecording(ctx context.Context, name string) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return
	}
	if err := s.o.Recordings.Remove(ctx, name); err != nil {
		s.log.ErrorContext(ctx, "remove recording", "name", name, "err", err)
	}
}

// removeOrphanRecordings deletes the recordings no session names: those
// of an erasure or a retention sweep whose process died between its
// commit and the files' removal. It runs before serving, when no
// recording is between its rename and its commit.
func (s *Service) removeOrphanRecordings(ctx context.Context) (int, error) {
	files, err := s.o.Recordings.Sweepable(ctx)
	if err != nil {
		return 0, fmt.Errorf("find recordings: %w", err)
	}
	if len(files) == 0 {
		return 0, nil
	}
	named := map[string]bool{}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT audio_name FROM sessions WHERE audio_name IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("find recordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return 0, fmt.Errorf("find recordings: %w", err)
		}
		named[name] = true
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find recordings: %w", err)
	}
	n := 0
	for _, f := range files {
		if strings.HasPrefix(f, "session-") && !named[f] {
			s.removeRecording(ctx, f)
			n++
		}
	}
	return n, nil
}
