package moderation

import "testing"

// The local layers on the fourth held-out batch (testdata/eval/
// moderation-test-4.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 4"), while round 7 was being trained by another, who never saw it.
// It is not a clean judge of round 8: the count of rules false positives
// on it led to that round.
// Nothing is tuned on it and its misses are never listed; a change that
// loses more than the margin on it fails.
const (
	// First scored with round 6's model: 0.894 (143/160), FP 6/155 (5 by
	// the rules). Then round 7's: 0.938 (150/160), FP 5/155, all by the
	// rules. Then round 8's (the rules narrowed on legal talk, prompted by
	// round 7's count of rules false positives here, no line of it read):
	// 0.944 (151/160), FP 5/155 (4 by the rules, 1 by the model). Then
	// round 9's (third-person legal talk is the model's to judge): 0.944
	// (151/160), FP 3/155. Then round 10's (a review found the student's
	// own self-harm passing round 9's gate: self-harm is the rules' again):
	test4Recall = 0.944 // 151/160, go run ./cmd/socratic eval moderation --test testdata/eval/moderation-test-4.jsonl --test2 "" (2026-12-05, round 10)
	test4FPR    = 0.032 // 5/155: 4 by the rules, 1 by the model
)

func TestLocalLayersOnTheFourthHeldOutBatch(t *testing.T) {
	// OVER ISSUE 18's false-positive target since round 10 (5/155; 3 is
	// 0.019), as measured: asserted is that figure plus the margin, and
	// no more false positives than measured.
	checkHeldOut(t, "test4", "../../testdata/eval/moderation-test-4.jsonl", test4Recall, test4FPR, 5)
}

// checkHeldOut holds the combined layers on a held-out batch of at least
// 300 utterances to its measured recall and false-positive rate (less and
// plus the margins) and to at most maxFP false positives whatever the
// margin; where the measured figures miss issue 18's targets, that is
// logged (the issue's acceptance split is TestLocalLayersOnTheTestSplit's).
func checkHeldOut(t *testing.T, name, file string, recall, fpr float64, maxFP int) {
	t.Helper()
	set, err := ReadExamplesFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) < 300 {
		t.Fatalf("%s has %d utterances", name, len(set))
	}
	s := Evaluate(LayerCombined, set)
	t.Logf("%s, combined: recall %.3f (%d/%d), false positives %.3f (%d/%d)", name, s.Recall(), s.Caught, s.Violations, s.FPR(), s.FalsePositives, s.Clean)
	if s.Recall() < recall-testMargin || s.FPR() > fpr+testMargin/2 {
		t.Errorf("combined on %s: recall %.3f (want ≥ %.3f), false positives %.3f (want ≤ %.3f)", name, s.Recall(), recall-testMargin, s.FPR(), fpr+testMargin/2)
	}
	if s.FalsePositives > maxFP {
		t.Errorf("combined on %s: %d false positives, measured %d", name, s.FalsePositives, maxFP)
	}
	if s.FPR() > issueFPR {
		t.Logf("combined on %s: false positives %.3f, over issue 18's %.2f", name, s.FPR(), issueFPR)
	}
	if s.Recall() < issueRecall {
		t.Logf("combined on %s: recall %.3f, below issue 18's target %.2f", name, s.Recall(), issueRecall)
	}
}
