package retrieval

import "testing"

func TestMatchExprQuotesEveryWord(t *testing.T) {
	for in, want := range map[string]string{
		"What does the court say about negligence?": `"court" OR "say" OR "about" OR "negligence"`,
		`"battery" OR NEAR(intent, *) -contact:`:    `"battery" OR "near" OR "intent" OR "contact"`,
		"the of a":                                  "",
		"42 U.S.C. § 1983":                          `"42" OR "1983"`,
	} {
		if got := matchExpr(queryTerms(in)); got != want {
			t.Errorf("matchExpr(%q) = %s, want %s", in, got, want)
		}
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
