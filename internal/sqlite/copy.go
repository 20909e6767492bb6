package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
)

// CopyTo writes a consistent copy of the database at src into the new
// file dst with VACUUM INTO, through a connection of its own. It reads in
// one read transaction, so it sees every transaction committed before it
// began — in the main file or still in the write-ahead log, which is what
// copying socratic.db with cp misses — and none after; in WAL mode the
// server's writers do not wait for it. The copy is a single file (no -wal)
// and is synced before CopyTo returns.
func CopyTo(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("copy database: %s already exists", dst)
	}
	db, err := OpenFile(src)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("copy database: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("copy database: %w", err)
	}
	return f.Close()
}

// OpenFile opens an existing database file with one connection and a busy
// timeout, for tools that read or check it (backup, restore); it never
// creates the file or changes its journal mode.
func OpenFile(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?mode=rw&_pragma=busy_timeout("+busyTimeoutMS+")")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns nil when SQLite
// answers "ok", else an error holding its first complaints.
func IntegrityCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		lines = append(lines, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(lines) == 1 && lines[0] == "ok" {
		return nil
	}
	if len(lines) > 5 {
		lines = append(lines[:5], "…")
	}
	return fmt.Errorf("integrity check failed: %s", strings.Join(lines, "; "))
}

// LatestVersion is the newest schema version (goose migration) this
// binary knows: the largest number among the embedded migration files.
func LatestVersion() (int64, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	latest := int64(0)
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err != nil {
			return 0, fmt.Errorf("migrations: %s: %w", e.Name(), err)
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// SchemaVersion is the newest migration applied to db (0 for a database
// goose has never touched).
func SchemaVersion(ctx context.Context, db *sql.DB) (int64, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") || isUndefinedTable(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v.Int64, nil
}

// checkNotNewer refuses a database whose schema is newer than this
// binary's migrations.
func (db *DB) checkNotNewer(ctx context.Context) error {
	latest, err := LatestVersion()
	if err != nil {
		return err
	}
	v, err := SchemaVersion(ctx, db.Write)
	if err != nil {
		return err
	}
	if v > latest {
		return fmt.Errorf("the database is at schema version %d, newer than this binary knows (%d): a newer socratic migrated it; run that version, or roll back with its `socratic migrate down` first", v, latest)
	}
	return nil
}
