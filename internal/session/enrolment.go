package session

import (
	"context"
	"database/sql"
	"errors"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// ErrNoLongerEnrolled refuses a message in a session whose student has
// lost its course since it started: removed from it, or the course or
// week deleted. The session stays open until its clock runs out or its
// student ends it (and its recording may still be sent), but it takes no
// more messages.
var ErrNoLongerEnrolled = errs.New(errs.Forbidden, "you are no longer enrolled in this course, so this session can take no more messages")

// mayStillStudy asks the course policy again, inside the turn's write, so
// a removal takes effect at the very next message: the session's week
// must be one u may still study, and the same week it was (SQLite may
// have given a deleted week's id to another).
func mayStillStudy(ctx context.Context, tx *sql.Tx, u auth.User, sess Session) error {
	w, err := course.AuthorizeWeek(ctx, tx, u, sess.WeekID, course.Study)
	var e *errs.Error
	switch {
	case errors.As(err, &e) && (e.Code == errs.NotFound || e.Code == errs.Forbidden):
		return ErrNoLongerEnrolled
	case err != nil:
		return err
	case sqlite.FormatTime(w.CreatedAt) != sess.WeekCreatedAt:
		return ErrNoLongerEnrolled
	}
	return nil
}
