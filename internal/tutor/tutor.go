package tutor

import (
	"context"
	"iter"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// passagesPerTurn is how many passages a turn's prompt carries.
const passagesPerTurn = 5

// Tutor answers a session's turns: retrieval from the session's week, the
// prompt, and the model's streamed reply — or the offline tutor's when no
// model is configured.
type Tutor struct {
	search   *retrieval.Searcher
	model    llm.Provider // nil: the offline tutor
	classify Classifier   // nil: the local rules alone
	wait     time.Duration
	// rewrite asks the fast model for the turn's search query (nil: the
	// student's words and the tutor's question alone); see WithRewriter.
	rewrite     Rewriter
	rewriteWait time.Duration
	log         *slog.Logger
}

// New returns a tutor; model may be nil. With a model, the student's words
// are also judged by the model's fast variant (moderation's classifier),
// beside the answer.
func New(search *retrieval.Searcher, model llm.Provider) *Tutor {
	t := &Tutor{search: search, model: model, wait: DefaultVerdictWait, log: slog.New(slog.DiscardHandler)}
	if model != nil {
		t.classify = moderation.NewClassifier(model)
	}
	return t
}

// WithClassifier returns the tutor with another classifier (nil: the
// local rules alone) and verdict wait.
func (t *Tutor) WithClassifier(c Classifier, wait time.Duration) *Tutor {
	u := *t
	u.classify, u.wait = c, wait
	return &u
}

// WithLogger returns the tutor logging to log (classifier failures).
func (t *Tutor) WithLogger(log *slog.Logger) *Tutor {
	u := *t
	u.log = log
	return &u
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
	WeekID int64
	// WeekVersion is the week's versions as the caller read them
	// (retrieval.ReadWeekVersion), or nil: the search reads them.
	WeekVersion *retrieval.WeekVersion
	Week        Week
	History     []llm.Message
	Student     string
	Clock       Clock
	UserID      string // opaque: a hash, never a name or address
	// HistoryBudget bounds the history sent to the model, in estimated
	// tokens (see EstimateTokens); 0: DefaultHistoryBudget.
	HistoryBudget int
}

// Reply is a turn's answer as it streams, and the passages it drew on.
// Verdict is moderation's decision, complete once Events has ended.
type Reply struct {
	Events  iter.Seq[llm.Event]
	Sources []retrieval.Source
	Verdict *moderation.Verdict
	// Classified is a turn the moderation classifier was asked about (at
	// the cost Estimate counted for it).
	Classified bool
	// Rewrote is a turn whose search query the model was asked for (at
	// the cost Estimate counted for it).
	Rewrote bool
}

// Turn retrieves what the student's words (with the tutor's last question,
// for context, and the model's rewritten query with QUERY_REWRITE) point to
// in the week's readings, and starts the reply. On an error, the Reply
// still says which side requests (classifier, rewrite) were sent: they
// are spent.
func (t *Tutor) Turn(ctx context.Context, ex sqlite.Execer, in TurnInput) (Reply, error) {
	verdict := &moderation.Verdict{}
	// The local rules first: a student's words they refuse never reach
	// retrieval or a model.
	if v := moderation.Check(in.Student); v.Flagged {
		*verdict = v
		return Reply{Events: once(moderation.Reply(v)), Verdict: verdict}, nil
	}
	// On a server that answers requests in parallel, the classifier is
	// asked once the answer's request has gone out (judge.start, below):
	// both are on their way long before the model's first word, and when
	// many students send at once the answers' requests, which take
	// longer to come back, are not queued behind the classifiers'. On
	// one that may answer one request at a time, the classifier's must
	// reach it first (the answer's request waits until it is written):
	// behind a whole answer, its verdict would be late.
	var judge *judgement
	var verdicts <-chan verdictResult
	if t.classify != nil {
		judge = t.judge(ctx, in.Student, in.UserID)
		verdicts = judge.out
		if !llm.Parallel(t.model) {
			judge.start()
		}
	}
	// The student's words weigh most; the tutor's last question says what
	// a reply like "the second one" is about.
	query := retrieval.Turn{Student: in.Student, Tutor: lastTutorLine(in.History), Version: in.WeekVersion}
	rewrote := t.rewrite != nil && t.model != nil
	if rewrote {
		// The rewrite is waited for before the answer is asked for: the
		// classifier goes now, beside it, as it would have gone beside
		// the answer.
		judge.start()
		// Beside the classifier, but before the search and so before the
		// answer is asked for: the fast model's query, if it comes within
		// the wait, adds its words to the search. The tutor's first word
		// comes up to QUERY_REWRITE_WAIT later.
		query.Rewrite = t.rewriteQuery(ctx, in.Student, query.Tutor, in.UserID)
	}
	sent := Reply{Classified: judge.started(), Rewrote: rewrote}
	sources, err := t.search.SearchTurn(ctx, ex, in.WeekID, query, passagesPerTurn)
	if err != nil {
		return sent, err
	}
	if sources, err = t.withNamedCase(ctx, ex, in, sources); err != nil {
		return sent, err
	}
	if t.model == nil {
		judge.start()
		r := Offline(OfflineInput{Student: in.Student, Passages: sources, History: in.History, Clock: in.Clock})
		return Reply{Events: gate(ctx, once(r.Text), func() {}, verdicts, verdict, t.verdictFailed), Sources: sources, Verdict: verdict, Classified: judge.started(), Rewrote: rewrote}, nil
	}
	// Oldest exchanges go first when the session outgrows its budget:
	// without it, every turn resent the whole transcript.
	history := fitHistory(conversation(in.History), in.HistoryBudget)
	req := Prompt(in.Week, sources, in.Clock, history, in.Student, in.UserID)
	mctx, cancel := context.WithCancel(ctx)
	var src iter.Seq[llm.Event]
	if llm.Parallel(t.model) {
		src = judge.beforeFirst(t.model.Stream(judge.afterRequest(mctx), req))
	} else {
		src = judge.afterSent(mctx, t.model.Stream(mctx, req))
	}
	return Reply{Events: gate(ctx, src, cancel, verdicts, verdict, t.verdictFailed), Sources: sources, Verdict: verdict, Classified: verdicts != nil, Rewrote: rewrote}, nil
}

// withNamedCase: when the student names a case ("mathews v eldridge", or
// a proper name such as "East River"), the week is searched for the name
// alone, and the passages found that name a case the student named go
// first: the turn is about the case the student raised, not about
// whatever else shares their words. One more search, on such turns only.
func (t *Tutor) withNamedCase(ctx context.Context, ex sqlite.Execer, in TurnInput, sources []retrieval.Source) ([]retrieval.Source, error) {
	name := StudentCase(in.Student)
	if name == "" {
		name = properNames(in.Student)
	}
	if name == "" {
		return sources, nil
	}
	found, err := t.search.SearchTurn(ctx, ex, in.WeekID, retrieval.Turn{Student: name, Version: in.WeekVersion}, passagesPerTurn)
	if err != nil {
		return nil, err
	}
	var out []retrieval.Source
	seen := map[int64]bool{}
	for _, s := range found {
		if caseIn(s.Content, in.Student) != "" {
			out = append(out, s)
			seen[s.ChunkID] = true
		}
	}
	if len(out) == 0 {
		return sources, nil
	}
	for _, s := range sources {
		if !seen[s.ChunkID] {
			out = append(out, s)
		}
	}
	return out, nil
}

// Reserve takes a place among the model calls allowed at once for one
// turn (its answer and its moderation check share it; bind it to the
// turn's context with Slot.Bind). The offline tutor, or a model without a
// cap, needs none: nil, nil. Everything taken is full: llm.ErrBusy.
func (t *Tutor) Reserve() (*llm.Slot, error) { return llm.Reserve(t.model) }

// Load is the model's concurrency cap and use; zero without a cap.
func (t *Tutor) Load() llm.Load {
	if l, ok := t.model.(*llm.Limiter); ok {
		return l.Load()
	}
	return llm.Load{}
}

// verdictFailed logs a classifier that could not clear a turn (the turn
// gets a fixed reply asking to say it again: moderation fails closed).
func (t *Tutor) verdictFailed(err error) {
	moderationFailures.Add(1)
	t.log.Warn("moderation classifier failed; the turn gets the fixed say-it-again reply", "err", err)
}

// moderationFailures counts classifier failures since the process started.
var moderationFailures atomic.Int64

// ModerationFailures is how many turns the classifier could not clear.
func ModerationFailures() int64 { return moderationFailures.Load() }

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
