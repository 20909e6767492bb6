package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

func batchDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db := open(t, filepath.Join(t.TempDir(), "batch.db"))
	if _, err := db.Write.Exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestBatchCommitsTogetherAndAlone: writes that arrive together share
// transactions; a write that fails or panics is undone alone; each sees
// the writes before it, so a check-then-insert holds across a batch.
func TestBatchCommitsTogetherAndAlone(t *testing.T) {
	testenv.OnlySQLite(t, "the Batcher on SQLite's one write connection; TestBatcherOnBothEngines runs it on the run's engine")
	db := batchDB(t)
	var mu sync.Mutex
	txs := map[*sql.Tx]bool{}
	var wg sync.WaitGroup
	errs := make([]error, 60)
	for i := range 60 {
		wg.Go(func() {
			errs[i] = db.Batch.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
				mu.Lock()
				txs[tx] = true
				mu.Unlock()
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE v LIKE 'quota-%'`).Scan(&n); err != nil {
					return err
				}
				switch {
				case i%10 == 3:
					// Writes, then fails: its row must not stay.
					if _, err := tx.ExecContext(ctx, `INSERT INTO items (v) VALUES (?)`, "failed-"+itoa(int64(i))); err != nil {
						return err
					}
					return errors.New("refused")
				case i%10 == 7:
					tx.ExecContext(ctx, `INSERT INTO items (v) VALUES (?)`, "panicked-"+itoa(int64(i)))
					panic("boom")
				case n < 5:
					_, err := tx.ExecContext(ctx, `INSERT INTO items (v) VALUES (?)`, "quota-"+itoa(int64(i)))
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO items (v) VALUES (?)`, "plain-"+itoa(int64(i)))
				return err
			})
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if (i%10 == 3 || i%10 == 7) != (err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
		if err != nil {
			failed++
		}
	}
	count := func(q string) int {
		var n int
		if err := db.Read.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM items WHERE v LIKE 'failed-%' OR v LIKE 'panicked-%'`); n != 0 {
		t.Errorf("%d rows of failed writes stayed", n)
	}
	if n := count(`SELECT count(*) FROM items WHERE v LIKE 'quota-%'`); n != 5 {
		t.Errorf("%d rows under the check, want 5", n)
	}
	if n := count(`SELECT count(*) FROM items`); n != 60-failed {
		t.Errorf("%d rows, want %d", n, 60-failed)
	}
	if len(txs) >= 60 {
		t.Errorf("60 writes at once took %d transactions", len(txs))
	}
	t.Logf("60 concurrent writes committed in %d transactions", len(txs))
}

// TestBatchSkipsWritesWhoseCallerLeft: a write whose context ended while
// it waited is not run.
func TestBatchSkipsWritesWhoseCallerLeft(t *testing.T) {
	testenv.OnlySQLite(t, "the Batcher on SQLite's one write connection; TestBatcherOnBothEngines runs it on the run's engine")
	db := batchDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.Batch.Do(ctx, func(context.Context, *sql.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("a cancelled write: ran %v, %v", ran, err)
	}
	// A write in progress is not interrupted by its caller leaving.
	ctx, cancel = context.WithCancel(context.Background())
	err = db.Batch.Do(ctx, func(wctx context.Context, tx *sql.Tx) error {
		cancel()
		_, err := tx.ExecContext(wctx, `INSERT INTO items (v) VALUES ('kept')`)
		return err
	})
	var n int
	db.Read.QueryRow(`SELECT count(*) FROM items WHERE v = 'kept'`).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("a write whose caller left half-way: %v, %d rows", err, n)
	}
}

// TestBatchWriteAlone: a write alone in its transaction (no savepoint)
// keeps nothing when it fails or panics, is told its own error, and
// leaves the connection clean: the writes after it commit.
func TestBatchWriteAlone(t *testing.T) {
	testenv.OnlySQLite(t, "the Batcher on SQLite's one write connection; TestBatcherOnBothEngines runs it on the run's engine")
	db := batchDB(t)
	ctx := context.Background()
	txs := map[*sql.Tx]bool{}
	refused := errors.New("refused")
	for i := range 6 {
		err := db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
			txs[tx] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO items (v) VALUES (?)`, "alone-"+itoa(int64(i))); err != nil {
				return err
			}
			switch i % 3 {
			case 1:
				return refused
			case 2:
				panic("boom")
			}
			return nil
		})
		switch i % 3 {
		case 0:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		case 1:
			if !errors.Is(err, refused) {
				t.Errorf("write %d: %v, want its own error", i, err)
			}
		case 2:
			if err == nil || !strings.Contains(err.Error(), "boom") {
				t.Errorf("write %d: %v, want its panic", i, err)
			}
		}
	}
	if len(txs) != 6 {
		t.Fatalf("6 writes one after the other took %d transactions, want 6 (each alone)", len(txs))
	}
	rows, err := db.Read.Query(`SELECT v FROM items ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if want := []string{"alone-0", "alone-3"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestWriteStatsCountWaitsAndBusy: batched writes count with their wait in
// the queue, and a write that finds the database locked by another
// process past busy_timeout counts as busy (and fails, with nothing kept).
func TestWriteStatsCountWaitsAndBusy(t *testing.T) {
	testenv.OnlySQLite(t, "the Batcher on SQLite's one write connection; TestBatcherOnBothEngines runs it on the run's engine")
	db := batchDB(t)
	before := db.WriteStats()
	if err := db.Batch.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO items (v) VALUES ('one')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st := db.WriteStats()
	if st.BatchWrites != before.BatchWrites+1 || st.BatchWait <= before.BatchWait || st.Busy != before.Busy {
		t.Fatalf("after one write: %+v (before %+v)", st, before)
	}
	// Another process (a second handle on the file) holds the write lock
	// for longer than busy_timeout.
	other, err := sql.Open("sqlite", "file:"+db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	err = db.Batch.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO items (v) VALUES ('two')`)
		return err
	})
	if _, rerr := conn.ExecContext(context.Background(), `ROLLBACK`); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil {
		t.Fatal("a write succeeded while another process held the lock")
	}
	after := db.WriteStats()
	if after.Busy != st.Busy+1 {
		t.Fatalf("busy failures: %d, want %d (%v)", after.Busy, st.Busy+1, err)
	}
	if after.BatchWait-st.BatchWait < 4*time.Second {
		t.Errorf("the locked write's wait %s is shorter than busy_timeout", after.BatchWait-st.BatchWait)
	}
}
