package retrieval

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestQueryTermsDropStopwordsAndSyntax(t *testing.T) {
	for in, want := range map[string]string{
		"What does the court say about negligence?": "court say about negligence",
		`"battery" OR NEAR(intent, *) -contact:`:    "battery near intent contact",
		"42 U.S.C. § 1983":                          "42 1983",
		"the of a":                                  "",
	} {
		if got := strings.Join(queryTerms(in), " "); got != want {
			t.Errorf("queryTerms(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLexTermsStemFoldAndSplit(t *testing.T) {
	got := strings.Join(lexTerms("Négligence, negligent NEGLIGENTLY; §1983 co-defendants' résumé", nil), " ")
	if want := "neglig neglig neglig 1983 co defend resum"; got != want {
		t.Errorf("lexTerms = %q, want %q", got, want)
	}
}

// TestLexIndexScoresLikeBM25 checks the index against BM25 worked by hand.
func TestLexIndexScoresLikeBM25(t *testing.T) {
	ix := newLexIndex([]int64{10, 20, 30}, []string{
		"battery battery contact",
		"assault",
		"battery requires harmful contact and intent",
	})
	docs, scores := ix.search([]weighted{{"batteri", 1}, {"intent", 1}}, 10, bm25K1, bm25B)
	if len(docs) != 2 || ix.ids[docs[0]] != 30 || ix.ids[docs[1]] != 10 {
		t.Fatalf("order %v", docs)
	}
	// N 3, lengths 3, 1, 6 (average 10/3). "batteri": df 2, idf
	// log(1.5/2.5) < 0 → 1e-6; "intent": df 1, idf log(2.5/1.5).
	norm := func(n float64) float64 { return bm25K1 * (1 - bm25B + bm25B*n/(10.0/3)) }
	tfw := func(tf, n float64) float64 { return tf * (bm25K1 + 1) / (tf + norm(n)) }
	want30 := 1e-6*tfw(1, 6) + math.Log(2.5/1.5)*tfw(1, 6)
	want10 := 1e-6 * tfw(2, 3)
	if math.Abs(float64(scores[0])-want30) > 1e-5 || math.Abs(float64(scores[1])-want10) > 1e-9 {
		t.Errorf("scores %v, want %v and %v", scores, want30, want10)
	}
	if docs, _ := ix.search([]weighted{{"tort", 1}}, 10, bm25K1, bm25B); len(docs) != 0 {
		t.Errorf("a word in no passage matched %v", docs)
	}
}

func TestRerankPrefersCoverage(t *testing.T) {
	ss := []Source{
		{ChunkID: 1, Score: 10, Content: "treason treason treason treason"},
		{ChunkID: 2, Score: 9, Content: "No person shall be convicted of treason unless on the testimony of two witnesses"},
	}
	rerank(ss, DefaultTuning.turnWords(Turn{Student: "What testimony must witnesses give before a treason conviction?"}))
	if ss[0].ChunkID != 2 {
		t.Errorf("order %d, %d: the passage sharing more of the question's words should lead", ss[0].ChunkID, ss[1].ChunkID)
	}
}

func TestRerankPrefersWordsTogether(t *testing.T) {
	// Both passages hold every word of the question; the one that holds
	// them in one clause is the answer, the other only mentions them.
	filler := strings.Repeat("the parties briefed other matters at length ", 5)
	ss := []Source{
		{ChunkID: 1, Score: 10, Content: "A burden arises. " + filler + "Proving intent is hard. " + filler + "The condemnor acted."},
		{ChunkID: 2, Score: 9, Content: "The condemnor bears the burden of proving that the use is public. " + filler},
	}
	rerank(ss, DefaultTuning.turnWords(Turn{Student: "Who has the burden of proving it, the condemnor?"}))
	if ss[0].ChunkID != 2 {
		t.Errorf("order %d, %d: the passage holding the question's words together should lead", ss[0].ChunkID, ss[1].ChunkID)
	}
}

func TestCoverage(t *testing.T) {
	want := map[string]int{"treas": 0, "witne": 1, "testi": 2}
	text := "Treason " + strings.Repeat("x ", 30) + "two witnesses to the testimony"
	if any, near := coverage(text, want, []float64{1, 1, 1}); any != 3 || near != 2 {
		t.Errorf("coverage = %g, %g; want 3 anywhere, 2 near", any, near)
	}
}

// TestNearestSplitScanAgrees: a week large enough to be scanned on every
// core ranks exactly as one scan does, ties included.
func TestNearestSplitScanAgrees(t *testing.T) {
	const dim, n = 64, parallelScan/64 + 1000
	w := &weekVectors{dim: dim}
	for i := range n {
		w.ids = append(w.ids, int64(i))
		v := make([]float32, dim)
		v[i%dim] = float32(i%7) / 7 // many exact ties
		w.vecs = append(w.vecs, v...)
	}
	q := make([]float32, dim)
	for i := range q {
		q[i] = 1
	}
	got := w.nearest(q, 50)
	// One scan, by hand.
	h := make(scoreHeap, 0, 51)
	for i := range n {
		h.offer(scored{i, dot(q, w.vecs[i*dim:(i+1)*dim])}, 50)
	}
	want := make([]int64, len(h))
	for j := len(h) - 1; j >= 0; j-- {
		want[j] = int64(h.pop().i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("split scan %v\none scan %v", got[:10], want[:10])
	}
}
