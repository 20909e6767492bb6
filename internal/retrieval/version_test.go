package retrieval

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// TestSearchAtTheCallersVersion: a turn's search that brings the week's
// versions (Turn.Version, read by the caller in its own transaction) does
// not read them again, and finds what a search that reads them finds,
// from a cold cache and from a warm one. Brought an older version than the
// copy in memory (the week changed after the caller read it), it still
// returns no deleted passage; brought the new one, it sees the change.
func TestSearchAtTheCallersVersion(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	_, gone := d.document(wk, "processed",
		"The mailbox rule makes an acceptance effective on dispatch.",
		"Consideration is a bargained-for exchange.")
	d.document(wk, "processed",
		"Promissory estoppel enforces a promise the promisee relied on.",
		"The mirror image rule: an acceptance must match the offer.")
	ctx := context.Background()
	q := "when is an acceptance effective under the mailbox rule"
	v, err := ReadWeekVersion(ctx, d.Read, wk)
	if err != nil || v.Passages == 0 {
		t.Fatalf("version %+v, %v", v, err)
	}
	plain := NewSearcher(nil, 0, nil)
	want, err := plain.SearchTurn(ctx, d.Read, wk, Turn{Student: q}, 3)
	if err != nil || len(want) == 0 || want[0].ChunkID != gone[0] {
		t.Fatalf("search %+v, %v", ids(want), err)
	}
	s := NewSearcher(nil, 0, nil)
	for _, round := range []string{"cold", "warm"} {
		ex := &sqlitetest.Counting{Contains: "week_versions", Execer: d.Read}
		got, err := s.SearchTurn(ctx, ex, wk, Turn{Student: q, Version: &v}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("%s: %v at the caller's version, %v reading it", round, ids(got), ids(want))
		}
		if n := ex.N(); n != 0 {
			t.Errorf("%s: %d version reads for a search that brought one", round, n)
		}
	}
	// Without one, the search reads it (once).
	ex := &sqlitetest.Counting{Contains: "week_versions", Execer: d.Read}
	if _, err := s.SearchTurn(ctx, ex, wk, Turn{Student: q}, 3); err != nil || ex.N() != 1 {
		t.Fatalf("%d version reads without one, %v", ex.N(), err)
	}
	// The mailbox passage goes; a caller that read the version before
	// brings the old one: the copy is taken as current, and the deleted
	// passage is still left out.
	d.exec(`DELETE FROM chunks WHERE id = ?`, gone[0])
	got, err := s.SearchTurn(ctx, d.Read, wk, Turn{Student: q, Version: &v}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ids(got), gone[0]) {
		t.Errorf("a deleted passage returned at an older version: %v", ids(got))
	}
	// A new passage, and the version read after it: the search sees it.
	_, added := d.document(wk, "processed", "Under the mailbox rule an acceptance is effective when it is posted.")
	nv, err := ReadWeekVersion(ctx, d.Read, wk)
	if err != nil || nv.Passages <= v.Passages {
		t.Fatalf("version %+v after %+v, %v", nv, v, err)
	}
	got, err = s.SearchTurn(ctx, d.Read, wk, Turn{Student: q, Version: &nv}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].ChunkID != added[0] {
		t.Errorf("at the new version: %v, want %d first", ids(got), added[0])
	}
}

// TestReusedPassageIDIsNotTheCopys: SQLite gives a deleted passage's id to
// the next one inserted (chunks.id has no AUTOINCREMENT), as when the
// document holding the last passages is reprocessed. A search at a
// version read before that (a turn's, read when the student's words were
// stored) takes the copy in memory as current; it must not return the
// copy's old text under the id, which is now another passage's.
func TestReusedPassageIDIsNotTheCopys(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	d.document(wk, "processed", "Consideration is a bargained-for exchange between the parties.")
	doc, old := d.document(wk, "processed", "OLDTEXT the mailbox rule makes an acceptance effective on dispatch.")
	ctx := context.Background()
	q := "when is an acceptance effective under the mailbox rule"
	v, err := ReadWeekVersion(ctx, d.Read, wk)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSearcher(nil, 0, nil)
	if got, err := s.SearchTurn(ctx, d.Read, wk, Turn{Student: q, Version: &v}, 3); err != nil || len(got) == 0 || got[0].ChunkID != old[0] {
		t.Fatalf("before: %v, %v", ids(got), err)
	}
	// The document reprocessed: its passage deleted, a new one inserted.
	d.exec(`DELETE FROM chunks WHERE id = ?`, old[0])
	text := "NEWTEXT under the mailbox rule, an acceptance is effective once it is posted, the court held."
	reused := d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
		VALUES (?, ?, 0, 2, 0, ?, ?, 10)`, doc, wk, len(text), text)
	if d.Engine == sqlite.SQLite && reused != old[0] {
		t.Fatalf("SQLite gave the new passage id %d, not the deleted one's %d: the case is not made", reused, old[0])
	}
	got, err := s.SearchTurn(ctx, d.Read, wk, Turn{Student: q, Version: &v}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range got {
		if strings.Contains(src.Content, "OLDTEXT") {
			t.Errorf("the copy's old passage returned as %d: %+v", src.ChunkID, src)
		}
	}
	// At the version read now, the new passage is found, with its text.
	nv, err := ReadWeekVersion(ctx, d.Read, wk)
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.SearchTurn(ctx, d.Read, wk, Turn{Student: q, Version: &nv}, 3)
	if err != nil || len(got) == 0 || got[0].ChunkID != reused || !strings.Contains(got[0].Content, "NEWTEXT") {
		t.Errorf("at the new version: %+v, %v", got, err)
	}
}

// TestWaitingOnAnotherLoadAtTheCallersVersion: a search that finds
// another search loading the week waits for it, and uses what it loaded
// if that covers the version it brought; if the caller brought a newer
// version (the week changed after that load began), it loads the week
// itself and sees the change.
func TestWaitingOnAnotherLoadAtTheCallersVersion(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	d.document(wk, "processed", "The mailbox rule makes an acceptance effective on dispatch.")
	ctx := context.Background()
	v, err := ReadWeekVersion(ctx, d.Read, wk)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSearcher(nil, 0, nil)
	loaded, err := loadWeek(ctx, d.Read, wk, "", versions{v.Passages, v.Vectors})
	if err != nil {
		t.Fatal(err)
	}
	// Another search's load, finished but not yet out of the map.
	call := &loadCall{done: make(chan struct{}), w: loaded}
	close(call.done)
	s.cache.loading[wk] = call
	got, err := s.cache.weekAt(ctx, d.Read, wk, "", v)
	if err != nil || got != loaded {
		t.Fatalf("at the load's version: %p, want the load's %p (%v)", got, loaded, err)
	}
	_, added := d.document(wk, "processed", "Promissory estoppel enforces a promise relied on.")
	nv, err := ReadWeekVersion(ctx, d.Read, wk)
	if err != nil || nv.Passages <= v.Passages {
		t.Fatalf("version %+v after %+v, %v", nv, v, err)
	}
	got, err = s.cache.weekAt(ctx, d.Read, wk, "", nv)
	if err != nil || got == loaded || !got.v.covers(versions{nv.Passages, nv.Vectors}, "") {
		t.Fatalf("at a newer version: %+v (the load's: %v), %v", got.v, got == loaded, err)
	}
	if _, ok := got.pass.position(added[0]); !ok {
		t.Errorf("the week loaded at the newer version lacks the passage added")
	}
}
