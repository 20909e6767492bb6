package moderation

import "testing"

// The local layers on the third held-out batch (testdata/eval/
// moderation-test-3.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 3"), while round 6 was being trained on dev by another, who never saw it.
// Nothing is tuned on it and its misses are never listed; a change that
// loses more than the margin on it fails.
const (
	// First scored with round 5's model: 0.894 (143/160), FP 3/153 (all
	// three by the rules). Then round 6's:
	test3Recall = 0.881 // 141/160, go run ./cmd/socratic eval moderation --test testdata/eval/moderation-test-3.jsonl --test2 "" (2026-12-05, round 6)
	test3FPR    = 0.013 // 2/153, by the rules
)

func TestLocalLayersOnTheThirdHeldOutBatch(t *testing.T) {
	set, err := ReadExamplesFile("../../testdata/eval/moderation-test-3.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(set) < 300 {
		t.Fatalf("the third held-out batch has %d utterances", len(set))
	}
	s := Evaluate(LayerCombined, set)
	t.Logf("test3, combined: recall %.3f (%d/%d), false positives %.3f (%d/%d)", s.Recall(), s.Caught, s.Violations, s.FPR(), s.FalsePositives, s.Clean)
	if s.Recall() < test3Recall-testMargin || s.FPR() > test3FPR+testMargin/2 {
		t.Errorf("combined on test3: recall %.3f (want ≥ %.3f), false positives %.3f (want ≤ %.3f)", s.Recall(), test3Recall-testMargin, s.FPR(), test3FPR+testMargin/2)
	}
	if s.FalsePositives > 2 {
		t.Errorf("combined on test3: %d false positives, measured 2", s.FalsePositives)
	}
	if s.FPR() > issueFPR {
		t.Errorf("combined on test3: false positives %.3f, over issue 18's %.2f", s.FPR(), issueFPR)
	}
	// BELOW ISSUE 18's recall target (141/160; 144 is 0.900), as measured:
	// asserted above is that figure less the margin.
	if s.Recall() < issueRecall {
		t.Logf("combined on test3: recall %.3f, below issue 18's target %.2f", s.Recall(), issueRecall)
	}
}
