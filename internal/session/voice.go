package session

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// The voice platform (an ElevenLabs agent) speaks for the student: it
// calls the tutor as a custom LLM with the session token from start, and
// after the call sends the conversation back by webhook. This file is the
// session side of both.

// ErrVoiceToken refuses a voice platform request whose session token does
// not name an open session: the same words whatever the reason (a forged
// or stale token, a session that ended or is gone, a student whose account
// was closed), so a caller learns nothing from the difference.
var ErrVoiceToken = errs.New(errs.Unauthorized, "the session token does not name an open session")

// VoiceSession is the session a verified session token names, and its
// student, as the database has them now. expires is the expiry the token
// carries: it must be the session's own, so a token outlives neither its
// session nor a later session given the same id. A session that ended, or
// whose student can no longer sign in, is ErrVoiceToken; a session past
// its clock but not yet ended is returned (its next turn ends it); one
// its clock ended is ErrTimeUp.
func (s *Service) VoiceSession(ctx context.Context, sessionID int64, expires time.Time) (auth.User, Session, error) {
	sess, err := findSession(ctx, s.db.Read, sessionID)
	if errors.Is(err, ErrNotFound) {
		return auth.User{}, Session{}, ErrVoiceToken
	}
	if err != nil {
		return auth.User{}, Session{}, err
	}
	if sess.ExpiresAt.Unix() != expires.Unix() {
		return auth.User{}, Session{}, ErrVoiceToken
	}
	if sess.Status != Active {
		if sess.EndReason == endExpired || sess.EndReason == endSwept {
			// Its clock ran out: the caller may say goodbye again (a
			// retried wrap-up), and nothing more.
			return auth.User{}, sess, ErrTimeUp
		}
		return auth.User{}, Session{}, ErrVoiceToken
	}
	u, err := auth.ScanUser(s.db.Read.QueryRowContext(ctx, `SELECT `+auth.UserColumns+` FROM users WHERE id = ?`, sess.UserID))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.User{}, Session{}, ErrVoiceToken
	}
	if err != nil {
		return auth.User{}, Session{}, fmt.Errorf("voice session owner: %w", err)
	}
	if !u.IsActive {
		return auth.User{}, Session{}, ErrVoiceToken
	}
	return u, sess, nil
}

// IsActive says whether a session is still open (a turn may have ended
// it: the moderation's last strike).
func (s *Service) IsActive(ctx context.Context, sessionID int64) (bool, error) {
	var status string
	err := s.db.Read.QueryRowContext(ctx, `SELECT status FROM sessions WHERE id = ?`, sessionID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("session status: %w", err)
	}
	return status == string(Active), nil
}

// ErrNoConversation is a webhook for a conversation no session can be
// found for: nothing is stored (the caller acknowledges it and logs it).
var ErrNoConversation = errors.New("no session holds this conversation")

// VoiceConversation is what the platform's post-call transcription says
// of one call.
type VoiceConversation struct {
	ConversationID, AgentID, Status string
	// The platform's JSON as sent (nil when absent).
	Transcript, Analysis, Metadata json.RawMessage
}

// VoiceMatch is what names a call's session in its transcription webhook:
// a verified session token (SessionID and the Expires it carries), or only
// the session id the client put in its dynamic variables (Expires zero),
// with the call's start (zero: unknown).
type VoiceMatch struct {
	SessionID int64
	Expires   time.Time
	CallStart time.Time
}

// matches says whether m may name sess. A token must carry the session's
// own expiry; a bare session id, which the client could have changed, is
// taken only for a call that began while the session ran (a minute's
// leeway either side), so a transcript cannot be filed under a session
// long over or not begun.
func (s *Service) matches(sess Session, m VoiceMatch) bool {
	switch {
	case m.SessionID == 0:
		return false
	case !m.Expires.IsZero():
		return sess.ExpiresAt.Unix() == m.Expires.Unix()
	case m.CallStart.IsZero():
		return false
	}
	return !m.CallStart.Before(sess.StartedAt.Add(-time.Minute)) && m.CallStart.Before(sess.ExpiresAt.Add(time.Minute))
}

