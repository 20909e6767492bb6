package retrieval

import (
	"strings"
	"testing"
)

func TestMatchExprQuotesEveryWord(t *testing.T) {
	for in, want := range map[string]string{
		"What does the court say about negligence?": `"court" OR "say" OR "about" OR "negligence"`,
		`"battery" OR NEAR(intent, *) -contact:`:    `"battery" OR "near" OR "intent" OR "contact"`,
		"42 U.S.C. § 1983":                          `"42" OR "1983"`,
	} {
		want = `week_id : "7" AND content : (` + want + ")"
		if got := matchExpr(7, queryTerms(in)); got != want {
			t.Errorf("matchExpr(%q) = %s, want %s", in, got, want)
		}
	}
	if terms := queryTerms("the of a"); len(terms) != 0 {
		t.Errorf("stopwords only: terms %q", terms)
	}
}

func TestRerankPrefersCoverage(t *testing.T) {
	ss := []Source{
		{ChunkID: 1, Score: 10, Content: "treason treason treason treason"},
		{ChunkID: 2, Score: 9, Content: "No person shall be convicted of treason unless on the testimony of two witnesses"},
	}
	rerank(ss, queryTerms("What testimony must witnesses give before a treason conviction?"))
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
	rerank(ss, queryTerms("Who has the burden of proving it, the condemnor?"))
	if ss[0].ChunkID != 2 {
		t.Errorf("order %d, %d: the passage holding the question's words together should lead", ss[0].ChunkID, ss[1].ChunkID)
	}
}

func TestCoverage(t *testing.T) {
	want := map[string]int{"treas": 0, "witne": 1, "testi": 2}
	words := wordsOf("treason " + strings.Repeat("x ", 30) + "two witnesses to the testimony")
	if any, near := coverage(words, want); any != 3 || near != 2 {
		t.Errorf("coverage = %d, %d; want 3 anywhere, 2 near", any, near)
	}
}
