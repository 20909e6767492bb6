package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestMigrationFilesAreTwins: every SQLite migration has its PostgreSQL
// twin under the same number and name, and no other: a migration added to
// one engine alone fails here.
func TestMigrationFilesAreTwins(t *testing.T) {
	names := func(fsys fs.FS, dir string) []string {
		t.Helper()
		entries, err := fs.Glob(fsys, dir+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, filepath.Base(e))
		}
		return out
	}
	lite, pg := names(migrations, "migrations"), names(pgMigrations, "postgres")
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("SQLite's migrations %q and PostgreSQL's %q differ", lite, pg)
	}
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM users WHERE id = ?`, `SELECT * FROM users WHERE id = $1`},
		{`INSERT INTO t (a, b, c) VALUES (?, ?, ?)`, `INSERT INTO t (a, b, c) VALUES ($1, $2, $3)`},
		// Numbered, reused, and bare after numbered: SQLite's numbering.
		{`WHERE username = ?1 OR email = ?1`, `WHERE username = $1 OR email = $1`},
		{`VALUES (?, ?, ?3, ?3, ?)`, `VALUES ($1, $2, $3, $3, $4)`},
		{`SET a = ?2, b = ? WHERE c = ?1`, `SET a = $2, b = $3 WHERE c = $1`},
		// Not placeholders: literals, quoted names, comments, dollar quotes.
		{`SELECT '?', 'it''s ?', "col?" FROM t WHERE x = ?`, `SELECT '?', 'it''s ?', "col?" FROM t WHERE x = $1`},
		{"SELECT 1 -- what?\nWHERE x = ?", "SELECT 1 -- what?\nWHERE x = $1"},
		{`SELECT /* why? */ ?`, `SELECT /* why? */ $1`},
		{`DO $$ BEGIN PERFORM '?'; END $$; SELECT ?`, `DO $$ BEGIN PERFORM '?'; END $$; SELECT $1`},
		{`SELECT $tag$ ? $tag$, ?`, `SELECT $tag$ ? $tag$, $1`},
		// Already PostgreSQL's: left as it is, jsonb's ? operator included.
		{`SELECT $1, $2`, `SELECT $1, $2`},
		{`UPDATE river_job SET state = $1 WHERE metadata ? 'cancel_attempted_at' AND id = $2`, `UPDATE river_job SET state = $1 WHERE metadata ? 'cancel_attempted_at' AND id = $2`},
		{`lower(email) LIKE ? ESCAPE '\'`, `lower(email) LIKE $1 ESCAPE '\'`},
		// Unterminated: copied, not lost.
		{`SELECT 'abc`, `SELECT 'abc`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if got := rebindScan(tc.in); got != tc.want {
			t.Errorf("rebindScan(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkRebind: what the seam costs a query on PostgreSQL, cached (every
// call after the first) and not (the first).
func BenchmarkRebind(b *testing.B) {
	const q = `SELECT id, email, username, full_name, role, is_active, token_version, password_hash, created_at, updated_at FROM users WHERE username = ?1 OR email = ?1 LIMIT 1`
	b.Run("cached", func(b *testing.B) {
		rebind(q)
		for b.Loop() {
			rebind(q)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			rebindScan(q)
		}
	})
}

// TestStmtsOnPostgres: on PostgreSQL, as TestStmtsPrepareOnceAndAnswerAsThePool
// shows on SQLite, the statement cache prepares a query run inside Batcher
// transactions between them, runs it through the cached statement on the
// transaction's connection (the placeholders rewritten once), rolls a
// failing write back to its savepoint alone, and answers reads as the pool.
func TestStmtsOnPostgres(t *testing.T) {
	testenv.OnlyPostgres(t)
	ctx := context.Background()
	db, err := OpenPostgres(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if db.Read != db.Write || db.ReadStmts != db.WriteStmts {
		t.Fatal("PostgreSQL's Read and Write should be one pool with one statement cache")
	}
	if _, err := db.Write.Exec(`CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	const ins = `INSERT INTO items (v) VALUES (?)`
	const count = `SELECT count(*) FROM items WHERE v LIKE ?`
	write := func(v string) error {
		return db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := db.WriteStmts.In(tx).ExecContext(ctx, ins, v)
			return err
		})
	}
	prepared := func() bool {
		db.WriteStmts.mu.Lock()
		defer db.WriteStmts.mu.Unlock()
		_, ok := db.WriteStmts.m[ins]
		return ok
	}
	if err := write("a1"); err != nil {
		t.Fatal(err)
	}
	if prepared() {
		t.Fatal("a query first run inside a transaction was prepared inside it")
	}
	for _, v := range []string{"a2", "a3"} {
		if err := write(v); err != nil {
			t.Fatal(err)
		}
	}
	if !prepared() {
		t.Fatal("a query run inside transactions was never prepared between them")
	}
	if err := write("a2"); err == nil || !IsUniqueViolation(err) {
		t.Fatalf("a duplicate insert through the cached statement: %v, want a unique violation", err)
	}
	if err := write("a4"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var n int
		if err := db.ReadStmts.QueryRowContext(ctx, count, "a%").Scan(&n); err != nil || n != 4 {
			t.Fatalf("count through the cache = %d, %v; want 4 (a1 a2 a3 a4)", n, err)
		}
	}
	bad := `SELECT nope FROM items WHERE v = ?`
	_, want := db.Read.QueryContext(ctx, bad, "x")
	_, got := db.ReadStmts.QueryContext(ctx, bad, "x")
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("a query that cannot be prepared: error %v, want the pool's %v", got, want)
	}
}
