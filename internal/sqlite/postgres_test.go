package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// openPostgres opens a database of the test's own on SOCRATIC_TEST_POSTGRES.
func openPostgres(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.OpenPostgres(context.Background(), testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// engines are the databases a test runs on: the run's (see sqlitetest).
var engines = sqlitetest.Run()

// TestSchemasAgree runs every migration up, one at a time, then every one
// down, on SQLite and PostgreSQL side by side, and compares the two
// schemas at each version: tables, columns (type, nullability), primary
// keys, indexes (columns, uniqueness, partial or not) and triggers. So the
// two migration sets cannot drift apart silently, and each Down undoes its
// Up on both.
func TestSchemasAgree(t *testing.T) {
	testenv.OnlyPostgres(t)
	ctx := context.Background()
	lite := open(t, filepath.Join(t.TempDir(), "socratic.db"))
	pg := openPostgres(t)
	lp, err := lite.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	pp, err := pg.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	latest, err := sqlite.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	compare := func(step string) {
		t.Helper()
		a, b := sqliteSchema(t, lite.Read), postgresSchema(t, pg.Read)
		if !slices.Equal(a, b) {
			t.Fatalf("%s: the schemas differ:\nonly on SQLite:     %q\nonly on PostgreSQL: %q", step, missing(a, b), missing(b, a))
		}
	}
	for v := int64(1); v <= latest; v++ {
		if r, err := lp.UpByOne(ctx); err != nil || r.Source.Version != v {
			t.Fatalf("SQLite up to %d: %v", v, err)
		}
		if r, err := pp.UpByOne(ctx); err != nil || r.Source.Version != v {
			t.Fatalf("PostgreSQL up to %d: %v", v, err)
		}
		compare(fmt.Sprintf("up to %d", v))
	}
	if got := sqliteSchema(t, lite.Read); len(got) < 100 {
		t.Fatalf("the full schema has %d entries; the comparison would be empty-handed", len(got))
	}
	for v := latest; v >= 1; v-- {
		if r, err := lp.Down(ctx); err != nil || r.Source.Version != v {
			t.Fatalf("SQLite down from %d: %v", v, err)
		}
		if r, err := pp.Down(ctx); err != nil || r.Source.Version != v {
			t.Fatalf("PostgreSQL down from %d: %v", v, err)
		}
		compare(fmt.Sprintf("down from %d", v))
	}
	if s := postgresSchema(t, pg.Read); len(s) != 0 {
		t.Fatalf("after every Down PostgreSQL still has %q", s)
	}
	// And up again: a Down that left something behind fails the second Up.
	if err := pg.Migrate(ctx); err != nil {
		t.Fatalf("PostgreSQL up again: %v", err)
	}
	if err := pg.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}

func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// booleans are the columns that are 0/1 integers on SQLite and boolean on
// PostgreSQL.
var booleans = []string{"users.is_active", "sessions.counted", "turns.moderated"}

// ignoredTables: goose's own, SQLite's, and 00004's FTS5 index (virtual
// table and shadow tables) that 00005 drops again; PostgreSQL's 00004 has
// no twin of it.
func ignoredTable(name string) bool {
	return name == "goose_db_version" || strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "chunks_fts")
}

func sqliteSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, table := range strs(t, db, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`) {
		if ignoredTable(table) {
			continue
		}
		out = append(out, "table "+table)
		rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		var pk []string
		pkOrder := map[string]int{}
		for rows.Next() {
			var name, typ string
			var notNull bool
			var pkn int
			if err := rows.Scan(&name, &typ, &notNull, &pkn); err != nil {
				t.Fatal(err)
			}
			class := map[string]string{"INTEGER": "integer", "TEXT": "text", "BLOB": "blob"}[strings.ToUpper(typ)]
			if class == "integer" && slices.Contains(booleans, table+"."+name) {
				class = "boolean"
			}
			if class == "" {
				class = "unknown " + typ
			}
			if pkn > 0 {
				notNull = true // SQLite's INTEGER PRIMARY KEY is the rowid: never null
				pk = append(pk, name)
				pkOrder[name] = pkn
			}
			out = append(out, fmt.Sprintf("column %s.%s %s notnull=%v", table, name, class, notNull))
		}
		rows.Close()
		slices.SortFunc(pk, func(a, b string) int { return pkOrder[a] - pkOrder[b] })
		if len(pk) > 0 {
			out = append(out, fmt.Sprintf("primary key %s(%s)", table, strings.Join(pk, ",")))
		}
		rows, err = db.Query(`SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		type index struct {
			name, origin    string
			unique, partial bool
		}
		var idx []index
		for rows.Next() {
			var i index
			if err := rows.Scan(&i.name, &i.unique, &i.origin, &i.partial); err != nil {
				t.Fatal(err)
			}
			idx = append(idx, i)
		}
		rows.Close()
		for _, i := range idx {
			if i.origin == "pk" {
				continue // compared as the primary key
			}
			cols := strs(t, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, i.name)
			name := i.name
			if i.origin == "u" {
				name = "(constraint)" // SQLite's sqlite_autoindex_…, PostgreSQL's …_key
			}
			out = append(out, fmt.Sprintf("index %s %s(%s) unique=%v partial=%v", name, table, strings.Join(cols, ","), i.unique, i.partial))
		}
	}
	for _, tr := range strs(t, db, `SELECT tbl_name || '.' || name FROM sqlite_schema WHERE type = 'trigger'`) {
		if !strings.HasPrefix(tr, "chunks_fts") && !strings.Contains(tr, ".chunks_a") {
			out = append(out, "trigger "+tr)
		}
	}
	slices.Sort(out)
	return out
}

func postgresSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, table := range strs(t, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`) {
		if ignoredTable(table) {
			continue
		}
		out = append(out, "table "+table)
		rows, err := db.Query(`SELECT column_name, CASE WHEN data_type = 'USER-DEFINED' THEN udt_name ELSE data_type END, is_nullable = 'NO'
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			var notNull bool
			if err := rows.Scan(&name, &typ, &notNull); err != nil {
				t.Fatal(err)
			}
			class := map[string]string{"bigint": "integer", "text": "text", "citext": "text", "bytea": "blob", "boolean": "boolean"}[typ]
			if class == "" {
				class = "unknown " + typ
			}
			out = append(out, fmt.Sprintf("column %s.%s %s notnull=%v", table, name, class, notNull))
		}
		rows.Close()
		const indexes = `SELECT ic.relname, i.indisprimary, i.indisunique, i.indpred IS NOT NULL,
				EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype = 'u'),
				(SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
					JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
			FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid
			WHERE tc.relname = ? AND tc.relnamespace = current_schema()::regnamespace`
		rows, err = db.Query(indexes, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, cols string
			var primary, unique, partial, constraint bool
			if err := rows.Scan(&name, &primary, &unique, &partial, &constraint, &cols); err != nil {
				t.Fatal(err)
			}
			switch {
			case primary:
				out = append(out, fmt.Sprintf("primary key %s(%s)", table, cols))
				continue
			case constraint:
				name = "(constraint)"
			}
			out = append(out, fmt.Sprintf("index %s %s(%s) unique=%v partial=%v", name, table, cols, unique, partial))
		}
		rows.Close()
	}
	for _, tr := range strs(t, db, `SELECT c.relname || '.' || tg.tgname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
		WHERE NOT tg.tgisinternal AND c.relnamespace = current_schema()::regnamespace`) {
		out = append(out, "trigger "+tr)
	}
	slices.Sort(out)
	return out
}

func strs(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBatcherOnBothEngines: on PostgreSQL as on SQLite the Batcher runs
// each write in its own savepoint: a write that fails is undone alone, the
// others of its transaction are committed, and a later write sees them.
func TestBatcherOnBothEngines(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := e.Open(t)
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			errBad := errors.New("this write fails")
			done := make(chan error, 3)
			for i, fail := range []bool{false, true, false} {
				go func() {
					done <- db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
						if err := insertUserTx(ctx, tx, fmt.Sprintf("u%d@example.edu", i), fmt.Sprintf("u%d", i)); err != nil {
							return err
						}
						if fail {
							return errBad
						}
						return nil
					})
				}()
			}
			var failed int
			for range 3 {
				if err := <-done; errors.Is(err, errBad) {
					failed++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if failed != 1 {
				t.Fatalf("%d writes failed, want 1", failed)
			}
			got := strs(t, db.Read, `SELECT username FROM users ORDER BY username`)
			if !slices.Equal(got, []string{"u0", "u2"}) {
				t.Fatalf("users %q, want u0 and u2 (u1's write failed and was undone alone)", got)
			}
			// Case-insensitive uniqueness (NOCASE on SQLite, citext on
			// PostgreSQL), through the Batcher's statement cache.
			err := db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
				return insertUserTx(ctx, tx, "other@example.edu", "U0")
			})
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unique") || !sqlite.IsUniqueViolation(err) {
				t.Fatalf("a second U0 (u0 exists): %v, want a unique-constraint failure", err)
			}
			// Another constraint's failure is not a unique violation.
			_, err = db.Write.Exec(`INSERT INTO users (email, username, password_hash, role, created_at, updated_at) VALUES ('x@example.edu', 'x', 'x', 'king', '', '')`)
			if err == nil || sqlite.IsUniqueViolation(err) {
				t.Fatalf("a role outside the CHECK: %v, want a failure that is not a unique violation", err)
			}
		})
	}
}

