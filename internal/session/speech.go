package session

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
)

// SpeechGrace is how long past its clock a session's stored replies may
// still be spoken: the last answer, given just before the clock ran out,
// is heard whole. Never longer: speech is paid for per character.
const SpeechGrace = 30 * time.Second

// Errors of Speech.
var (
	ErrNoSuchTutorTurn = errs.New(errs.NotFound, "this session has no such tutor turn")
	ErrStudentTurn     = errs.InvalidFields(errs.FieldError{Field: "turn_id", Message: "is the student's turn: only the tutor's own stored words are spoken"})
)

// Speech is the stored words of a tutor turn of u's active session to be
// spoken: turnID's, or the latest tutor turn's when turnID is 0. Only the
// session's student may ask; never for an ended session or one past its
// clock (and SpeechGrace), so the school's voice account speaks nothing
// but the tutor's replies, in time.
func (s *Service) Speech(ctx context.Context, u auth.User, sessionID, turnID int64) (Session, string, error) {
	sess, err := owned(ctx, s.db.Read, u, sessionID)
	if err != nil {
		return Session{}, "", err
	}
	if sess.Status != Active {
		return Session{}, "", ErrEnded
	}
	if !s.o.Now().Before(sess.ExpiresAt.Add(SpeechGrace)) {
		return Session{}, "", ErrTimeUp
	}
	var role Role
	var text string
	if turnID == 0 {
		err = s.db.Read.QueryRowContext(ctx, `SELECT role, content FROM turns WHERE session_id = ? AND role = 'assistant' ORDER BY id DESC LIMIT 1`, sess.ID).Scan(&role, &text)
	} else {
		err = s.db.Read.QueryRowContext(ctx, `SELECT role, content FROM turns WHERE id = ? AND session_id = ?`, turnID, sess.ID).Scan(&role, &text)
	}
	if err == sql.ErrNoRows {
		return Session{}, "", ErrNoSuchTutorTurn
	}
	if err != nil {
		return Session{}, "", fmt.Errorf("speech: %w", err)
	}
	if role != Tutor {
		return Session{}, "", ErrStudentTurn
	}
	return sess, text, nil
}
