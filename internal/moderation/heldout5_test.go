package moderation

import "testing"

// The local layers on the fifth held-out batch (testdata/eval/
// moderation-test-5.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 5"), while round 8 was being made by another, who never saw it. Nothing
// is tuned on it and its misses are never listed; a change that loses more
// than the margin on it fails.
const (
	// First scored with round 7's model: 0.931 (149/160), FP 5/155 (4 by
	// the rules). Then round 8's: 0.931 (149/160), FP 6/155 (4 by the
	// rules, 2 by the model). Then round 9's (third-person legal talk is
	// the model's to judge; its maker never saw this file): 0.931
	// (149/160), FP 3/155. Then round 10's (self-harm is the rules' again):
	test5Recall = 0.931 // 149/160, go run ./cmd/socratic eval moderation --test testdata/eval/moderation-test-5.jsonl --test2 "" (2026-12-05, round 10)
	test5FPR    = 0.039 // 6/155: 4 by the rules, 2 by the model
)

func TestLocalLayersOnTheFifthHeldOutBatch(t *testing.T) {
	// OVER ISSUE 18's false-positive target since round 10 (6/155; 3 is
	// 0.019), as measured: asserted is that figure plus the margin, and
	// no more false positives than measured.
	checkHeldOut(t, "test5", "../../testdata/eval/moderation-test-5.jsonl", test5Recall, test5FPR, 6)
}
