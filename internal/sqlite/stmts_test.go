package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestStmtsPrepareOnceAndAnswerAsThePool: a query runs through one cached
// statement; results and errors are the pool's; inside a Batcher
// transaction a query runs as text first, is prepared between
// transactions, and then runs through the cached statement on the
// transaction's connection, nested savepoints and all.
func TestStmtsPrepareOnceAndAnswerAsThePool(t *testing.T) {
	testenv.OnlySQLite(t, "prepared statements on SQLite's pools; TestStmtsOnPostgres is PostgreSQL's")
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stmts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
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
	if err := write("a1"); err != nil {
		t.Fatal(err)
	}
	db.WriteStmts.mu.Lock()
	_, prepared := db.WriteStmts.m[ins]
	db.WriteStmts.mu.Unlock()
	if prepared {
		t.Fatal("a query first run inside a transaction was prepared inside it")
	}
	for _, v := range []string{"a2", "a3"} {
		if err := write(v); err != nil {
			t.Fatal(err)
		}
	}
	db.WriteStmts.mu.Lock()
	_, prepared = db.WriteStmts.m[ins]
	db.WriteStmts.mu.Unlock()
	if !prepared {
		t.Fatal("a query run inside transactions was never prepared between them")
	}
	// A failing write through the cached statement: the UNIQUE error, and
	// its savepoint alone rolled back.
	if err := write("a2"); err == nil {
		t.Fatal("a duplicate insert through the cached statement succeeded")
	}
	if err := write("a4"); err != nil {
		t.Fatal(err)
	}

	st := db.ReadStmts.Prepared(ctx, count)
	if st == nil || db.ReadStmts.Prepared(ctx, count) != st {
		t.Fatal("the same query was not answered with the same statement")
	}
	for range 3 {
		var n int
		if err := db.ReadStmts.QueryRowContext(ctx, count, "a%").Scan(&n); err != nil || n != 4 {
			t.Fatalf("count through the cache = %d, %v; want 4 (a1 a2 a3 a4)", n, err)
		}
	}
	bad := `SELECT nope FROM items`
	_, want := db.Read.QueryContext(ctx, bad)
	_, got := db.ReadStmts.QueryContext(ctx, bad)
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("a query that cannot be prepared: error %v, want the pool's %v", got, want)
	}
}
