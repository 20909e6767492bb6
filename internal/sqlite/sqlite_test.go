package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
	"github.com/pressly/goose/v3"
)

func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migrated is a new, migrated SQLite database, for the tests of SQLite
// itself (its pragmas, pools, locks and WAL); the tests of what both
// engines must do use sqlitetest.Each.
func migrated(t *testing.T) *sqlite.DB {
	return migratedAt(t, filepath.Join(t.TempDir(), "socratic.db"))
}

func migratedAt(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db := open(t, path)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// migratedOn opens a database with open (an engine's) and migrates it.
func migratedOn(t *testing.T, open func(testing.TB) *sqlite.DB) *sqlite.DB {
	t.Helper()
	db := open(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func insertUser(db *sqlite.DB, email, username, role string) error {
	now := sqlite.FormatTime(time.Now())
	_, err := db.Write.Exec(`INSERT INTO users (email, username, password_hash, role, created_at, updated_at)
		VALUES (?, ?, 'x', ?, ?, ?)`, email, username, role, now, now)
	return err
}

func TestOpenCreatesAPrivateFileAndItsDirectory(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	path := filepath.Join(t.TempDir(), "nested", "deeper", "socratic.db")
	open(t, path)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestEveryPooledConnectionHasThePragmas(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	ctx := context.Background()
	db := migrated(t)
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000"}
	check := func(t *testing.T, c *sql.Conn, extra map[string]string) {
		for name, v := range extra {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil || got != v {
				t.Errorf("PRAGMA %s = %q (%v), want %q", name, got, err, v)
			}
		}
	}

	t.Run("write connection", func(t *testing.T) {
		c, err := db.Write.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check(t, c, want)
		check(t, c, map[string]string{"query_only": "0"})
	})

	t.Run("three read connections held at once", func(t *testing.T) {
		// Holding them forces three distinct connections, so a pragma run
		// once on the first connection (not in the DSN) would show here.
		var conns []*sql.Conn
		for range 3 {
			c, err := db.Read.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		for _, c := range conns {
			check(t, c, want)
			check(t, c, map[string]string{"query_only": "1"})
		}
	})
}

func TestReadPoolRefusesWrites(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	db := migrated(t)
	if err := insertUser(db, "ann@law.edu", "ann", "student"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE users SET role = 'admin'",
		"DELETE FROM users",
		"CREATE TABLE sneaky (x)",
	} {
		if _, err := db.Read.Exec(stmt); err == nil {
			t.Errorf("read pool ran %q", stmt)
		}
	}
	var role string
	if err := db.Read.QueryRow("SELECT role FROM users").Scan(&role); err != nil || role != "student" {
		t.Fatalf("role %q, %v: a write slipped through", role, err)
	}
}

func TestWritePoolIsOneConnection(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	db := open(t, filepath.Join(t.TempDir(), "x.db"))
	if n := db.Write.Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("write pool allows %d connections, want 1", n)
	}
}

// A write transaction must hold the write lock from BEGIN, before any
// statement: otherwise a read-then-write transaction can fail half-way.
func TestWriteTransactionTakesTheLockAtBegin(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	ctx := context.Background()
	db := migrated(t)
	other, err := sql.Open("sqlite", "file:"+db.Path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	oc, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()

	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = oc.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil {
		oc.ExecContext(ctx, "ROLLBACK")
		tx.Rollback()
		t.Fatal("another connection took the write lock while our transaction was open")
	}
	if msg := strings.ToLower(err.Error()); !strings.Contains(msg, "busy") && !strings.Contains(msg, "locked") {
		t.Fatalf("want a busy/locked error, got %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := oc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("after rollback: %v", err)
	}
	if _, err := oc.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// The DSN is a URI: characters that mean something in a URI must not cut the
// path short or send the data to another file.
func TestOpenPathsWithURICharacters(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	for _, dir := range []string{"with space", "hash #1", "what?x=1", "percent %41", "amp&_pragma=query_only(1)"} {
		t.Run(dir, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, dir, "socratic.db")
			db := migratedAt(t, path)
			if err := insertUser(db, "ann@law.edu", "ann", "student"); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			// Everything landed in the one intended file and directory.
			if ents, _ := os.ReadDir(root); len(ents) != 1 || ents[0].Name() != dir {
				t.Fatalf("%s holds %v", root, ents)
			}
			if st, err := os.Stat(path); err != nil || st.Size() == 0 {
				t.Fatalf("%s: %v, size %v", path, err, st)
			}
			var n int
			if err := open(t, path).Read.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil || n != 1 {
				t.Fatalf("reopened: %d users, %v", n, err)
			}
		})
	}
}

func TestMigrationsApplyOnceAndTrackReadiness(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's file, pools, pragmas and locks")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "m.db"))
	if err := db.Ready(ctx); err == nil {
		t.Fatal("Ready before migrating: nil")
	}
	for i := range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	p, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var applied []int64
	for _, s := range st {
		if s.State == goose.StateApplied {
			applied = append(applied, s.Source.Version)
		}
	}
	var every []int64
	for v := int64(1); v <= int64(len(st)); v++ {
		every = append(every, v)
	}
	if !slices.Equal(applied, every) || len(st) < 3 {
		t.Fatalf("applied %v of %d migrations, want every one, numbered from 1", applied, len(st))
	}

	if _, err := p.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil {
		t.Fatal("Ready with a migration rolled back: nil")
	}
	// Every migration's Down undoes its Up: all the way down and back.
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready after Up: %v", err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := migratedOn(t, e.Open)
			if _, err := db.Write.Exec(`INSERT INTO audit_log (at, action) VALUES (?, 'login_success')`, sqlite.FormatTime(time.Now())); err != nil {
				t.Fatal(err)
			}
			for _, stmt := range []string{
				"UPDATE audit_log SET action = 'nothing_happened'",
				"DELETE FROM audit_log",
			} {
				_, err := db.Write.Exec(stmt)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: %v, want the append-only trigger", stmt, err)
				}
			}
			var action string
			if err := db.Read.QueryRow("SELECT action FROM audit_log").Scan(&action); err != nil || action != "login_success" {
				t.Fatalf("row now %q, %v", action, err)
			}
		})
	}
}

func TestUsersTableConstraints(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := migratedOn(t, e.Open)
			if err := insertUser(db, "ann@law.edu", "ann", "student"); err != nil {
				t.Fatalf("a valid user was refused: %v", err)
			}
			for _, tc := range []struct{ name, email, username, role, want string }{
				{"unknown role refused", "bob@law.edu", "bob", "superuser", "CHECK"},
				{"empty role refused", "bob@law.edu", "bob", "", "CHECK"},
				{"role in capitals refused", "bob@law.edu", "bob", "Admin", "CHECK"},
				{"same email in other case refused", "ANN@Law.EDU", "ann2", "student", "UNIQUE"},
				{"same username in other case refused", "ann2@law.edu", "ANN", "student", "UNIQUE"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					want := tc.want
					if db.Engine == sqlite.Postgres { // PostgreSQL's words for the same refusals
						want = map[string]string{"CHECK": "violates check constraint", "UNIQUE": "violates unique constraint"}[tc.want]
					}
					err := insertUser(db, tc.email, tc.username, tc.role)
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("insert: %v, want a %s constraint error", err, tc.want)
					}
				})
			}
		})
	}
}

func TestStoredTimesRoundTripAndSortAsText(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	in := time.Date(2025, 3, 9, 1, 59, 59, 123456789, chicago)
	got, err := sqlite.ParseTime(sqlite.FormatTime(in))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(in.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Fatalf("round trip %v -> %v", in, got)
	}

	base := time.Date(2025, 12, 31, 23, 59, 9, 0, time.UTC)
	times := []time.Time{
		base,
		base.Add(time.Second), // :10 after :09
		base.Add(9 * time.Microsecond),
		base.Add(10 * time.Microsecond),
		base.Add(999999 * time.Microsecond),
		base.Add(51 * time.Second),                    // into the next year
		time.Date(2025, 12, 31, 18, 0, 0, 0, chicago), // later than base, earlier wall clock
		time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
	var text []string
	for _, tm := range times {
		text = append(text, sqlite.FormatTime(tm))
	}
	slices.Sort(text)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i, tm := range times {
		if sqlite.FormatTime(tm) != text[i] {
			t.Fatalf("text order %v differs from time order at %d (%v)", text, i, tm)
		}
	}

	for _, bad := range []string{"", "2025-01-02", "2025-01-02T03:04:05Z", "2025-01-02 03:04:05.000000Z"} {
		if _, err := sqlite.ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}
