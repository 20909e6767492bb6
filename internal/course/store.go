package course

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// courseRow is a course with what the viewer (?1 in the query) is to it.
type courseRow struct {
	Course
	m Membership
}

// courseSelect reads a course, its instructors, and the viewer's membership;
// ?1 is the viewer's user id. The instructors' ids come as a JSON array
// built with string_agg, which SQLite (3.44 and later) and PostgreSQL both
// have, so the query is the same on both engines.
const courseSelect = `SELECT c.id, c.code, c.name, c.description, c.professor_name, c.join_code, c.created_at, c.updated_at,
	'[' || coalesce((SELECT string_agg(CAST(user_id AS TEXT), ',' ORDER BY user_id) FROM course_instructors WHERE course_id = c.id), '') || ']',
	EXISTS(SELECT 1 FROM course_instructors WHERE course_id = c.id AND user_id = ?1),
	EXISTS(SELECT 1 FROM enrollments WHERE course_id = c.id AND user_id = ?1)
	FROM courses c`

type scanner interface{ Scan(dest ...any) error }

func scanCourse(s scanner) (courseRow, error) {
	var r courseRow
	var created, updated, instructors string
	if err := s.Scan(&r.ID, &r.Code, &r.Name, &r.Description, &r.ProfessorName, &r.JoinCode, &created, &updated,
		&instructors, &r.m.Instructor, &r.m.Enrolled); err != nil {
		return courseRow{}, err
	}
	if err := json.Unmarshal([]byte(instructors), &r.InstructorIDs); err != nil {
		return courseRow{}, fmt.Errorf("course %d instructors: %w", r.ID, err)
	}
	var err error
	if r.CreatedAt, err = sqlite.ParseTime(created); err != nil {
		return courseRow{}, err
	}
	if r.UpdatedAt, err = sqlite.ParseTime(updated); err != nil {
		return courseRow{}, err
	}
	return r, nil
}

func findCourse(ctx context.Context, ex sqlite.Execer, viewerID, id int64) (courseRow, error) {
	r, err := scanCourse(ex.QueryRowContext(ctx, courseSelect+` WHERE c.id = ?2`, viewerID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return courseRow{}, ErrCourseNotFound
	}
	if err != nil {
		return courseRow{}, fmt.Errorf("find course %d: %w", id, err)
	}
	return r, nil
}

func findCourseByJoinCode(ctx context.Context, ex sqlite.Execer, viewerID int64, code string) (courseRow, error) {
	r, err := scanCourse(ex.QueryRowContext(ctx, courseSelect+` WHERE c.join_code = ?2`, viewerID, code))
	if errors.Is(err, sql.ErrNoRows) {
		return courseRow{}, ErrUnknownJoinCode
	}
	if err != nil {
		return courseRow{}, fmt.Errorf("find course by join code: %w", err)
	}
	return r, nil
}

// listCourses returns the courses a viewer of this role may see, by code:
// the same rule as CanView, written as SQL.
func listCourses(ctx context.Context, db *sql.DB, viewerID int64, role auth.Role, limit, offset int) ([]courseRow, int, error) {
	var cond string
	switch role {
	case auth.RoleAdmin:
		// Every course; ?1 bound like the others (its type given, since
		// PostgreSQL cannot guess one from IS NOT NULL alone).
		cond = ` WHERE CAST(?1 AS bigint) IS NOT NULL`
	case auth.RoleProfessor:
		cond = ` WHERE EXISTS(SELECT 1 FROM course_instructors i WHERE i.course_id = c.id AND i.user_id = ?1)`
	case auth.RoleStudent:
		cond = ` WHERE EXISTS(SELECT 1 FROM enrollments e WHERE e.course_id = c.id AND e.user_id = ?1)`
	default:
		return nil, 0, fmt.Errorf("list courses: unknown role %q", role)
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM courses c`+cond, viewerID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count courses: %w", err)
	}
	rows, err := db.QueryContext(ctx, courseSelect+cond+` ORDER BY c.code LIMIT ?2 OFFSET ?3`, viewerID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list courses: %w", err)
	}
	defer rows.Close()
	var out []courseRow
	for rows.Next() {
		r, err := scanCourse(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list courses: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list courses: %w", err)
	}
	return out, total, nil
}

func codeTaken(ctx context.Context, ex sqlite.Execer, code string, exceptID int64) (bool, error) {
	var taken bool
	err := ex.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM courses WHERE code = ? AND id != ?)`, code, exceptID).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("check course code: %w", err)
	}
	return taken, nil
}