// StoreVoiceTranscript keeps a call's transcript and analysis against its
// session: the session that already holds the conversation, else the one
// m names (see matches). A transcript already stored is kept, and
// stored is false: a redelivered webhook changes nothing.
func (s *Service) StoreVoiceTranscript(ctx context.Context, m VoiceMatch, c VoiceConversation) (stored bool, err error) {
	transcript := c.Transcript
	if len(transcript) == 0 || string(transcript) == "null" {
		transcript = json.RawMessage("[]")
	}
	err = s.db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		stored = false
		var rowID, owner int64
		var at sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, session_id, transcript_at FROM voice_conversations WHERE conversation_id = ?`, c.ConversationID).Scan(&rowID, &owner, &at)
		now := sqlite.FormatTime(s.o.Now())
		switch {
		case errors.Is(err, sql.ErrNoRows):
			sess, err := findSession(ctx, tx, m.SessionID)
			if errors.Is(err, ErrNotFound) || err == nil && !s.matches(sess, m) {
				return ErrNoConversation
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO voice_conversations (session_id, conversation_id, agent_id, status, transcript, analysis, metadata, transcript_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sess.ID, c.ConversationID, c.AgentID, c.Status, string(transcript), rawOrNull(c.Analysis), rawOrNull(c.Metadata), now, now); err != nil {
				return fmt.Errorf("store voice transcript: %w", err)
			}
		case err != nil:
			return fmt.Errorf("store voice transcript: %w", err)
		case at.Valid:
			return nil // delivered before
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE voice_conversations SET agent_id = ?, status = ?, transcript = ?, analysis = ?, metadata = ?, transcript_at = ? WHERE id = ?`,
				c.AgentID, c.Status, string(transcript), rawOrNull(c.Analysis), rawOrNull(c.Metadata), now, rowID); err != nil {
				return fmt.Errorf("store voice transcript: %w", err)
			}
		}
		stored = true
		return nil
	})
	return stored, err
}

func rawOrNull(r json.RawMessage) any {
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return string(r)
}

// VoiceAudio is a recording the platform sent, written to a temporary
// file and not yet any session's.
type VoiceAudio struct {
	rec *receivedAudio
}

// ReceiveVoiceAudio writes a recording from r (the decoded audio, read as
// it arrives) to a temporary file, judged by its bytes and refused past
// MAX_AUDIO_SIZE as an upload is. An empty r is (nil, nil). The caller
// Stores or Discards it.
func (s *Service) ReceiveVoiceAudio(r io.Reader) (*VoiceAudio, error) {
	rec, err := saveAudio(r, s.o.AudioDir, s.o.MaxAudio)
	if err != nil || rec == nil {
		return nil, err
	}
	return &VoiceAudio{rec: rec}, nil
}

// Size is the recording's length in bytes.
func (a *VoiceAudio) Size() int64 { return a.rec.size }

// Discard removes a recording that was not stored.
func (a *VoiceAudio) Discard() {
	if a != nil && a.rec != nil {
		os.Remove(a.rec.tmp)
	}
}

// StoreVoiceAudio makes the platform's recording of a call the recording
// of the session that holds the conversation (its transcription webhook
// names the session; this one carries only the conversation id). It is
// kept when the session has no recording, and replaces one the browser
// uploaded: the platform's holds both voices, as the call was heard. It
// never replaces the platform's own recording of an earlier call of the
// session, and a redelivery stores nothing (stored false). The temporary
// file is always consumed.
func (s *Service) StoreVoiceAudio(ctx context.Context, conversationID string, a *VoiceAudio) (stored bool, err error) {
	var replaced string
	var undo func()
	kept := false
	defer func() {
		if !kept {
			a.Discard()
			if undo != nil {
				undo()
			}
		}
	}()
	err = s.db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		stored, replaced = false, ""
		if undo != nil { // a retried batch: the last attempt's file goes
			undo()
			undo = nil
		}
		var rowID, sessionID int64
		var at sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, session_id, audio_at FROM voice_conversations WHERE conversation_id = ?`, conversationID).Scan(&rowID, &sessionID, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoConversation
		}
		if err != nil {
			return fmt.Errorf("store voice audio: %w", err)
		}
		if at.Valid {
			return nil // delivered before
		}
		sess, err := findSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		if sess.HasAudio() {
			var platform bool
			if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM voice_conversations WHERE session_id = ? AND audio_name = ?`, sess.ID, sess.AudioName).Scan(&platform); err != nil {
				return fmt.Errorf("store voice audio: %w", err)
			}
			if platform {
				return nil // an earlier call's recording stays
			}
			replaced = sess.AudioName
		}
		name := audioName(sess.ID, a.rec.format)
		now := sqlite.FormatTime(s.o.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET audio_name = ?, audio_type = ?, audio_size = ? WHERE id = ?`,
			name, a.rec.format.MediaType, a.rec.size, sess.ID); err != nil {
			return fmt.Errorf("store voice audio: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE voice_conversations SET audio_name = ?, audio_at = ? WHERE id = ?`, name, now, rowID); err != nil {
			return fmt.Errorf("store voice audio: %w", err)
		}
		if undo, err = s.o.Recordings.Keep(ctx, name, a.rec.tmp); err != nil {
			return fmt.Errorf("store recording: %w", err)
		}
		stored = true
		return nil
	})
	if err != nil {
		return false, err // the deferred undo removes a kept file
	}
	kept = true
	if !stored {
		a.Discard()
		return false, nil
	}
	if replaced != "" {
		s.removeRecording(ctx, replaced)
	}
	return true, nil
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.o.Now() }
