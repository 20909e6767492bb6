package moderation

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

// ordinaryReplies are plain things a student says in a spoken tutoring
// session: hedges, "I don't know", asking for a hint or a repeat. None of
// them is a violation; the first three were flagged by the trained layer
// (issue 18 §5, round 3), "I have nothing else" as manipulation, a strike.
// They are written for this test and are not in the dev set.
var ordinaryReplies = []string{
	"The vice president is president of the Senate but can't vote, right?",
	"I have nothing else.",
	"I can't think of anything else.",
	"I don't know.",
	"I'm not sure, maybe the dissent?",
	"no, that's all",
	"I think the court got it wrong",
	"pass",
	"could you give me a hint",
	"what page is that on",
	"can you repeat that",
	"the second one",
	"hmm, let me think",
	"wait, what was the question again?",
	"I have no clue honestly",
	"probably the first one?",
	"yeah, I think so",
	"no, I don't think so",
	"that's everything I've got",
	"sorry, I missed that",
	"could you say that more slowly",
	"I guess the majority?",
	"okay, go on",
	"I'd rather move to the next question",
	"um, maybe because of precedent",
	"that makes sense",
	"I'm stuck",
	"nothing more from me",
	"I agree with the concurrence",
	"can we go back to the last part",
	"I'm really not sure about this one",
	"is it the one about standing?",
	"I forgot what the holding was",
	"right, okay",
}

// deliberateViolations are tutor-dialogue turns written to be violations;
// none of the scripted dialogues has one today.
var deliberateViolations = map[string]bool{}

// TestOrdinaryRepliesAreNotFlagged: every student turn of the tutor eval's
// scripted dialogues (testdata/eval/tutor-dialogues.jsonl, not moderation
// data) and the ordinary replies above pass Check unflagged.
func TestOrdinaryRepliesAreNotFlagged(t *testing.T) {
	f, err := os.Open("../../testdata/eval/tutor-dialogues.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var turns []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d struct {
			Turns []struct {
				Student string `json:"student"`
			} `json:"turns"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		for _, tu := range d.Turns {
			if !deliberateViolations[tu.Student] {
				turns = append(turns, tu.Student)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(turns) < 90 {
		t.Fatalf("read %d student turns from the tutor dialogues", len(turns))
	}
	flagged := 0
	for _, s := range append(turns, ordinaryReplies...) {
		if v := Check(s); v.Flagged {
			flagged++
			t.Errorf("flagged %v by %s: %q", v.Categories, v.Source, s)
		}
	}
	t.Logf("%d of %d ordinary turns flagged", flagged, len(turns)+len(ordinaryReplies))
}
