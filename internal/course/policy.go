package course

import (
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
)

// This file is the one place that decides who may do what to a course or a
// week. Handlers never look at roles themselves: they call a Service method,
// which asks Authorize (or one of the Can functions) and answers 404 for a
// course the user may not even see and 403 for one they see but may not
// change, so course and week ids cannot be probed.

// Membership is what one user is to one course.
type Membership struct {
	Instructor bool // listed in course_instructors
	Enrolled   bool // listed in enrollments
}

// Action is what a user wants to do to a course or one of its weeks.
type Action int

const (
	// View: read the course, its weeks and documents.
	View Action = iota
	// Teach: change the course, its weeks, instructors, enrollment and
	// readings, and see its join code and students.
	Teach
	// Study: hold tutoring sessions on a week and search its readings.
	Study
)

// CanTeach: admins teach every course; a professor teaches the courses they
// are an instructor of. An instructor row of a user who is no longer a
// professor (demoted by an admin) grants nothing.
func CanTeach(u auth.User, m Membership) bool {
	return u.Role == auth.RoleAdmin || (u.Role == auth.RoleProfessor && m.Instructor)
}

// CanView: whoever teaches a course, and the students enrolled in it. An
// enrolment of a user who is no longer a student (promoted by an admin)
// grants nothing: professors see the courses they teach.
func CanView(u auth.User, m Membership) bool {
	return CanTeach(u, m) || (u.Role == auth.RoleStudent && m.Enrolled)
}

// CanStudy: enrolled students study a course's weeks; its teachers and admins
// may try any of its weeks too (their sessions do not count against a quota,
// which the session capability decides). Today that is exactly who can view;
// it is a separate question so that a rule such as "weeks open on a date"
// has one place to go.
func CanStudy(u auth.User, m Membership) bool {
	return CanView(u, m)
}

// CanCreateCourse: professors and admins create courses.
func CanCreateCourse(u auth.User) bool {
	return u.Role == auth.RoleProfessor || u.Role == auth.RoleAdmin
}

// CanJoin: joining with a code is how students enrol themselves. Professors
// are made instructors and admins see everything already, so for them a join
// code is a mistake worth telling them about.
func CanJoin(u auth.User) bool { return u.Role == auth.RoleStudent }

// Allowed answers whether u may do a to a course they are m to.
func Allowed(u auth.User, m Membership, a Action) bool {
	switch a {
	case View:
		return CanView(u, m)
	case Teach:
		return CanTeach(u, m)
	case Study:
		return CanStudy(u, m)
	}
	return false
}

// decide turns the policy's answer into the error a caller returns: notFound
// when u may not see the thing at all, ErrNotInstructor when they see it but
// may not do a.
func decide(u auth.User, m Membership, a Action, notFound error) error {
	if Allowed(u, m, a) {
		return nil
	}
	if !CanView(u, m) {
		return notFound
	}
	if a == Teach {
		return ErrNotInstructor
	}
	return errs.New(errs.Forbidden, "you may not do that in this course")
}
