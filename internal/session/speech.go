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

// speechesPerTurn is how often one session may have each of its tutor
// turns spoken, on average: a replay or two, never a loop.
const speechesPerTurn = 3

// speechCount is how many times a session's replies were spoken in this
// process, kept until the session is over.
type speechCount struct {
	n       int
	expires time.Time
}

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
	if err := s.countSpeech(sess); err != nil {
		return Session{}, "", err
	}
	return sess, text, nil
}

// countSpeech bounds what one session may have spoken: each reply paid
// for again and again would make the route a loop on the school's voice
// account. The bound is speechesPerTurn times the session's possible tutor
// turns (its opening and one per student message).
func (s *Service) countSpeech(sess Session) error {
	limit := speechesPerTurn * (s.o.MaxTurns + 1)
	now := s.o.Now()
	s.speechMu.Lock()
	defer s.speechMu.Unlock()
	if s.speeches == nil {
		s.speeches = map[int64]*speechCount{}
	}
	for id, c := range s.speeches {
		if now.After(c.expires) {
			delete(s.speeches, id)
		}
	}
	c := s.speeches[sess.ID]
	if c == nil {
		c = &speechCount{expires: sess.ExpiresAt.Add(SpeechGrace)}
		s.speeches[sess.ID] = c
	}
	if c.n >= limit {
		// Waiting does not help this session; Retry-After says when it is over.
		wait := max((c.expires.Sub(now) + time.Second - 1).Truncate(time.Second), time.Second)
		return errs.TooManyRetry(fmt.Sprintf("this session's replies have been spoken %d times, its limit; the text of every reply is in the transcript", limit), wait)
	}
	c.n++
	return nil
}