func insertUserTx(ctx context.Context, tx *sql.Tx, email, username string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO users (email, username, password_hash, role, created_at, updated_at)
		VALUES (?, ?, 'x', 'student', ?3, ?3)`, email, username, "2026-01-01T00:00:00.000000Z")
	return err
}

// TestWeekVersionsOnBothEngines: the triggers of migration 00005 bump a
// week's passages version when its chunks or its documents' status change,
// and its vectors version when its vectors do, from one clock that only
// goes up — on PostgreSQL (plpgsql) as on SQLite.
func TestWeekVersionsOnBothEngines(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := migratedOn(t, e.Open)
			now := "2026-01-01T00:00:00.000000Z"
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.Write.Exec(q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			id := func(q string, args ...any) int64 {
				t.Helper()
				var id int64
				if err := db.Write.QueryRow(q, args...).Scan(&id); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return id
			}
			course := id(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES ('LAW 101', 'Torts', 'j1', ?1, ?1) RETURNING id`, now)
			week := id(`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, 1, ?2, ?2) RETURNING id`, course, now)
			doc := id(`INSERT INTO documents (week_id, original_filename, sha256, file_size, uploaded_at) VALUES (?, 'a.pdf', ?, 10, ?) RETURNING id`,
				week, strings.Repeat("a", 64), now)
			versions := func() (p, v int64) {
				t.Helper()
				if err := db.Read.QueryRow(`SELECT passages, vectors FROM week_versions WHERE week_id = ?`, week).Scan(&p, &v); err != nil {
					t.Fatal(err)
				}
				return p, v
			}
			chunk := id(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
				VALUES (?, ?, 0, 1, 0, 5, 'duty', 1) RETURNING id`, doc, week)
			p1, v1 := versions()
			if p1 <= 0 || v1 != 0 {
				t.Fatalf("after a chunk: passages %d vectors %d, want passages > 0 and vectors 0", p1, v1)
			}
			exec(`INSERT INTO chunk_vectors (chunk_id, week_id, model, dim, vec) VALUES (?, ?, 'm', 2, ?)`, chunk, week, make([]byte, 8))
			p2, v2 := versions()
			if p2 != p1 || v2 <= p1 {
				t.Fatalf("after a vector: passages %d→%d vectors %d, want passages unchanged and vectors above %d", p1, p2, v2, p1)
			}
			exec(`UPDATE documents SET status = 'processed' WHERE id = ?`, doc)
			p3, _ := versions()
			if p3 <= v2 {
				t.Fatalf("after a status change: passages %d, want above %d", p3, v2)
			}
			exec(`DELETE FROM chunks WHERE id = ?`, chunk) // its vector goes with it (cascade)
			p4, v4 := versions()
			if p4 <= p3 || v4 <= p3 {
				t.Fatalf("after deleting the chunk: passages %d vectors %d, want both above %d", p4, v4, p3)
			}
			// A vector whose length is not 4×dim is refused on both.
			chunk = id(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
				VALUES (?, ?, 1, 1, 0, 5, 'care', 1) RETURNING id`, doc, week)
			if _, err := db.Write.Exec(`INSERT INTO chunk_vectors (chunk_id, week_id, model, dim, vec) VALUES (?, ?, 'm', 2, ?)`, chunk, week, make([]byte, 7)); err == nil {
				t.Fatal("a 7-byte vector of dimension 2 was stored")
			}
		})
	}
}
