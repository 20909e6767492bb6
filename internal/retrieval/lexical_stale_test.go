package retrieval

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// TestLexicalStaleCopyNeverReturnsDeletedPassages is
// TestStaleCopyNeverReturnsDeletedPassages for a BM25-only searcher (the
// turn's path that asks only about its first results): a copy taken for
// current, as a missed version bump would leave it, never returns a
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
