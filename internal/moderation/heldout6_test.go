package moderation

import "testing"

// The local layers on the sixth held-out batch (testdata/eval/
// moderation-test-6.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 6"), after round 8 was made, while round 9 was being made by another,
// who never saw it. Nothing is tuned on it and its misses are never
// listed; a change that loses more than the margin on it fails. Of the
// held-out sets it is the honest judge of round 9: round 9 was taken on
// dev's figures before this batch was scored with it.
const (
	// First scored with round 8's model: 0.938 (150/160), FP 4/157, all
	// by the rules. Then round 9's:
	test6Recall = 0.938 // 150/160, go run ./cmd/socratic eval moderation --test testdata/eval/moderation-test-6.jsonl --test2 "" (2026-12-05, round 9)
	test6FPR    = 0.019 // 3/157
)

func TestLocalLayersOnTheSixthHeldOutBatch(t *testing.T) {
	// At issue 18's targets (0.938 ≥ 0.90; 3/157 = 0.019 ≤ 0.02, by no
	// margin: 4 would be 0.025): asserted is the measured figure less
	// the margin (still ≥ 0.90) and no more false positives than
	// measured, which holds it to the false-positive target.
	checkHeldOut(t, "test6", "../../testdata/eval/moderation-test-6.jsonl", test6Recall, test6FPR, 3)
}
