package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// User is an account. PasswordHash never leaves this package's callers'
// servers: the HTTP layer's converter has no field for it.
type User struct {
	ID           int64
	Email        string
	Username     string
	FullName     string
	Role         Role
	IsActive     bool
	TokenVersion int64
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ErrUserNotFound is returned when no user has the id asked for.
var ErrUserNotFound = errs.New(errs.NotFound, "user not found")

const userColumns = `id, email, username, full_name, role, is_active, token_version, password_hash, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

// UserColumns and ScanUser let another package's store read users (a
// course's students, say) with this one definition of the row.
const UserColumns = userColumns

// ScanUser reads one row selected with UserColumns.
func ScanUser(s interface{ Scan(dest ...any) error }) (User, error) { return scanUser(s) }

func scanUser(s scanner) (User, error) {
	var u User
	var role, created, updated string
	if err := s.Scan(&u.ID, &u.Email, &u.Username, &u.FullName, &role, &u.IsActive, &u.TokenVersion, &u.PasswordHash, &created, &updated); err != nil {
		return User{}, err
	}
	u.Role = Role(role)
	var err error
	if u.CreatedAt, err = sqlite.ParseTime(created); err != nil {
		return User{}, err
	}
	if u.UpdatedAt, err = sqlite.ParseTime(updated); err != nil {
		return User{}, err
	}
	return u, nil
}

// The store's SQL is written once for both engines (SQLite's placeholders,
// which the PostgreSQL driver rewrites; TRUE and FALSE for booleans, which
// SQLite reads as 1 and 0; RETURNING), except for these per-engine
// statements.
var (
	// userForUpdate reads a user that the transaction is about to change.
	// PostgreSQL locks the row, so two instances changing one account
	// (two logouts, a logout and a role change) take turns instead of one
	// overwriting the other's token_version. SQLite has no FOR UPDATE and
	// needs none: the write transaction (BEGIN IMMEDIATE) already holds
	// the one write lock.
	userForUpdate = map[sqlite.Engine]string{
		sqlite.SQLite:   `SELECT ` + userColumns + ` FROM users WHERE id = ?`,
		sqlite.Postgres: `SELECT ` + userColumns + ` FROM users WHERE id = ? FOR UPDATE`,
	}
)

func findUserByID(ctx context.Context, ex sqlite.Execer, id int64) (User, error) {
	return findUser(ctx, ex, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
}

func findUser(ctx context.Context, ex sqlite.Execer, q string, id int64) (User, error) {
	u, err := scanUser(ex.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("find user %d: %w", id, err)
	}
	return u, nil
}

// findUserByLogin finds a user by username or email (either, case-insensitive).
func findUserByLogin(ctx context.Context, ex sqlite.Execer, login string) (User, error) {
	u, err := scanUser(ex.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?1 OR email = ?1 LIMIT 1`, login))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("find user by login: %w", err)
	}
	return u, nil
}

// checkTaken returns a conflict naming what is already in use.
func checkTaken(ctx context.Context, ex sqlite.Execer, email, username string) error {
	var emailTaken, usernameTaken bool
	const q = `SELECT EXISTS(SELECT 1 FROM users WHERE email = ?), EXISTS(SELECT 1 FROM users WHERE username = ?)`
	if err := ex.QueryRowContext(ctx, q, email, username).Scan(&emailTaken, &usernameTaken); err != nil {
		return fmt.Errorf("check taken: %w", err)
	}
	switch {
	case emailTaken && usernameTaken:
		return errs.New(errs.Conflict, "that email and username are already registered")
	case emailTaken:
		return errs.New(errs.Conflict, "that email is already registered")
	case usernameTaken:
		return errs.New(errs.Conflict, "that username is taken")
	}
	return nil
}

func insertUser(ctx context.Context, ex sqlite.Execer, u *User) error {
	now := sqlite.FormatTime(u.CreatedAt)
	const q = `INSERT INTO users (email, username, full_name, password_hash, role, is_active, token_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, TRUE, 0, ?, ?) RETURNING id`
	if err := ex.QueryRowContext(ctx, q, u.Email, u.Username, u.FullName, u.PasswordHash, string(u.Role), now, now).Scan(&u.ID); err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	u.IsActive = true
	return nil
}

// updateUser writes the mutable fields of u.
func updateUser(ctx context.Context, ex sqlite.Execer, u User) error {
	const q = `UPDATE users SET full_name = ?, role = ?, is_active = ?, token_version = ?, password_hash = ?, updated_at = ? WHERE id = ?`
	if _, err := ex.ExecContext(ctx, q, u.FullName, string(u.Role), u.IsActive, u.TokenVersion, u.PasswordHash, sqlite.FormatTime(u.UpdatedAt), u.ID); err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return nil
}

// ListFilter selects users; zero values mean "any".
type ListFilter struct {
	Role   Role
	Query  string
	Limit  int
	Offset int
}

func listUsers(ctx context.Context, db *sql.DB, f ListFilter) ([]User, int, error) {
	var where []string
	var args []any
	if f.Role != "" {
		where = append(where, "role = ?")
		args = append(args, string(f.Role))
	}
	if f.Query != "" {
		pat := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		where = append(where, `(lower(email) LIKE ? ESCAPE '\' OR lower(username) LIKE ? ESCAPE '\' OR lower(full_name) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT `+userColumns+` FROM users`+cond+` ORDER BY id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return out, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func countByRole(ctx context.Context, db *sql.DB) (map[Role]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT role, count(*) FROM users GROUP BY role`)
	if err != nil {
		return nil, fmt.Errorf("count users by role: %w", err)
	}
	defer rows.Close()
	out := map[Role]int{}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("count users by role: %w", err)
		}
		out[Role(r)] = n
	}
	return out, rows.Err()
}

// HasUsers says whether any account exists: on an empty database, serve
// says how to create the first admin.
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	var found bool
	if err := s.db.Read.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM users)`).Scan(&found); err != nil {
		return false, fmt.Errorf("count users: %w", err)
	}
	return found, nil
}
