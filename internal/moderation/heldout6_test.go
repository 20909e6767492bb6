package moderation

import "testing"

// The local layers on the sixth held-out batch (testdata/eval/
// moderation-test-6.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 6"), after round 8 was made, while round 9 was being made by another,
// who never saw it. Nothing is tuned on it and its misses are never
// listed; a change that loses more than the margin on it fails. Of the
// held-out sets it was the honest judge of round 9 (taken on dev's
// figures before this batch was scored with it); round 10 undid part of
// round 9 for safety, after a review, not for anything seen here.
const (
	// First scored with round 8's model: 0.938 (150/160), FP 4/157, all
	// by the rules. Then round 9's: 0.938 (150/160), FP 3/157, at issue
	// 18's targets. Then round 10's (self-harm is the rules' again):
	test6Recall = 0.938 // 150/160, go run ./cmd/socratic eval moderation --test testdata/eval/moderation-test-6.jsonl --test2 "" (2026-12-05, round 10)
	test6FPR    = 0.025 // 4/157: all by the rules
)

func TestLocalLayersOnTheSixthHeldOutBatch(t *testing.T) {
	// OVER ISSUE 18's false-positive target since round 10 (4/157; 3 is
	// 0.019), as measured: asserted is that figure plus the margin, and
	// no more false positives than measured.
	checkHeldOut(t, "test6", "../../testdata/eval/moderation-test-6.jsonl", test6Recall, test6FPR, 4)
}
