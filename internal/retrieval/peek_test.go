package retrieval

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// counting counts the queries asked through it.
type counting struct {
	sqlite.Execer
	n int
}

func (c *counting) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.n++
	return c.Execer.QueryContext(ctx, q, args...)
}

func (c *counting) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.n++
	return c.Execer.QueryRowContext(ctx, q, args...)
}

// TestTurnSearchAsksOnce: a BM25 turn's search of a week in memory asks
// the database one query (whether its first results are still there and
// whether the week is still current, together), and still follows every
// change of the week's passages: a passage added, a document deleted or
// being reprocessed.
func TestTurnSearchAsksOnce(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		wk := d.week(d.course("A"), 1)
		doc, first := d.document(wk, "processed", "Battery requires harmful contact.", "Assault requires apprehension.")
		s := NewSearcher(nil, 0, nil)
		ctx := context.Background()
		ex := &counting{Execer: d.Read}
		search := func(q string) []int64 {
			t.Helper()
			got, err := s.SearchTurn(ctx, ex, wk, Turn{Student: q}, 5)
			if err != nil {
				t.Fatal(err)
			}
			return ids(got)
		}
		if got := search("battery contact"); len(got) == 0 || got[0] != first[0] {
			t.Fatalf("first search: %v", got)
		}
		ex.n = 0
		if got := search("battery contact"); len(got) == 0 || got[0] != first[0] || ex.n != 1 {
			t.Fatalf("again: %v after %d queries, want %d first after 1", got, ex.n, first[0])
		}
		_, added := d.document(wk, "processed", "Trespass to chattels requires intermeddling.")
		if got := search("intermeddling chattels"); !slices.Equal(got, added) {
			t.Fatalf("a passage added: %v, want %v", got, added)
		}
		ex.n = 0
		search("intermeddling chattels")
		if ex.n != 1 {
			t.Fatalf("%d queries once the new copy is in memory, want 1", ex.n)
		}
		d.exec(`UPDATE documents SET status = 'processing' WHERE id = ?`, doc)
		if got := search("battery contact apprehension"); slices.Contains(got, first[0]) || slices.Contains(got, first[1]) {
			t.Fatalf("a document being reprocessed is still found: %v", got)
		}
		d.exec(`UPDATE documents SET status = 'processed' WHERE id = ?`, doc)
		if got := search("battery contact"); len(got) == 0 || got[0] != first[0] {
			t.Fatalf("reprocessed: %v", got)
		}
		d.exec(`DELETE FROM documents WHERE id = ?`, doc)
		if got := search("battery contact apprehension"); slices.Contains(got, first[0]) || slices.Contains(got, first[1]) {
			t.Fatalf("a deleted document is still found: %v", got)
		}
	})
}

// TestLexicalStaleCopyNeverReturnsDeletedPassages is
// TestStaleCopyNeverReturnsDeletedPassages for a BM25-only searcher, whose
// turn checks the week's version with its first results: a copy taken for
// current (as a missed version bump would leave it) still never returns a
// deleted passage.
func TestLexicalStaleCopyNeverReturnsDeletedPassages(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		wk := d.week(d.course("A"), 1)
		doc, gone := d.document(wk, "processed", "Battery requires harmful contact.")
		_, kept := d.document(wk, "processed", "Battery requires intent.")
		s := NewSearcher(nil, 0, nil)
		ctx := context.Background()
		if got, _ := s.Search(ctx, d.Read, wk, "battery", 5); len(got) != 2 {
			t.Fatalf("before: %v", ids(got))
		}
		d.exec(`DELETE FROM documents WHERE id = ?`, doc)
		s.cache.mu.Lock()
		s.cache.weeks[wk].v = versions{math.MaxInt64, math.MaxInt64}
		s.cache.mu.Unlock()
		got, err := s.Search(ctx, d.Read, wk, "battery harmful contact", 5)
		if err != nil || !slices.Equal(ids(got), kept) {
			t.Errorf("after the delete: %v %v, want only %v (never %v)", ids(got), err, kept, gone)
		}
	})
}