// freshJoinCode draws codes until one is unused. At 2^60 codes a repeat is
// all but impossible; the loop makes "unique" a fact, not a hope.
func freshJoinCode(ctx context.Context, ex sqlite.Execer) (string, error) {
	for range 5 {
		code := newJoinCode()
		var taken bool
		if err := ex.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM courses WHERE join_code = ?)`, code).Scan(&taken); err != nil {
			return "", fmt.Errorf("check join code: %w", err)
		}
		if !taken {
			return code, nil
		}
	}
	return "", errors.New("could not draw an unused join code")
}

func insertCourse(ctx context.Context, ex sqlite.Execer, c *Course, createdBy int64) error {
	const q = `INSERT INTO courses (code, name, description, professor_name, join_code, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	now := sqlite.FormatTime(c.CreatedAt)
	var by *int64
	if createdBy > 0 { // 0: the command line, acting for no account
		by = &createdBy
	}
	if err := ex.QueryRowContext(ctx, q, c.Code, c.Name, c.Description, c.ProfessorName, c.JoinCode, by, now, now).Scan(&c.ID); err != nil {
		if sqlite.IsUniqueViolation(err) {
			// Another course took the code between the check and the
			// insert (on PostgreSQL, where writers do not queue).
			return ErrDuplicateCode
		}
		return fmt.Errorf("insert course: %w", err)
	}
	return nil
}

func updateCourse(ctx context.Context, ex sqlite.Execer, c Course) error {
	const q = `UPDATE courses SET code = ?, name = ?, description = ?, professor_name = ?, join_code = ?, updated_at = ? WHERE id = ?`
	if _, err := ex.ExecContext(ctx, q, c.Code, c.Name, c.Description, c.ProfessorName, c.JoinCode, sqlite.FormatTime(c.UpdatedAt), c.ID); err != nil {
		return fmt.Errorf("update course %d: %w", c.ID, err)
	}
	return nil
}

// countBelow counts what deleting a course or a week takes with it, for the
// audit record. where filters weeks w.
func countBelow(ctx context.Context, ex sqlite.Execer, where string, id int64) (weeks, docs int, err error) {
	q := `SELECT count(DISTINCT w.id), count(d.id) FROM weeks w LEFT JOIN documents d ON d.week_id = w.id WHERE ` + where
	if err := ex.QueryRowContext(ctx, q, id).Scan(&weeks, &docs); err != nil {
		return 0, 0, fmt.Errorf("count contents: %w", err)
	}
	return weeks, docs, nil
}

// fileSums lists the content hashes of the documents of the weeks matched
// by where, so their files can be released once the rows are gone.
func fileSums(ctx context.Context, ex sqlite.Execer, where string, id int64) ([]string, error) {
	rows, err := ex.QueryContext(ctx, `SELECT DISTINCT d.sha256 FROM documents d JOIN weeks w ON w.id = d.week_id WHERE `+where, id)
	if err != nil {
		return nil, fmt.Errorf("list document files: %w", err)
	}
	defer rows.Close()
	var sums []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("list document files: %w", err)
		}
		sums = append(sums, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list document files: %w", err)
	}
	return sums, nil
}

func insertInstructor(ctx context.Context, ex sqlite.Execer, courseID, userID int64, at string) (bool, error) {
	res, err := ex.ExecContext(ctx, `INSERT INTO course_instructors (course_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, courseID, userID, at)
	if err != nil {
		return false, fmt.Errorf("add instructor: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// enroll adds a student; false when they were enrolled already.
func enroll(ctx context.Context, ex sqlite.Execer, courseID, userID int64, at string) (bool, error) {
	res, err := ex.ExecContext(ctx, `INSERT INTO enrollments (course_id, user_id, enrolled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, courseID, userID, at)
	if err != nil {
		return false, fmt.Errorf("enroll: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func unenroll(ctx context.Context, ex sqlite.Execer, courseID, userID int64) (bool, error) {
	res, err := ex.ExecContext(ctx, `DELETE FROM enrollments WHERE course_id = ? AND user_id = ?`, courseID, userID)
	if err != nil {
		return false, fmt.Errorf("unenroll: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// account is the little of a user that enrolment needs.
type account struct {
	id    int64
	email string
	role  auth.Role
}

// accountsByEmail finds the users with these (normalised) emails.
func accountsByEmail(ctx context.Context, ex sqlite.Execer, emails []string) (map[string]account, error) {
	out := map[string]account{}
	if len(emails) == 0 {
		return out, nil
	}
	args := make([]any, len(emails))
	for i, e := range emails {
		args[i] = e
	}
	q := `SELECT id, email, role FROM users WHERE email IN (?` + strings.Repeat(",?", len(emails)-1) + `)`
	rows, err := ex.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a account
		var role string
		if err := rows.Scan(&a.id, &a.email, &role); err != nil {
			return nil, fmt.Errorf("find users by email: %w", err)
		}
		a.role = auth.Role(role)
		out[strings.ToLower(a.email)] = a
	}
	return out, rows.Err()
}

func accountByID(ctx context.Context, ex sqlite.Execer, id int64) (account, bool, error) {
	var a account
	var role string
	err := ex.QueryRowContext(ctx, `SELECT id, email, role FROM users WHERE id = ?`, id).Scan(&a.id, &a.email, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, false, nil
	}
	if err != nil {
		return account{}, false, fmt.Errorf("find user %d: %w", id, err)
	}
	a.role = auth.Role(role)
	return a, true, nil
}

func listStudents(ctx context.Context, db *sql.DB, courseID int64, limit, offset int) ([]auth.User, int, error) {
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM enrollments WHERE course_id = ?`, courseID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count students: %w", err)
	}
	q := `SELECT ` + auth.UserColumns + ` FROM users WHERE id IN (SELECT user_id FROM enrollments WHERE course_id = ?)
		ORDER BY username LIMIT ? OFFSET ?`
	rows, err := db.QueryContext(ctx, q, courseID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list students: %w", err)
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := auth.ScanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list students: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list students: %w", err)
	}
	return out, total, nil
}

// Count counts every course (for the admin's stats).
func Count(ctx context.Context, ex sqlite.Execer) (int, error) {
	var n int
	if err := ex.QueryRowContext(ctx, `SELECT count(*) FROM courses`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count courses: %w", err)
	}
	return n, nil
}
