package course

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// Join enrols a student in the course whose join code they typed. Joining a
// course twice is not an error. Wrong codes are counted per student; after
// joinMaxFailures in joinWindow the student waits, so codes cannot be swept.
func (s *Service) Join(ctx context.Context, u auth.User, joinCode string) (Course, error) {
	if !CanJoin(u) {
		return Course{}, ErrCannotJoin
	}
	code, err := normalizeJoinCode(joinCode)
	if err != nil {
		return Course{}, err
	}
	// auth.Erase deletes this key's counts with the account (eraseThrottles).
	key := "join:" + strconv.FormatInt(u.ID, 10)
	if wait, blocked, err := s.joins.Blocked(ctx, key); err != nil {
		return Course{}, err
	} else if blocked {
		return Course{}, errs.TooManyRetry("too many wrong join codes; try again later", wait)
	}
	c, err := s.write(ctx, "join course", func(tx *sql.Tx) (Course, error) {
		r, err := findCourseByJoinCode(ctx, tx, u.ID, code)
		if err != nil {
			return Course{}, err
		}
		added, err := enroll(ctx, tx, r.ID, u.ID, sqlite.FormatTime(s.now()))
		if err != nil {
			return Course{}, err
		}
		if added {
			if err := s.record(ctx, tx, u, audit.EnrollmentAdd, "course", r.ID, map[string]any{"student_id": u.ID, "via": "join_code"}); err != nil {
				return Course{}, err
			}
		}
		return AuthorizeCourse(ctx, tx, u, r.ID, View)
	})
	if err == ErrUnknownJoinCode {
		if ferr := s.joins.Fail(ctx, key); ferr != nil {
			return Course{}, ferr
		}
	}
	return c, err
}

// EnrollResult says what became of each address an instructor sent.
type EnrollResult struct {
	Enrolled    []string // now enrolled (including those enrolled before)
	NotFound    []string // no account has this address (or it is not an address)
	NotStudents []string // the account is a professor's or an admin's
}

// EnrollByEmail enrols the students with these addresses. Addresses are
// compared without case and repeats are dropped; the answer lists every
// distinct address once, in the order sent.
func (s *Service) EnrollByEmail(ctx context.Context, u auth.User, courseID int64, emails []string) (EnrollResult, error) {
	res := EnrollResult{Enrolled: []string{}, NotFound: []string{}, NotStudents: []string{}}
	_, err := s.write(ctx, "enroll students", func(tx *sql.Tx) (Course, error) {
		if _, err := AuthorizeCourse(ctx, tx, u, courseID, Teach); err != nil {
			return Course{}, err
		}
		if len(emails) > MaxEmails {
			return Course{}, errs.InvalidFields(errs.FieldError{Field: "emails", Message: "may list at most 500 addresses; send them in several requests"})
		}
		type item struct {
			given, norm string
		}
		var items []item
		var valid []string
		seen := map[string]bool{}
		for _, e := range emails {
			norm, fe := auth.NormalizeEmail(e)
			key := norm
			if fe != nil {
				key = "\x00" + e
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			items = append(items, item{given: e, norm: norm})
			if fe == nil {
				valid = append(valid, norm)
			}
		}
		accounts, err := accountsByEmail(ctx, tx, valid)
		if err != nil {
			return Course{}, err
		}
		at := sqlite.FormatTime(s.now())
		for _, it := range items {
			a, ok := accounts[it.norm]
			switch {
			case it.norm == "" || !ok:
				res.NotFound = append(res.NotFound, it.given)
			case a.role != auth.RoleStudent:
				res.NotStudents = append(res.NotStudents, it.norm)
			default:
				added, err := enroll(ctx, tx, courseID, a.id, at)
				if err != nil {
					return Course{}, err
				}
				if added {
					if err := s.record(ctx, tx, u, audit.EnrollmentAdd, "course", courseID, map[string]any{"student_id": a.id, "via": "instructor"}); err != nil {
						return Course{}, err
					}
				}
				res.Enrolled = append(res.Enrolled, it.norm)
			}
		}
		return Course{}, nil
	})
	if err != nil {
		return EnrollResult{}, err
	}
	return res, nil
}

// RemoveStudent ends a student's enrolment. Their past sessions stay.
func (s *Service) RemoveStudent(ctx context.Context, u auth.User, courseID, userID int64) error {
	_, err := s.write(ctx, "remove student", func(tx *sql.Tx) (Course, error) {
		if _, err := AuthorizeCourse(ctx, tx, u, courseID, Teach); err != nil {
			return Course{}, err
		}
		removed, err := unenroll(ctx, tx, courseID, userID)
		if err != nil {
			return Course{}, err
		}
		if !removed {
			return Course{}, ErrNotEnrolled
		}
		return Course{}, s.record(ctx, tx, u, audit.EnrollmentRemove, "course", courseID, map[string]any{"student_id": userID})
	})
	return err
}

// ListStudents lists the students enrolled in a course, by username.
func (s *Service) ListStudents(ctx context.Context, u auth.User, courseID int64, limit, offset int) ([]auth.User, int, error) {
	if _, err := AuthorizeCourse(ctx, s.db.Read, u, courseID, Teach); err != nil {
		return nil, 0, err
	}
	return listStudents(ctx, s.db.Read, courseID, limit, offset)
}
