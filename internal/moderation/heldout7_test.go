package moderation

import "testing"

// The local layers on the seventh held-out batch (testdata/eval/
// moderation-test-7.jsonl): written on 2026-12-05 by someone who had not
// read the rules, the model or the other sets (README-moderation.md, "Batch
// 7"), after round 10, with nothing changed in moderation since. Nothing
// is tuned on it and its misses are never listed; a change that loses
// more than the margin on it fails.
const (
	// Its first scoring, with round 10's layers:
	test7Recall = 0.944 // 151/160, go run ./cmd/socratic eval moderation --test testdata/eval/moderation-test-7.jsonl --test2 "" (2026-12-05)
	test7FPR    = 0.019 // 3/156: 2 by the rules, 1 by the model
)

func TestLocalLayersOnTheSeventhHeldOutBatch(t *testing.T) {
	// At issue 18's targets as measured (recall ≥ 0.90, false positives
	// ≤ 2%): asserted is that recall less the margin, and no more false
	// positives than measured.
	checkHeldOut(t, "test7", "../../testdata/eval/moderation-test-7.jsonl", test7Recall, test7FPR, 3)
}
