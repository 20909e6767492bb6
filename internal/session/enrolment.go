package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// ErrNoLongerEnrolled refuses a message in a session whose student has
// been removed from its course since it started. The session stays open
// until its clock runs out or its student ends it (and its recording may
// still be sent), but it takes no more messages.
var ErrNoLongerEnrolled = errs.New(errs.Forbidden, "you are no longer enrolled in this course, so this session can take no more messages")

// mayStillStudy asks the course policy again, inside the turn's write, so
// a removal takes effect at the very next message. A deleted course is
// another matter: its sessions outlive it and talk on until their clock
// runs out (API.md), so only a course that still exists, the same one
// (SQLite may have given its id to another), is asked about.
//
// The policy is asked first: when it lets u study there, the answer is
// yes whether or not the course is the session's own, so a turn (the
// usual case) costs one query, and whether the course still exists is
// asked only of a refusal.
func mayStillStudy(ctx context.Context, tx sqlite.Execer, u auth.User, sess Session) error {
	err := course.MayStudy(ctx, tx, u, sess.CourseID)
	if err == nil {
		return nil
	}
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM courses WHERE id = ? AND created_at = ?`, sess.CourseID, sess.CourseCreatedAt).Scan(&exists); err != nil {
		return fmt.Errorf("check enrolment: %w", err)
	}
	if !exists {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) && (e.Code == errs.NotFound || e.Code == errs.Forbidden) {
		return ErrNoLongerEnrolled
	}
	return err
}
