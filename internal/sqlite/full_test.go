package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// A full disk fails writes with an error IsFull recognises, leaves reads
// working and nothing of the failed writes behind, and once space is freed
// the same open database writes again: no restart.
func TestWritesFailClearlyOnAFullDiskAndResumeWhenFreed(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file on a full disk; PostgreSQL's disk is the database server's")
	ctx := context.Background()
	dir := testenv.SmallDisk(t, 2*sqlite.DiskReserve)
	db := open(t, filepath.Join(dir, "socratic.db"))
	var logged bytes.Buffer
	db.Disk.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	if db.Disk.Full() {
		t.Fatal("an empty disk of twice the reserve counts as full")
	}
	if _, err := db.Write.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)`); err != nil {
		t.Fatal(err)
	}
	row := bytes.Repeat([]byte("x"), 64<<10)
	insert := func(tag string) error {
		return db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES (?)`, append([]byte(tag), row...))
			return err
		})
	}
	for i := range 4 {
		if err := insert(fmt.Sprint("before-", i)); err != nil {
			t.Fatal(err)
		}
	}
	filler := filepath.Join(dir, "filler")
	testenv.Fill(t, filler)
	// A look taken before the fill is trusted for a second.
	waitFor(t, "Disk.Full on a disk with no space left", db.Disk.Full)

	// Enough rows that the log cannot take them by reusing its own space.
	var full error
	for i := range 64 {
		if full = insert(fmt.Sprint("full-", i)); full != nil {
			break
		}
	}
	if full == nil {
		t.Fatal("64 writes of 64 KB succeeded on a full disk")
	}
	if !sqlite.IsFull(full) {
		t.Fatalf("batched write on a full disk: %v (%T); IsFull says no", full, errors.Unwrap(full))
	}
	tx, err := db.Write.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES (?)`, bytes.Repeat(row, 16))
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
	}
	if !sqlite.IsFull(err) {
		t.Fatalf("a 1 MB transaction on a full disk: %v; want an error IsFull recognises", err)
	}
	var n int
	if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM notes`).Scan(&n); err != nil {
		t.Fatalf("read on a full disk: %v", err)
	}
	if !db.Disk.Saw(full) || db.Disk.Saw(errors.New("some other failure")) {
		t.Fatal("Disk.Saw does not tell a full disk's error from another")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// After Saw the next question looks again, and finds the space.
	if db.Disk.Full() {
		t.Fatal("Disk.Full is still true after the filler was removed")
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[0], "disk holding the database is full") ||
		!strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "has space again") {
		t.Fatalf("want one line when the disk filled and one when it had space again, got:\n%s", logged.String())
	}
	if err := insert("after"); err != nil {
		t.Fatalf("batched write after space was freed: %v", err)
	}
	tx, err = db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("transaction after space was freed: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES ('after-tx')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit after space was freed: %v", err)
	}
	var after int
	if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM notes`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != n+2 {
		t.Fatalf("%d rows after two writes on a freed disk, %d before: a failed write left something behind or a write was lost", after, n)
	}
	var check string
	if err := db.Read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
}

func TestIsFull(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"enospc-wrapped", fmt.Errorf("store upload: %w", &os.PathError{Op: "write", Path: "/d/f", Err: syscall.ENOSPC}), true},
		{"eio", &os.PathError{Op: "write", Path: "/d/f", Err: syscall.EIO}, false},
		{"other", errors.New("database or disk is full"), false}, // text alone is not trusted
	} {
		if got := sqlite.IsFull(c.err); got != c.want {
			t.Errorf("%s: IsFull(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// waitFor polls cond until it holds, failing after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 10 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A write that fills the database mid-statement (SQLITE_FULL, here from a
// page limit) can roll back the batch's whole transaction, savepoint and
// all; the write is still told it met a full disk, and the connection is
// clean for the next batch.
func TestBatchedWriteThatFillsTheDatabase(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file on a full disk; PostgreSQL's disk is the database server's")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "socratic.db"))
	if _, err := db.Write.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)`); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := db.Write.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	err := db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES (?)`, bytes.Repeat([]byte("x"), 1<<20))
		return err
	})
	if !sqlite.IsFull(err) {
		t.Fatalf("a batched write past the page limit: %v; want an error IsFull recognises", err)
	}
	if _, err := db.Write.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES ('fits')`)
		return err
	}); err != nil {
		t.Fatalf("the next batch: %v", err)
	}
}

// A full-disk error from another disk (a recordings folder elsewhere,
// SQLite's temporary files) is still answered as a full disk, but does not
// mark the database's disk full nor tell the operator it is.
func TestSawAnotherDisksFullError(t *testing.T) {
	var logged bytes.Buffer
	d := sqlite.NewDisk(t.TempDir(), 1) // a temporary directory has more than a byte free
	d.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	if !d.Saw(fmt.Errorf("write recording: %w", syscall.ENOSPC)) {
		t.Fatal("Saw: ENOSPC not taken for a full disk")
	}
	if d.Full() {
		t.Error("the database's disk counts as full after another disk's ENOSPC")
	}
	if logged.Len() != 0 {
		t.Errorf("logged for another disk's error: %s", logged.String())
	}
	if d.Saw(errors.New("some other failure")) {
		t.Error("Saw: a plain error taken for a full disk")
	}
}
