package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// TestCopyToSeesTheWAL: rows committed but not yet checkpointed into the
// main file are in the copy, which passes integrity_check and carries the
// schema version.
func TestCopyToSeesTheWAL(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's write-ahead log")
	ctx := context.Background()
	db := migrated(t)
	if _, err := db.Write.Exec(`INSERT INTO users (email, username, password_hash, role, created_at, updated_at) VALUES ('a@b.edu', 'a', 'x', 'student', 'now', 'now')`); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := sqlite.CopyTo(ctx, db.Path, dst); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.CopyTo(ctx, db.Path, dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second copy onto the first: %v", err)
	}
	c, err := sqlite.OpenFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := sqlite.IntegrityCheck(ctx, c); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("users in the copy: %d %v", n, err)
	}
	v, err := sqlite.SchemaVersion(ctx, c)
	latest, lerr := sqlite.LatestVersion()
	if err != nil || lerr != nil || v != latest || latest < 10 {
		t.Errorf("schema version %d (%v), latest %d (%v)", v, err, latest, lerr)
	}
}

// TestMigrateRefusesANewerDatabase: an older binary started on a database
// a newer one migrated stops, saying so, instead of serving on tables it
// does not know.
func TestMigrateRefusesANewerDatabase(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		latest, _ := sqlite.LatestVersion()
		if _, err := db.Write.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, true)`, latest+1); err != nil {
			t.Fatal(err)
		}
		err := db.Migrate(context.Background())
		if err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
			t.Fatalf("Migrate = %v", err)
		}
	})
}
