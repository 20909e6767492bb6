package moderation

import "testing"

// The local layers on the second held-out batch (testdata/eval/
// moderation-test-2.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 2"), after the first test split had been scored too often to be an
// honest judge. Nothing is tuned on it and its misses are never listed; a
// change that loses more than the margin on it fails.
const (
	// First scored on 2026-12-05 with the model of 2026-12-04 (round 3):
	// 0.878 (137/156), FP 2/145; then with round 4's: 0.910 (142/156),
	// FP 3/145; round 5's: 0.917 (143/156), FP 2/145. Then after the
	// review's safety fix (idioms about the student's own body or life no
	// longer blanked; retrained), each model trained without anyone having
	// seen this file or its misses:
	// 0.897 (140/156), FP 2/145. Then round 6's:
	test2Recall = 0.904 // 141/156, go run ./cmd/socratic eval moderation (2026-12-05, round 6)
	test2FPR    = 0.007 // 1/145, by the rules
)

func TestLocalLayersOnTheSecondHeldOutBatch(t *testing.T) {
	// At issue 18's recall target since round 6 by one utterance (141/156;
	// 140 is 0.897): asserted is that figure less the margin.
	checkHeldOut(t, "test2", "../../testdata/eval/moderation-test-2.jsonl", test2Recall, test2FPR, 1)
}

// checkHeldOut holds the combined layers on a held-out batch of at least
// 300 utterances to its measured recall and false-positive rate (less and
// plus the margins), to at most maxFP false positives whatever the
// margin, and to issue 18's false-positive target; a recall below the
// issue's target is logged.
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
		t.Errorf("combined on %s: false positives %.3f, over issue 18's %.2f", name, s.FPR(), issueFPR)
	}
	if s.Recall() < issueRecall {
		t.Logf("combined on %s: recall %.3f, below issue 18's target %.2f", name, s.Recall(), issueRecall)
	}
}
