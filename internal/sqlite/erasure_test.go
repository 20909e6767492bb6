package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// An erased account's id must never name anyone else: its old tokens and
// audit entries would then belong to the newcomer.
func TestDeletedUserIDIsNeverReused(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		for _, n := range []string{"ann", "bob"} {
			if err := insertUser(db, n+"@law.edu", n, "student"); err != nil {
				t.Fatal(err)
			}
		}
		var bob int64
		if err := db.Read.QueryRow(`SELECT id FROM users WHERE username = 'bob'`).Scan(&bob); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.Exec(`DELETE FROM users WHERE id = ?`, bob); err != nil {
			t.Fatal(err)
		}
		if err := insertUser(db, "cy@law.edu", "cy", "student"); err != nil {
			t.Fatal(err)
		}
		var cy int64
		if err := db.Read.QueryRow(`SELECT id FROM users WHERE username = 'cy'`).Scan(&cy); err != nil {
			t.Fatal(err)
		}
		if cy <= bob {
			t.Fatalf("new user got id %d, the erased user had %d", cy, bob)
		}
	})
}

// The rebuild of users keeps every row and every reference to it: an
// enrolment made before the migration still cascades with its user after.
func TestUsersRebuildKeepsRowsAndReferences(t *testing.T) {
	testenv.OnlySQLite(t, "a SQLite migration's rebuild of users; PostgreSQL's twin is compared by TestSchemasAgree")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "socratic.db"))
	p, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	now := sqlite.FormatTime(time.Now())
	for _, stmt := range []string{
		`INSERT INTO users (id, email, username, password_hash, role, created_at, updated_at) VALUES (7, 'ann@law.edu', 'ann', 'h', 'student', '` + now + `', '` + now + `')`,
		`INSERT INTO courses (id, code, name, join_code, created_by, created_at, updated_at) VALUES (1, 'LAW 1', 'Torts', 'jc', 7, '` + now + `', '` + now + `')`,
		`INSERT INTO enrollments (course_id, user_id, enrolled_at) VALUES (1, 7, '` + now + `')`,
	} {
		if _, err := db.Write.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var fkOn int
	if err := db.Write.QueryRow(`PRAGMA foreign_keys`).Scan(&fkOn); err != nil || fkOn != 1 {
		t.Fatalf("foreign_keys after the migration: %d, %v", fkOn, err)
	}
	rows, err := db.Write.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("a foreign key is broken after the rebuild")
	}
	rows.Close()
	var email string
	if err := db.Read.QueryRow(`SELECT email FROM users WHERE id = 7`).Scan(&email); err != nil || email != "ann@law.edu" {
		t.Fatalf("user 7 after the rebuild: %q, %v", email, err)
	}
	if _, err := db.Write.Exec(`DELETE FROM users WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	var enrolled int
	var createdBy *int64
	if err := db.Read.QueryRow(`SELECT (SELECT count(*) FROM enrollments), (SELECT created_by FROM courses WHERE id = 1)`).Scan(&enrolled, &createdBy); err != nil {
		t.Fatal(err)
	}
	if enrolled != 0 || createdBy != nil {
		t.Errorf("after deleting the user: %d enrolments, created_by %v; want the cascade and SET NULL", enrolled, createdBy)
	}
}

// The audit log accepts exactly one kind of change: blanking personal data.
func TestAuditLogAllowsOnlyErasure(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) { auditLogAllowsOnlyErasure(t, migratedOn(t, e.Open)) })
	}
}

func auditLogAllowsOnlyErasure(t *testing.T, db *sqlite.DB) {
	if _, err := db.Write.Exec(`INSERT INTO audit_log (at, actor_id, action, target_type, target_id, ip, detail)
		VALUES (?, 3, 'register', 'user', 3, '192.0.2.1', '{"username":"ann"}')`, sqlite.FormatTime(time.Now())); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET detail = '{"username":"eve"}'`,
		`UPDATE audit_log SET ip = '198.51.100.1'`,
		`UPDATE audit_log SET actor_id = NULL, detail = '{}'`,
		`UPDATE audit_log SET target_id = 4`,
		`UPDATE audit_log SET action = 'nothing'`,
		`UPDATE audit_log SET at = '2000-01-01T00:00:00.000000Z'`,
	} {
		if _, err := db.Write.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only trigger", stmt, err)
		}
	}
	// Blanking is personal-data erasure only when an erasure does it: a
	// plain UPDATE, outside one, is refused too.
	for _, stmt := range []string{
		`UPDATE audit_log SET ip = '', detail = '{}'`,
		`UPDATE audit_log SET ip = ''`,
		`UPDATE audit_log SET detail = '{}'`,
	} {
		if _, err := db.Write.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s outside an erasure: %v, want the append-only trigger", stmt, err)
		}
	}
	// The erasure's way: its marker row, the blanking, the marker gone,
	// all in one transaction.
	tx, err := db.Write.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO erasure_in_progress (one) VALUES (1)`,
		`UPDATE audit_log SET ip = '', detail = '{}'`,
		`DELETE FROM erasure_in_progress`,
	} {
		if _, err := tx.Exec(stmt); err != nil {
			tx.Rollback()
			t.Fatalf("erasing the address and detail: %s: %v", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var ip, detail string
	if err := db.Read.QueryRow(`SELECT ip, detail FROM audit_log`).Scan(&ip, &detail); err != nil || ip != "" || detail != "{}" {
		t.Fatalf("after erasure: ip %q detail %q, %v", ip, detail, err)
	}
}

// Migration 00009 rebuilt users with foreign keys off; 00010 checks them
// and refuses to go on over a broken reference rather than leave it.
func TestMigrationStopsOnABrokenForeignKey(t *testing.T) {
	testenv.OnlySQLite(t, "a SQLite migration's rebuild of users; PostgreSQL's twin is compared by TestSchemasAgree")
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "socratic.db"))
	p, err := db.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	now := sqlite.FormatTime(time.Now())
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO courses (id, code, name, join_code, created_at, updated_at) VALUES (1, 'LAW 1', 'Torts', 'jc', '` + now + `', '` + now + `')`,
		`INSERT INTO enrollments (course_id, user_id, enrolled_at) VALUES (1, 42, '` + now + `')`,
		`PRAGMA foreign_keys = ON`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	err = db.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "foreign_keys_intact_after_users_rebuild") {
		t.Fatalf("migrating over an enrolment of no one: %v, want the foreign key check", err)
	}
	var n int
	if err := db.Read.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'erasure_in_progress'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the refused migration left its table: %d, %v", n, err)
	}
}
