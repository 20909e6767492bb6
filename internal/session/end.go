package session

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// EndResult is what ending a session answers, every time it is asked.
type EndResult struct {
	Session Session
	// Transcript is the session's turns without their sources (nil
	// Sources): Get has those.
	Transcript []Turn
}

// End ends u's session, keeping its transcript and, when the body carries
// one (multipart field "audio"), its recording. Ending an ended session
// answers the same again; a recording sent then is kept if the session has
// none (the sweeper may have ended it first). A refused recording changes
// nothing.
func (s *Service) End(ctx context.Context, u auth.User, sessionID int64, body io.Reader, contentType string) (EndResult, error) {
	// Check who asks before reading a byte of the recording.
	if _, err := owned(ctx, s.db.ReadStmts, u, sessionID); err != nil {
		return EndResult{}, err
	}
	rec, err := receiveAudio(body, contentType, s.o.AudioDir, s.o.MaxAudio)
	if err != nil {
		return EndResult{}, err
	}
	kept := false
	var undo func()
	defer func() {
		if rec != nil && !kept {
			os.Remove(rec.tmp)
			if undo != nil {
				undo()
			}
		}
	}()

	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return EndResult{}, fmt.Errorf("end session: %w", err)
	}
	defer tx.Rollback()
	// tx's queries as prepared statements, as a turn's: tx is on the one
	// write connection, where WriteStmts' statements live (those not yet
	// prepared are, by the Batcher, between its transactions).
	ex := s.db.WriteStmts.In(tx)
	if q := sessionForUpdate[s.db.Engine]; q != "" {
		if _, err := ex.ExecContext(ctx, q, sessionID); err != nil {
			return EndResult{}, fmt.Errorf("end session: %w", err)
		}
	}
	sess, err := owned(ctx, ex, u, sessionID)
	if err != nil {
		return EndResult{}, err
	}
	now := s.o.Now()
	if sess.Status == Active {
		if err := s.end(ctx, ex, u, &sess, now, endClient); err != nil {
			return EndResult{}, err
		}
	}
	if rec != nil && !sess.HasAudio() {
		name := audioName(sess.ID, rec.format)
		if _, err := ex.ExecContext(ctx, `UPDATE sessions SET audio_name = ?, audio_type = ?, audio_size = ? WHERE id = ?`,
			name, rec.format.MediaType, rec.size, sess.ID); err != nil {
			return EndResult{}, fmt.Errorf("end session: %w", err)
		}
		if undo, err = s.o.Recordings.Keep(ctx, name, rec.tmp); err != nil {
			return EndResult{}, fmt.Errorf("store recording: %w", err)
		}
		sess.AudioName, sess.AudioType, sess.AudioSize = name, rec.format.MediaType, rec.size
	}
	turns, err := transcriptNoSources(ctx, ex, sess.ID)
	if err != nil {
		return EndResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return EndResult{}, fmt.Errorf("end session: %w", err)
	}
	kept = true
	if rec != nil && undo == nil {
		os.Remove(rec.tmp) // the session has its recording already
	}
	return EndResult{Session: sess, Transcript: turns}, nil
}

// Sweep ends every session left open past its clock and a grace period,
// and frees student turns whose answering process is gone. It works from
// the database alone, so it catches up after a restart.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.o.Now()
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, sweepable[s.db.Engine], sqlite.FormatTime(now.Add(-s.o.Grace)))
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	var open []Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("sweep sessions: %w", err)
		}
		open = append(open, sess)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	for i := range open {
		if err := s.end(ctx, tx, auth.User{}, &open[i], now, endSwept); err != nil {
			return 0, err
		}
	}
	busy, err := json.Marshal(s.answeringIDs())
	if err != nil {
		return 0, fmt.Errorf("sweep turns: %w", err)
	}
	if _, err := tx.ExecContext(ctx, staleTurns[s.db.Engine], sqlite.FormatTime(now.Add(-turnLease)), string(busy)); err != nil {
		return 0, fmt.Errorf("sweep turns: %w", err)
	}
	expired, err := s.expireRecordings(ctx, tx, now)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	// Files after the commit, so no row ever names a missing file.
	for _, name := range expired {
		s.removeRecording(ctx, name)
	}
	if len(expired) > 0 {
		s.log.InfoContext(ctx, "deleted recordings past their retention", "count", len(expired))
	}
	return len(open), nil
}

