// Package sqlite opens the server's one SQLite database: a pool of read
// connections and a single write connection, with every pragma in the DSN so
// each pooled connection gets it, and embedded numbered migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go, FTS5 built in)
)

//go:embed migrations/*.sql
var migrations embed.FS

// pgMigrations are migrations' PostgreSQL twins: the same numbers, the same
// tables, columns and indexes (TestSchemasAgree compares them), in
// PostgreSQL's words.
//
//go:embed postgres/*.sql
var pgMigrations embed.FS

// DB is the database: Read is a pool for queries, Write is one connection that
// serialises every write (SQLite allows one writer; queueing in Go is cheaper
// and fairer than SQLITE_BUSY retries).
type DB struct {
	// Engine is SQLite (Open) or Postgres (OpenPostgres).
	Engine Engine
	Read   *sql.DB
	Write  *sql.DB
	// Batch commits small, frequent writes (a tutoring turn) together on
	// Write; see Batcher.
	Batch *Batcher
	// ReadStmts and WriteStmts run the frequent queries (a turn's) as
	// prepared statements on Read and Write; see Stmts. On the write side
	// use only WriteStmts.In(tx) inside a Batcher's function: WriteStmts'
	// own methods would wait for the one connection that tx holds.
	ReadStmts, WriteStmts *Stmts
	Path                  string
	// Disk watches the free space where the database lives: writers that
	// must not start on a full disk (an upload, a turn) ask it first.
	Disk *Disk

	pgConfig *pgx.ConnConfig // PostgreSQL's connection settings (see PgxPool)
}

const busyTimeoutMS = "5000"

// pragmas apply to every connection. busy_timeout comes first so the others
// wait rather than fail while another process holds a lock.
// synchronous=FULL: an acknowledged write (a transcript turn) survives power
// loss, not just a process crash.
const pragmas = "_pragma=busy_timeout(" + busyTimeoutMS + ")&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)"

// Open opens (creating if needed) the database file at path. The parent
// directory is created; a new file is readable by its owner only.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// SQLite creates -wal and -shm files with the main file's mode, so making
	// the main file 0600 first keeps all three private.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	f.Close()

	base := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + pragmas
	// BEGIN IMMEDIATE takes the write lock when the transaction starts, so a
	// transaction that reads then writes cannot fail half-way with SQLITE_BUSY.
	// secure_delete on the write connection (the only one that writes):
	// a deleted or overwritten row's bytes are zeroed instead of left in a
	// free page or a cell's old space, so an erased account cannot be read
	// back from the file. Zeroing has to be on for every write, not just
	// the erasure: a row updated before (a sign-in, a turn's answer) leaves
	// its older copy behind. BenchmarkSecureDelete measures the cost.
	write, err := sql.Open("sqlite", base+"&_pragma=secure_delete(ON)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)

	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	read.SetConnMaxLifetime(0)

	db := &DB{Engine: SQLite, Read: read, Write: write, Batch: NewBatcher(write), ReadStmts: NewStmts(read), WriteStmts: NewStmts(write), Path: abs, Disk: NewDisk(filepath.Dir(abs), DiskReserve)}
	db.Batch.stmts = db.WriteStmts
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := write.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	if err := read.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	return db, nil
}

// Close closes both pools; the write pool last so the WAL is checkpointed by
// the final connection.
func (db *DB) Close() error {
	db.ReadStmts.Close()
	db.WriteStmts.Close()
	if db.Write == db.Read { // PostgreSQL's one pool
		return db.Read.Close()
	}
	return errors.Join(db.Read.Close(), db.Write.Close())
}

// TruncateWAL copies the write-ahead log into the database file and cuts
// the log to zero bytes, so that page versions a commit replaced (an erased
// account's rows among them) no longer sit in the log. A reader in the
// middle of a query keeps its snapshot's frames alive; the checkpoint is
// retried briefly with a short busy timeout (the write connection waits
// meanwhile), and the result says whether the log was truncated.
func (db *DB) TruncateWAL(ctx context.Context) (bool, error) {
	if db.Engine == Postgres {
		return false, errors.New("checkpoint: PostgreSQL has no SQLite write-ahead log to truncate")
	}
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 200`); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	// A fresh context: the normal timeout must come back even when ctx is done.
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = `+busyTimeoutMS)
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
			}
		}
		var busy, logFrames, done int
		if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return false, fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			return true, nil
		}
	}
	return false, nil
}

// Migrator returns the goose provider for the embedded migrations of the
// DB's engine.
func (db *DB) Migrator() (*goose.Provider, error) {
	dialect, fsys, err := db.migrationFiles()
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, db.Write, fsys)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// migrationFiles are the engine's goose dialect and migration files.
func (db *DB) migrationFiles() (goose.Dialect, fs.FS, error) {
	if db.Engine == Postgres {
		fsys, err := fs.Sub(pgMigrations, "postgres")
		return goose.DialectPostgres, fsys, err
	}
	fsys, err := fs.Sub(migrations, "migrations")
	return goose.DialectSQLite3, fsys, err
}

// Migrate applies every pending migration. A database migrated by a newer
// version (a rollback done by swapping the binary alone) is refused:
// this binary would run on tables it does not know.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.Migrator()
	if err != nil {
		return err
	}
	if err := db.checkNotNewer(ctx); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Ready reports nil when the database answers and every migration is applied.
func (db *DB) Ready(ctx context.Context) error {
	p, err := db.Migrator()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check migrations: %w", err)
	}
	if pending {
		return errors.New("database has pending migrations")
	}
	return nil
}

// Execer is what a store helper needs to run a statement inside or outside a
// transaction.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// timeLayout is fixed-width so stored timestamps sort as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t as stored: UTC, microseconds, fixed width.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time written by FormatTime. Every row read carries
// a few, so the fixed-width form is read by hand; anything else (a value
// out of range, a different shape) goes to time.Parse, whose answer and
// error it then is.
func ParseTime(s string) (time.Time, error) {
	if t, ok := parseFixedTime(s); ok {
		return t, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}

// parseFixedTime reads timeLayout's 27 bytes, 2006-01-02T15:04:05.000000Z,
// when each field is in time.Parse's range; ok is false otherwise.
func parseFixedTime(s string) (t time.Time, ok bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, j int) int {
		n := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, micro := num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || micro < 0 {
		return time.Time{}, false
	}
	if day > 28 && day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC), true
}

// daysIn is the number of days in month of year.
func daysIn(month time.Month, year int) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
