package course

import "github.com/lawtutor/socratic/internal/errs"

var (
	ErrCourseNotFound  = errs.New(errs.NotFound, "course not found")
	ErrWeekNotFound    = errs.New(errs.NotFound, "week not found")
	ErrUnknownJoinCode = errs.New(errs.NotFound, "no course has that join code; check it with your professor")
	ErrNotEnrolled     = errs.New(errs.NotFound, "that user is not enrolled in this course")
	ErrDuplicateCode   = errs.New(errs.Conflict, "a course with that code already exists")
	ErrDuplicateWeek   = errs.New(errs.Conflict, "this course already has a week with that number")
	ErrNotInstructor   = errs.New(errs.Forbidden, "only the course's instructors and administrators may do that")
	ErrCannotCreate    = errs.New(errs.Forbidden, "only professors and administrators create courses")
	ErrCannotJoin      = errs.New(errs.Forbidden, "join codes are for students; an administrator can add you as an instructor instead")
)
