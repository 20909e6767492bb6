package session

import (
	"testing"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/tutor"
)

// TestReconcileKeepsWhatWasAsked: an answered turn's charge becomes the
// model's count of the answer plus the estimates of the side requests the
// tutor really made (the classifier's, the query rewrite's); what was
// estimated and not asked is given back.
func TestReconcileKeepsWhatWasAsked(t *testing.T) {
	cost := tutor.Cost{Answer: 1000, Classifier: 200, Rewrite: 300}
	used := llm.Usage{Input: 400, Output: 50, CacheRead: 100}
	for _, tc := range []struct {
		classified, rewrote bool
		want                int64 // the charge after reconciling
	}{
		{false, false, 550},
		{true, false, 750},
		{false, true, 850},
		{true, true, 1050},
	} {
		p := &Pending{cost: cost, classified: tc.classified, rewrote: tc.rewrote}
		if got := int64(cost.Total()) + p.reconcile(used); got != tc.want {
			t.Errorf("classified %v, rewrote %v: charged %d, want %d", tc.classified, tc.rewrote, got, tc.want)
		}
	}
}