// expireRecordings clears the recordings of sessions that ended longer
// than the retention ago and returns their file names; the session and
// its transcript stay. Zero retention keeps recordings.
func (s *Service) expireRecordings(ctx context.Context, tx *sql.Tx, now time.Time) ([]string, error) {
	if s.o.AudioRetention <= 0 {
		return nil, nil
	}
	cutoff := sqlite.FormatTime(now.Add(-s.o.AudioRetention))
	rows, err := tx.QueryContext(ctx, `SELECT audio_name FROM sessions WHERE audio_name IS NOT NULL AND ended_at <= ?`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("expire recordings: %w", err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("expire recordings: %w", err)
		}
		names = append(names, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expire recordings: %w", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET audio_name = NULL, audio_type = NULL, audio_size = NULL
		WHERE audio_name IS NOT NULL AND ended_at <= ?`, cutoff); err != nil {
		return nil, fmt.Errorf("expire recordings: %w", err)
	}
	return names, nil
}

// Recover marks unanswered every student turn left pending by a previous
// run of the server: no answer can be in flight before this process
// answers anything. Call it once, before serving. On PostgreSQL, where
// other instances may be answering, only turns past their lease.
func (s *Service) Recover(ctx context.Context) (int64, error) {
	// Recordings whose upload a stopped server was receiving. On
	// PostgreSQL, unless the directory is this process's own, it may be
	// shared with instances receiving recordings now: only files older
	// than an hour (far past any upload's time limit) are a stopped
	// server's.
	if tmp, err := filepath.Glob(filepath.Join(s.o.AudioDir, "tmp", "audio-*")); err == nil {
		cutoff := time.Now().Add(-time.Hour) // files age by the wall clock
		for _, f := range tmp {
			if s.db.Engine == sqlite.Postgres && !s.o.OwnAudioDir {
				if info, err := os.Stat(f); err != nil || !info.ModTime().Before(cutoff) {
					continue
				}
			}
			os.Remove(f)
		}
	}
	// Recordings whose rows an erasure or a retention sweep deleted just
	// before the process stopped.
	if n, err := s.removeOrphanRecordings(ctx); err != nil {
		return 0, err
	} else if n > 0 {
		s.log.InfoContext(ctx, "removed recordings no session names", "count", n)
	}
	// On SQLite this process holds the data directory's lock, so every
	// pending turn was a stopped server's. On PostgreSQL other instances
	// may be answering theirs: only turns past the lease are given up, as
	// the sweeper does.
	q, args := `UPDATE turns SET state = 'unanswered' WHERE state = 'pending'`, []any{}
	if s.db.Engine == sqlite.Postgres {
		q, args = q+` AND at <= ?`, append(args, sqlite.FormatTime(s.o.Now().Add(-turnLease)))
	}
	res, err := s.db.Write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("recover turns: %w", err)
	}
	return res.RowsAffected()
}

// RunSweeper sweeps every interval until ctx ends.
func (s *Service) RunSweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "sweep sessions", "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "ended sessions past their clock", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepable selects the sessions past their clock and the grace, per
// engine. On PostgreSQL it locks them, skipping those another transaction
// holds: two instances' sweepers (or a sweeper and the student's own end)
// would otherwise both end one session and record it twice. SQLite's
// write transaction already holds the one write lock.
var sweepable = map[sqlite.Engine]string{
	sqlite.SQLite:   `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.status = 'active' AND s.expires_at <= ?`,
	sqlite.Postgres: `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.status = 'active' AND s.expires_at <= ? FOR UPDATE SKIP LOCKED`,
}

// staleTurns gives up on pending turns older than the lease that this
// process is not answering (the ids, a JSON array, second), per engine:
// the JSON array is read by json_each on SQLite, jsonb's on PostgreSQL.
var staleTurns = map[sqlite.Engine]string{
	sqlite.SQLite:   `UPDATE turns SET state = 'unanswered' WHERE state = 'pending' AND at <= ? AND id NOT IN (SELECT value FROM json_each(?))`,
	sqlite.Postgres: `UPDATE turns SET state = 'unanswered' WHERE state = 'pending' AND at <= ? AND id NOT IN (SELECT value::bigint FROM jsonb_array_elements_text(?::jsonb))`,
}
