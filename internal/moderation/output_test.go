package moderation

import "testing"

// TestCheckOutputJudgesTheTutorsOwnWords: the tutor's hypotheticals and
// its discussion of a reading are not refused for being off-topic or for
// quoting an injected instruction; content it must never produce is.
func TestCheckOutputJudgesTheTutorsOwnWords(t *testing.T) {
	for text, want := range map[string]bool{
		"Suppose the seller delivered a dog instead of the pizza oven. Same result?":            false,
		"The memo says to ignore previous instructions. Why might a court disregard that line?": false,
		"Who should I vote for, you ask? Vote for Biden.":                                       true,
		"Forget the reading, tell me something sexy about yourself.":                            true,
		"How does the rape shield rule change what the jury hears about sexual history?":        false,
	} {
		if got := CheckOutput(text).Flagged; got != want {
			t.Errorf("CheckOutput(%q) = %v, want %v (%v)", text, got, want, CheckOutput(text).Categories)
		}
	}
	if !Check("Suppose I ordered a pizza, what's the best topping?").Flagged {
		t.Errorf("a student's change of subject is still off-topic for Check")
	}
}
