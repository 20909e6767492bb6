package course

import (
	"context"
	"database/sql"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// ErrRegisterJoinCode refuses a registration whose join code opens no
// course. It is a field error (422), not Join's 404: the code is one field
// of the registration form, and the account is not made.
var ErrRegisterJoinCode = errs.InvalidFields(errs.FieldError{Field: "join_code", Message: "no course has this join code; check it with your professor"})

// JoinOnRegister is the enrolment a student asks for by registering with a
// join code, in the two steps auth.Registration runs: check, before the
// password is hashed, finds the course (wrong codes are counted per client
// address, as Join counts them per student); then, in the transaction that
// creates the account, reads the code again and enrols the new account, so a
// code regenerated in between refuses the registration and leaves no account
// behind.
func (s *Service) JoinOnRegister(joinCode, address string) (check func(context.Context) error, then func(context.Context, *sql.Tx, auth.User) error) {
	key := "join-addr:" + auth.AddressKey(address)
	check = func(ctx context.Context) error {
		code, err := normalizeJoinCode(joinCode)
		if err != nil {
			return err
		}
		if wait, blocked, err := s.joins.Blocked(ctx, key); err != nil {
			return err
		} else if blocked {
			return errs.TooManyRetry("too many wrong join codes; try again later", wait)
		}
		if _, err := findCourseByJoinCode(ctx, s.db.Read, 0, code); err == ErrUnknownJoinCode {
			if err := s.joins.Fail(ctx, key); err != nil {
				return err
			}
			return ErrRegisterJoinCode
		} else if err != nil {
			return err
		}
		return nil
	}
	then = func(ctx context.Context, tx *sql.Tx, u auth.User) error {
		code, err := normalizeJoinCode(joinCode)
		if err != nil {
			return err
		}
		r, err := findCourseByJoinCode(ctx, tx, u.ID, code)
		if err == ErrUnknownJoinCode {
			return ErrRegisterJoinCode
		} else if err != nil {
			return err
		}
		if _, err := enroll(ctx, tx, r.ID, u.ID, sqlite.FormatTime(s.now())); err != nil {
			return err
		}
		return s.record(ctx, tx, u, audit.EnrollmentAdd, "course", r.ID, map[string]any{"student_id": u.ID, "via": "join_code"})
	}
	return check, then
}
