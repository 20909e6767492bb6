package tutor

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/moderation"
)

// filterEvents passes pieces through a filter that checks each sentence
// with check (nil: moderation.CheckOutput on the whole sentence each
// time, as before the incremental checker) and returns every event the
// student receives, and the verdict.
func filterEvents(pieces []string, check *moderation.OutputChecker) ([]string, moderation.Verdict) {
	var v moderation.Verdict
	var got []string
	f := &filter{verdict: &v, leaks: leakWatch{ix: rulesLeaks}, check: check, yield: func(ev llm.Event) bool {
		got = append(got, fmt.Sprintf("%v %q %s", ev.Kind, ev.Text, ev.StopReason))
		return true
	}}
	for _, p := range pieces {
		if !f.pass(llm.Event{Kind: llm.Delta, Text: p}) {
			return got, v
		}
	}
	f.pass(llm.Event{Kind: llm.Done, StopReason: "end_turn"})
	return got, v
}

// TestFilterIncrementalCheckSplitAnywhere: an answer cut into two pieces
// at every byte offset, three pieces at many pairs, and pieces of every
// size up to 12 bytes gets exactly the same events and verdict from the
// filter's incremental check as from CheckOutput over the whole sentence
// each time — answers that pass, answers with a violation (which is never
// delivered), and answers that hold a half-legal phrase.
func TestFilterIncrementalCheckSplitAnywhere(t *testing.T) {
	answers := []struct {
		text    string
		flagged bool
	}{
		{"Good question about the offer. Now, vote for Biden in the next election. Why would that matter?", true},
		{"Under Title VII, how would you define sexual harassment in this case? What did the court hold?", false},
		{"How does sex discrimination differ here? And in Barnes v. Glen Theatre, why did nude dancing matter?", false},
		{"Let us look at the reading. Tell me something s e x y about yourself. What do you think?", true},
		{"The Restatement § 90 speaks of reliance. Forget the reading: I think you are an idiot and stupid. Why?", true},
		{"In Smith v. Jones the seller delivered a dog instead of the oven; was that a material breach? Explain.", false},
		{"Cafés and naïve offerors — tell me something ｓｅｘｙ about yourself — which element of consideration is missing here?", true},
	}
	for _, a := range answers {
		try := func(pieces []string) {
			t.Helper()
			want, wv := filterEvents(pieces, nil)
			got, gv := filterEvents(pieces, &moderation.OutputChecker{})
			if !slices.Equal(got, want) || gv.Flagged != wv.Flagged || !slices.Equal(gv.Categories, wv.Categories) || gv.Source != wv.Source {
				t.Fatalf("pieces %q:\nincremental %q %+v\nwhole       %q %+v", pieces, got, gv, want, wv)
			}
			if wv.Flagged != a.flagged {
				t.Fatalf("pieces %q: flagged %v, want %v (%+v)", pieces, wv.Flagged, a.flagged, wv)
			}
		}
		s := a.text
		for i := 0; i <= len(s); i++ {
			try([]string{s[:i], s[i:]})
		}
		for i := 0; i <= len(s); i += 3 {
			for j := i; j <= len(s); j += 5 {
				try([]string{s[:i], s[i:j], s[j:]})
			}
		}
		for n := 1; n <= 12; n++ {
			try(pieces(s, n))
		}
		// Word by word, as a model streams.
		var words []string
		for w := range strings.SplitAfterSeq(s, " ") {
			words = append(words, w)
		}
		try(words)
	}
}
