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
	// BELOW ISSUE 18's recall target (141/160; 144 is 0.900), as
	// measured: asserted is that figure less the margin.
	checkHeldOut(t, "test3", "../../testdata/eval/moderation-test-3.jsonl", test3Recall, test3FPR, 2)
}
