package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// pgDumpName is the PostgreSQL database inside a backup: pg_dump's custom
// format (compressed, restored by pg_restore).
const pgDumpName = "socratic.pgdump"

// EnginePostgres is Manifest.Engine for a backup of a PostgreSQL database.
const EnginePostgres = "postgres"

// BucketNote is what a backup says of a BLOB_URL bucket it did not copy.
const BucketNote = "the uploads and recordings in the BLOB_URL bucket are not copied: a bucket is kept by its provider's versioning (or replication), which keeps every version of every object for as long as it is told, without a second copy here"

// pgTool finds pg_dump or pg_restore: on PATH, else the newest of Debian's
// /usr/lib/postgresql/<version>/bin.
func pgTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob(filepath.Join("/usr/lib/postgresql", "*", "bin", name))
	slices.SortFunc(found, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	for _, p := range found {
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not on PATH nor in /usr/lib/postgresql/*/bin: install PostgreSQL's client programs (apt-get install postgresql-client), of the server's major version or newer", name)
}

func pgVersion(p string) int {
	v := 0
	fmt.Sscanf(filepath.Base(filepath.Dir(filepath.Dir(p))), "%d", &v)
	return v
}

// pgCommand runs tool with args on the database DATABASE_URL names. The
// password leaves the URL and goes to the tool in PGPASSWORD: never in
// argv (which ps shows every user), never in an error.
func pgCommand(ctx context.Context, tool, databaseURL string, args ...string) (*exec.Cmd, error) {
	path, err := pgTool(tool)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, errors.New("DATABASE_URL is not a readable URL")
	}
	password := ""
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			password = p
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	if p := q.Get("password"); p != "" {
		password = p
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	cmd := exec.CommandContext(ctx, path, append(args, "--dbname="+u.String())...)
	cmd.Env = os.Environ()
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	return cmd, nil
}

// run runs cmd and gives its error with what it said on stderr.
func run(cmd *exec.Cmd, what string) error {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return fmt.Errorf("%s: %w: %s", what, err, msg)
	}
	return nil
}

// queryer is a *sql.DB, *sql.Tx or *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// writePostgres dumps the database DATABASE_URL names into dir with
// pg_dump, in one snapshot: the schema version and the files the dump
// names are read in the transaction whose snapshot pg_dump exports from,
// so they match the dump exactly while the server keeps writing.
func writePostgres(ctx context.Context, src Source, dir string, m *Manifest) (sums, names []string, err error) {
	db, err := sqlite.OpenPostgres(ctx, src.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	conn, err := db.Read.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	var snapshot string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return nil, nil, fmt.Errorf("export snapshot: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&m.SchemaVersion); err != nil {
		return nil, nil, fmt.Errorf("schema version: %w (is this socratic's database, migrated?)", err)
	}
	if sums, names, err = referenced(ctx, tx); err != nil {
		return nil, nil, err
	}
	cmd, err := pgCommand(ctx, "pg_dump", src.DatabaseURL, "--format=custom", "--no-owner", "--no-privileges",
		"--snapshot="+snapshot, "--file="+filepath.Join(dir, pgDumpName))
	if err != nil {
		return nil, nil, err
	}
	if err := run(cmd, "pg_dump"); err != nil {
		return nil, nil, err
	}
	m.Engine = EnginePostgres
	return sums, names, tx.Rollback()
}

// restorePostgres restores a verified PostgreSQL backup: the uploads and
// recordings into UPLOAD_DIR and SESSION_DIR (each checked against its
// sha256 as written; a file already there with the same bytes is kept),
// then the database with pg_restore in one transaction, into a database
// that must be empty — the last step, so a failure before it leaves the
// database untouched and the restore can be run again.
func restorePostgres(ctx context.Context, from string, m Manifest, t Target, latest int64) error {
	db, err := sqlite.OpenPostgres(ctx, t.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var tables int
	if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables); err != nil {
		return err
	}
	if tables > 0 {
		return fmt.Errorf("restore refused, nothing was changed: DATABASE_URL's database already holds %d tables; a PostgreSQL restore goes into an empty database (createdb a new one and point DATABASE_URL at it)", tables)
	}
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		var dst string
		switch {
		case f.Path == pgDumpName:
			continue
		case strings.HasPrefix(f.Path, uploadDir+"/"):
			dst = filepath.Join(t.UploadDir, filepath.FromSlash(strings.TrimPrefix(f.Path, uploadDir+"/")))
		case strings.HasPrefix(f.Path, audioDir+"/"):
			dst = filepath.Join(t.AudioDir, filepath.FromSlash(strings.TrimPrefix(f.Path, audioDir+"/")))
		default:
			return fmt.Errorf("restore refused: %s has no place in a PostgreSQL restore", f.Path)
		}
		if got, err := hashFile(dst); err == nil && got.SHA256 == f.SHA256 {
			continue // a restore run before
		} else if err == nil {
			return fmt.Errorf("restore refused: %s exists with other bytes (sha256 %s); a restore never overwrites a file", dst, got.SHA256)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if err := copyFile(filepath.Join(from, filepath.FromSlash(f.Path)), dst); err != nil {
			return fmt.Errorf("restore: %s: %w", f.Path, err)
		}
		if got, err := hashFile(dst); err != nil || got.SHA256 != f.SHA256 {
			os.Remove(dst)
			return fmt.Errorf("restore refused: %s changed while it was copied", f.Path)
		}
	}
	cmd, err := pgCommand(ctx, "pg_restore", t.DatabaseURL, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
		filepath.Join(from, pgDumpName))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := run(cmd, "pg_restore"); err != nil {
		return fmt.Errorf("restore: the database was left as it was (one transaction): %w", err)
	}
	v, err := sqlite.SchemaVersion(ctx, db.Read)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if v != m.SchemaVersion || v > latest {
		return fmt.Errorf("restore: the restored database is at schema version %d; the manifest says %d and this binary knows up to %d", v, m.SchemaVersion, latest)
	}
	return nil
}
