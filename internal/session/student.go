package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// StudentInfo names a session's student for the people who review it: a
// professor reading a list of user ids cannot tell who held which session.
type StudentInfo struct {
	Username, FullName, Email string
}

// namesStudents reports whether u is shown who held a session: professors
// and admins are; a student reads only their own sessions and needs no
// name on them (the contract gives the name to instructors and admins).
func namesStudents(u auth.User) bool { return u.Role != auth.RoleStudent }

// attachStudents fills Student on each session for a viewer who is shown
// names, with one query for the lot.
func attachStudents(ctx context.Context, ex sqlite.Execer, u auth.User, ss []Session) error {
	if !namesStudents(u) || len(ss) == 0 {
		return nil
	}
	ids := make([]any, 0, len(ss))
	seen := map[int64]bool{}
	for _, s := range ss {
		if !seen[s.UserID] {
			seen[s.UserID] = true
			ids = append(ids, s.UserID)
		}
	}
	q := `SELECT id, username, full_name, email FROM users WHERE id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	rows, err := ex.QueryContext(ctx, q, ids...)
	if err != nil {
		return fmt.Errorf("session students: %w", err)
	}
	defer rows.Close()
	byID := map[int64]*StudentInfo{}
	for rows.Next() {
		var id int64
		st := &StudentInfo{}
		if err := rows.Scan(&id, &st.Username, &st.FullName, &st.Email); err != nil {
			return fmt.Errorf("session students: %w", err)
		}
		byID[id] = st
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("session students: %w", err)
	}
	for i := range ss {
		ss[i].Student = byID[ss[i].UserID]
	}
	return nil
}
