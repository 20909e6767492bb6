package tutor

import (
	"context"
	"iter"
	"strings"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// passagesPerTurn is how many passages a turn's prompt carries.
const passagesPerTurn = 5

// Tutor answers a session's turns: retrieval from the session's week, the
// prompt, and the model's streamed reply — or the offline tutor's when no
// model is configured.
type Tutor struct {
	search *retrieval.Searcher
	model  llm.Provider // nil: the offline tutor
}

// New returns a tutor; model may be nil.
func New(search *retrieval.Searcher, model llm.Provider) *Tutor {
	return &Tutor{search: search, model: model}
}

// Provider names who answers: the model's provider, or "offline".
func (t *Tutor) Provider() string {
	if t.model == nil {
		return "offline"
	}
	return t.model.Name()
}

// TurnInput is one student turn. History is the session's transcript so
// far, from storage (never from process memory).
type TurnInput struct {
	WeekID  int64
	Week    Week
	History []llm.Message
	Student string
	Clock   Clock
	UserID  string // opaque: a hash, never a name or address
}

// Reply is a turn's answer as it streams, and the passages it drew on.
type Reply struct {
	Events  iter.Seq[llm.Event]
	Sources []retrieval.Source
}

// Turn retrieves what the student's words (with the tutor's last question,
// for context, and no extra model call) point to in the week's readings,
// and starts the reply.
func (t *Tutor) Turn(ctx context.Context, ex sqlite.Execer, in TurnInput) (Reply, error) {
	query := in.Student
	if last := lastTutorLine(in.History); last != "" {
		query = in.Student + "\n" + last
	}
	sources, err := t.search.Search(ctx, ex, in.WeekID, query, passagesPerTurn)
	if err != nil {
		return Reply{}, err
	}
	if t.model == nil {
		turns := 0
		for _, m := range in.History {
			if m.Role == llm.Assistant {
				turns++
			}
		}
		r := Offline(in.Student, sources, turns)
		return Reply{Events: once(r.Text), Sources: sources}, nil
	}
	req := Prompt(in.Week, sources, in.Clock, in.History, in.Student, in.UserID)
	return Reply{Events: t.model.Stream(ctx, req), Sources: sources}, nil
}

func lastTutorLine(history []llm.Message) string {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role == llm.Assistant {
			return strings.TrimSpace(history[i].Text)
		}
	}
	return ""
}

// once is a whole reply as a stream: one delta, then done.
func once(text string) iter.Seq[llm.Event] {
	return func(yield func(llm.Event) bool) {
		if yield(llm.Event{Kind: llm.Delta, Text: text}) {
			yield(llm.Event{Kind: llm.Done, StopReason: "end_turn"})
		}
	}
}
