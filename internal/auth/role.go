package auth

import "github.com/lawtutor/socratic/internal/errs"

// Role is closed: only the three constants below exist.
type Role string

const (
	RoleStudent   Role = "student"
	RoleProfessor Role = "professor"
	RoleAdmin     Role = "admin"
)

// Roles lists every role, in order of privilege.
var Roles = []Role{RoleStudent, RoleProfessor, RoleAdmin}

// ParseRole accepts exactly one of the role names.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", errs.InvalidFields(errs.FieldError{Field: "role", Message: "must be student, professor or admin"})
}
