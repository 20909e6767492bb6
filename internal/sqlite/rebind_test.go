package sqlite

import (
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
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
		// Already PostgreSQL's: left as it is.
		{`SELECT $1, $2`, `SELECT $1, $2`},
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
