package retrieval

import (
	"context"
	"runtime"
	"testing"
)

// TestEdgesWithinTheirReserve: the edges of every passage of the corpus
// week, made as searches make them, take no more heap than the room
// weekPassages.bytes reserved for them, so a week the cache keeps stays
// within its budget however many of its passages become results.
func TestEdgesWithinTheirReserve(t *testing.T) {
	d := newDB(t)
	wk := corpusWeek(t, d)
	s := NewSearcher(nil, 0, nil)
	w, err := s.cache.week(context.Background(), d.Read, wk, "")
	if err != nil {
		t.Fatal(err)
	}
	n := len(w.pass.meta)
	if n < 100 {
		t.Fatalf("the corpus week has %d passages", n)
	}
	edges := make([]*edgeWords, n) // kept alive past the second reading
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		edges[i] = w.pass.edge(int32(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d passages: edges took %d bytes of heap, %d reserved (%d a passage)", n, grew, int64(n)*edgeReserve, edgeReserve)
	if grew > int64(n)*edgeReserve {
		t.Errorf("the edges took %d bytes, more than the %d reserved for them", grew, int64(n)*edgeReserve)
	}
	runtime.KeepAlive(edges)
	runtime.KeepAlive(w)
}
