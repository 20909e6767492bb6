package retrieval

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestTurnWordsWeighConversation: the student's words at 1, the tutor's
// and the theme's at their weights, filler dropped, everyday words
// expanded into legal ones at the synonyms' weight.
func TestTurnWordsWeighConversation(t *testing.T) {
	tn := Tuning{TutorWeight: 0.5, ThemeWeight: 0.25, Chat: true, Synonyms: 0.4}
	got := map[string]float64{}
	for _, w := range tn.turnWords(Turn{
		Student: "I think he got fired, right?",
		Tutor:   "What did the court say about the dismissal of the employee?",
		Theme:   "procedural due process",
	}) {
		got[w.word] = w.w
	}
	want := map[string]float64{
		"fired": 1,                                                                // "he" is a stopword; "i", "think", "got", "right" are filler
		"court": 0.5, "say": 0.5, "about": 0.5, "dismissal": 0.5, "employee": 0.5, // filler is the student's only
		"procedural": 0.25, "due": 0.25, "process": 0.25,
		"discharge": 0.4, "terminate": 0.4, "removal": 0.4, // "dismissal" keeps the tutor's weight
	}
	if len(got) != len(want) {
		t.Errorf("words %v, want %v", got, want)
	}
	for w, x := range want {
		if got[w] != x {
			t.Errorf("%q weighs %g, want %g (all: %v)", w, got[w], x, got)
		}
	}
	if words := baselineTuning.turnWords(Turn{Student: "I think so", Tutor: "Which clause?"}); len(words) != 3 || words[2].w != 1 {
		t.Errorf("the baseline weighs the tutor's words like the student's and keeps filler: %v", words)
	}
}

// TestCaseBoostAndListings: with the case boost and the demotion of
// listings on (both off by default: see DefaultTuning), among passages BM25
// scores alike the one naming the case the student names comes first, and
// a table of contents naming every case comes last — where without them the
// table of contents comes first.
func TestCaseBoostAndListings(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("C"), 1)
	toc := "Contents . . . . . . . . 1 Goldberg v. Kelly . . . . . . . . 9 Mathews v. Eldridge . . . . . . . . 23 Londoner v. Denver . . . . . . . . 31 balancing test . . . . . . 40"
	_, chunks := d.document(wk, "processed",
		"The balancing test weighs the private interest, the risk of error and the government's interest in a hearing.",
		"In Mathews v. Eldridge the Court set out a balancing test: the private interest, the risk of error, the government's interest.",
		toc,
	)
	ctx := context.Background()
	on := DefaultTuning
	on.CaseBoost, on.Listing = 1, 0.5
	for _, tc := range []struct {
		tuning      Tuning
		first, last int64
	}{
		{DefaultTuning, chunks[2], -1},
		{on, chunks[1], chunks[2]},
	} {
		s := NewSearcher(nil, 0, nil)
		s.SetTuning(tc.tuning)
		got, err := s.Search(ctx, d.Read, wk, "What is the balancing test in Mathews v. Eldridge?", 5)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ChunkID != tc.first || tc.last >= 0 && got[len(got)-1].ChunkID != tc.last {
			t.Errorf("tuning %+v: order %v, want %d first and %d last", tc.tuning, ids(got), tc.first, tc.last)
		}
	}
	if !isListing(toc) || isListing("The Court held. . . that it was so.") {
		t.Error("isListing misjudges")
	}
}

// TestNeighboursJoinAStraddlingAnswer: the sentence that answers is cut
// between two passages; the first result is extended across the edge with
// the next passage's text (not with the overlap it already holds), and a
// passage that holds its answer inside is left as it is.
func TestNeighboursJoinAStraddlingAnswer(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("C"), 1)
	filler := strings.Repeat("Unrelated words about procedure and venue fill this part of the page. ", 6)
	text := filler + "No person shall be convicted of treason unless on the testimony of two witnesses to the same overt act, or on confession in open court. " + filler
	cut := len(filler) + len("No person shall be convicted of treason unless on the testimony of ")
	overlap := cut - 40 // the next passage repeats the last 40 bytes of this one
	docID := d.exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'c.pdf', ?, 1, 'processed', 'now')`, wk, strings.Repeat("e", 64))
	first := d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, 0, 1, 0, ?, ?, 10)`, docID, wk, cut, text[:cut])
	second := d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, 1, 1, ?, ?, ?, 10)`, docID, wk, overlap, len(text), text[overlap:])
	// With the week's numbered words, the same extensions.
	pw := newPassageWords([]int64{first, second}, []string{text[:cut], text[overlap:]})
	for _, q := range []string{"How many witnesses to the same overt act does a treason conviction need?", "procedure and venue"} {
		a, b := []Source{{ChunkID: first, Content: text[:cut]}}, []Source{{ChunkID: first, Content: text[:cut]}}
		words := DefaultTuning.turnWords(Turn{Student: q})
		if err := withNeighbours(context.Background(), d.Read, a, words, 5); err != nil {
			t.Fatal(err)
		}
		if err := withNeighboursIn(context.Background(), d.Read, b, words, 5, pw, nil); err != nil {
			t.Fatal(err)
		}
		if a[0].Content != b[0].Content {
			t.Errorf("%q: with numbered words %q, without %q", q, b[0].Content, a[0].Content)
		}
	}

	ss := []Source{{ChunkID: first, Content: text[:cut]}}
	words := DefaultTuning.turnWords(Turn{Student: "How many witnesses to the same overt act does a treason conviction need?"})
	if err := withNeighbours(context.Background(), d.Read, ss, words, 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ss[0].Content, "of two witnesses to the same overt act") || strings.Count(ss[0].Content, "treason unless") != 1 {
		t.Errorf("not extended once across the edge: %q", ss[0].Content[max(0, len(ss[0].Content)-300):])
	}
	if len(ss[0].Content) > cut+neighbourChars+1 {
		t.Errorf("extended by %d bytes, more than %d", len(ss[0].Content)-cut, neighbourChars)
	}
	inside := []Source{{ChunkID: first, Content: text[:cut]}}
	if err := withNeighbours(context.Background(), d.Read, inside, DefaultTuning.turnWords(Turn{Student: "procedure and venue"}), 5); err != nil {
		t.Fatal(err)
	}
	if inside[0].Content != text[:cut] {
		t.Error("a passage holding its answer inside was extended")
	}
	if !slices.Equal([]string{headOf("a bc def", 5), tailOf("a bc def", 5)}, []string{"a bc", "def"}) {
		t.Error("headOf/tailOf cut mid-word")
	}
}
