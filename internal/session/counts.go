package session

import (
	"sync"
	"sync/atomic"

	"github.com/lawtutor/socratic/internal/moderation"
)

// VerdictKey is one moderation outcome as /metrics counts it: the layer
// that flagged the turn (rules, model, classifier, output) and one of the
// verdict's categories; a turn nothing flagged is {"none", "none"}.
type VerdictKey struct{ Layer, Category string }

// answerCounts are the tutor's answers stored since the process started.
type answerCounts struct {
	answered atomic.Int64
	mu       sync.Mutex
	verdicts map[VerdictKey]int64
}

// count notes a stored answer and its verdict. Layers and categories come
// from closed lists; anything else is counted as "other", so the metric's
// labels stay bounded.
func (c *answerCounts) count(v moderation.Verdict) {
	c.answered.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verdicts == nil {
		c.verdicts = map[VerdictKey]int64{}
	}
	if !v.Flagged {
		c.verdicts[VerdictKey{"none", "none"}]++
		return
	}
	layer := v.Source
	switch layer {
	case moderation.SourceRules, moderation.SourceModel, moderation.SourceClassifier, moderation.SourceOutput:
	default:
		layer = "other"
	}
	if len(v.Categories) == 0 {
		c.verdicts[VerdictKey{layer, "other"}]++
	}
	for _, cat := range v.Categories {
		name := string(cat)
		if !moderation.Valid(cat) {
			name = "other"
		}
		c.verdicts[VerdictKey{layer, name}]++
	}
}

// TurnsAnswered counts the tutor's answers stored since the process
// started (a turn the model failed on is not one).
func (s *Service) TurnsAnswered() int64 { return s.answers.answered.Load() }

// Verdicts counts the stored answers' moderation verdicts since the
// process started, by layer and category.
func (s *Service) Verdicts() map[VerdictKey]int64 {
	s.answers.mu.Lock()
	defer s.answers.mu.Unlock()
	out := make(map[VerdictKey]int64, len(s.answers.verdicts))
	for k, n := range s.answers.verdicts {
		out[k] = n
	}
	return out
}
