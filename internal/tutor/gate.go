package tutor

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/moderation"
)

// Classifier judges a student's words (moderation's second layer).
type Classifier interface {
	Classify(ctx context.Context, text, userID string) (moderation.Verdict, error)
}

// DefaultVerdictWait is how long a turn waits for the classifier before
// treating the turn as unchecked: longer than a fast model takes, short
// enough that a student who gets the redirect for it is not left waiting.
const DefaultVerdictWait = 1500 * time.Millisecond

// ErrNoVerdict is a classifier that did not answer in time.
var ErrNoVerdict = errors.New("tutor: no moderation verdict in time")

type verdictResult struct {
	v   moderation.Verdict
	err error
}

// classifyInto starts the classifier (judgement.start says when); its
// result arrives on out, an error when it fails or takes longer than wait.
// returned is called once Classify has returned.
func classifyInto(ctx context.Context, c Classifier, wait time.Duration, text, userID string, out chan<- verdictResult, returned func()) {
	go func() {
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		v, err := c.Classify(ctx, text, userID)
		returned()
		if err != nil && ctx.Err() != nil {
			err = errors.Join(ErrNoVerdict, err)
		}
		out <- verdictResult{v, err}
	}()
}

// gate is what the student receives of the model's answer. Nothing passes
// until the classifier's verdict on the student's words has arrived
// (verdicts nil: no classifier); an unsafe, failed or late verdict turns
// the answer into the fixed reply, and the model is stopped. After that,
// the answer is let through as it comes, each piece only once the sentence
// so far has passed the local rules with it, so no unchecked text ever
// leaves: a sentence that fails ends the answer with the redirect. The outcome is
// written to *verdict before the last event. cancel ends the model's
// request.
func gate(ctx context.Context, source iter.Seq[llm.Event], cancel context.CancelFunc, verdicts <-chan verdictResult, verdict *moderation.Verdict, onVerdictErr func(error)) iter.Seq[llm.Event] {
	return func(yield func(llm.Event) bool) {
		defer cancel() // the model's request, at once, however the answer ends
		out := &filter{yield: yield, verdict: verdict, leaks: leakWatch{ix: rulesLeaks}, check: &moderation.OutputChecker{}}
		// The model's stream is pulled, not ranged over, so that it can
		// change hands. While a verdict is awaited, a reader goroutine
		// pulls it (the request goes out, the classifier's after it, and
		// the pieces queue until the verdict); once the verdict has
		// cleared the turn, the reader hands the stream over after the
		// piece it is waiting for, and this goroutine pulls the rest
		// itself. A piece then costs one goroutine's wake-up instead of
		// two and a channel between them: most of an answer arrives
		// after its verdict. Without a classifier there is no reader.
		next, stopPull := iter.Pull(source)
		if verdicts == nil {
			defer stopPull()
			pull(next, out)
			return
		}
		r := startReader(next, stopPull)
		defer func() {
			if r.state.CompareAndSwap(reading, gone) {
				close(r.stop) // the reader stops the stream when its pull returns
			} else {
				stopPull() // handed over: it is this goroutine's
			}
		}()
		events := r.events
		var held []llm.Event
		finished := false
		for {
			select {
			case v := <-verdicts:
				verdicts = nil
				if v.err != nil && ctx.Err() != nil {
					// The student left: not a verdict, and nothing to store.
					yield(llm.Event{Kind: llm.Error, Err: ctx.Err()})
					return
				}
				if v.err != nil {
					onVerdictErr(v.err)
					v.v = moderation.Verdict{Flagged: true, Categories: []moderation.Category{moderation.Unverified}, Source: moderation.SourceClassifier}
				}
				if v.v.Flagged {
					*verdict = v.v
					if yield(llm.Event{Kind: llm.Delta, Text: moderation.Reply(v.v)}) {
						yield(llm.Event{Kind: llm.Done, StopReason: "moderated"})
					}
					return
				}
				for _, ev := range held {
					if !out.pass(ev) {
						return
					}
				}
				held = nil
				if finished {
					return
				}
				close(r.handOver)
			case ev, ok := <-events:
				if !ok {
					// The reader has stopped pulling: the stream ended, or
					// (only after the verdict) it was handed over.
					events = nil
					if r.ended {
						finished = true
						if verdicts == nil {
							return
						}
						continue
					}
					pull(next, out)
					return
				}
				if verdicts != nil {
					held = append(held, ev)
					continue
				}
				var nx *llm.Event
				ev, nx, finished = merge(ev, events)
				if !out.pass(ev) || nx != nil && !out.pass(*nx) {
					return
				}
				if finished { // merge saw the channel closed
					if !r.ended {
						pull(next, out)
					}
					return
				}
			}
		}
	}
}

// pull passes the rest of the model's stream through the filter, pulling
// it on the caller's goroutine.
func pull(next func() (llm.Event, bool), out *filter) {
	for {
		ev, ok := next()
		if !ok || !out.pass(ev) {
			return
		}
	}
}

// reader pulls the model's stream on its own goroutine while gate awaits
// the classifier's verdict.
type reader struct {
	// events are the pieces pulled, in order; closed when the reader
	// stops pulling, after it has set ended (the stream has ended) or
	// taken handOver. The close is what hands the stream to gate.
	events chan llm.Event
	ended  bool
	// handOver, closed by gate once the verdict has cleared the turn:
	// stop pulling after the piece being waited for.
	handOver chan struct{}
	// state says who holds the stream: the reader, gate (handed over),
	// or neither (gate has returned first: the reader stops the stream).
	state atomic.Int32
	// stop is closed by gate when it returns before a hand-over.
	stop chan struct{}
}

// Who holds the stream (reader.state).
const (
	reading    = iota // the reader
	handedOver        // gate
	gone              // gate returned first; the reader stops it
)

func startReader(next func() (llm.Event, bool), stopPull func()) *reader {
	// Buffered, so the model's pieces queue while one is being checked,
	// and the next check takes them all at once: no wait when the server
	// keeps up, fewer checks when it is busy. A full buffer only makes
	// the reader wait for the next check (merge empties it); 32 events
	// are far more than arrive during one check, and a buffer is made
	// for every turn (256 were 22 KB of each turn's allocations).
	r := &reader{events: make(chan llm.Event, gateBuffer), handOver: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		for {
			select {
			case <-r.stop:
				stopPull() // ends the model's stream
				return
			case <-r.handOver:
				if r.state.CompareAndSwap(reading, handedOver) {
					close(r.events)
				} else {
					stopPull() // gate is gone
				}
				return
			default:
			}
			ev, ok := next()
			if !ok {
				r.ended = true
				close(r.events)
				return
			}
			select {
			case r.events <- ev:
			case <-r.stop:
				stopPull()
				return
			}
		}
	}()
	return r
}

// gateBuffer is how many of the model's events gate queues.
const gateBuffer = 32

// merge joins the text of the deltas already queued behind a delta, so
// they are checked and sent as one piece. It returns the first queued
// event that is not a delta, if any, and whether the stream has ended.
func merge(ev llm.Event, events <-chan llm.Event) (llm.Event, *llm.Event, bool) {
	if ev.Kind != llm.Delta {
		return ev, nil, false
	}
	var b strings.Builder
	b.WriteString(ev.Text)
	for {
		select {
		case nx, ok := <-events:
			if !ok {
				ev.Text = b.String()
				return ev, nil, true
			}
			if nx.Kind != llm.Delta {
				ev.Text = b.String()
				return ev, &nx, false
			}
			b.WriteString(nx.Text)
		default:
			ev.Text = b.String()
			return ev, nil, false
		}
	}
}

// filter lets the answer out as it comes, checking the tutor's words with
// the local rules before they leave. A piece is sent at once when the
// sentence so far passes with it. When it does not, the piece is held (a
// legal phrase may be half-way: "sexual" before "harassment") until the
// sentence is complete; only a complete sentence that fails ends the
// answer, with the redirect. The answer is also watched, across pieces
// and sentences, for a leak of the prompt (leak.go), which ends it the
// same way. Nothing that failed a check ever leaves.
type filter struct {
	yield    func(llm.Event) bool
	verdict  *moderation.Verdict
	leaks    leakWatch
	sentence strings.Builder // the current sentence, as sent
	pending  string          // received, not yet sent
	done     bool
	// check is moderation.CheckOutput, normalising only what each check
	// adds to the sentence so far (nil: CheckOutput itself).
	check *moderation.OutputChecker
}

// maxPending bounds what is held waiting for the end of a sentence.
const maxPending = 600

// pass handles one event of the model's stream; false ends the stream.
func (f *filter) pass(ev llm.Event) bool {
	if f.done {
		return false
	}
	switch ev.Kind {
	case llm.Delta:
		f.pending += ev.Text
		return f.flush(false)
	case llm.Done:
		if !f.flush(true) {
			return false
		}
		f.done = true
		return f.yield(ev)
	default: // an error: nothing held back is sent
		f.done = true
		return f.yield(ev)
	}
}

// flush sends what of the pending text passes: each complete sentence
// whole, then the start of the next if the sentence so far passes with
// it. final: the answer is complete, so pending is a complete sentence.
func (f *filter) flush(final bool) bool {
	leak, ready := f.leaks.check(f.pending, final)
	if leak {
		return f.refuse(moderation.Verdict{Flagged: true, Categories: []moderation.Category{moderation.Manipulation}, Source: moderation.SourceOutput})
	}
	for ready > 0 {
		head, complete := nextSentence(f.pending[:ready])
		whole := ready == len(f.pending)
		complete = complete || final && whole || len(f.pending) > maxPending
		if v := f.checkOutput(f.sentence.String() + head); v.Flagged {
			if !complete {
				return true // hold it: the sentence may yet read as law
			}
			v.Source = moderation.SourceOutput
			return f.refuse(v)
		}
		f.pending = f.pending[len(head):]
		ready -= len(head)
		f.leaks.sent(head)
		if complete {
			f.sentence.Reset()
		} else {
			f.sentence.WriteString(head)
		}
		if !f.yield(llm.Event{Kind: llm.Delta, Text: head}) {
			return false
		}
	}
	return true
}

func (f *filter) checkOutput(text string) moderation.Verdict {
	if f.check == nil {
		return moderation.CheckOutput(text)
	}
	return f.check.Check(text)
}

// refuse ends the answer with the redirect, for the verdict v.
func (f *filter) refuse(v moderation.Verdict) bool {
	*f.verdict = v
	f.done = true
	if f.yield(llm.Event{Kind: llm.Delta, Text: " " + moderation.Redirect}) {
		f.yield(llm.Event{Kind: llm.Done, StopReason: "moderated"})
	}
	return false
}

// nextSentence is text up to the end of its first sentence (the stop and
// the space after it), and whether a sentence ended there; otherwise all of
// text. "v." in a case name and short abbreviations do not end one.
func nextSentence(text string) (string, bool) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '.' && c != '?' && c != '!' {
			continue
		}
		j := i + 1
		for j < len(text) && (text[j] == '"' || text[j] == '\'' || text[j] == ')') {
			j++
		}
		if j >= len(text) || text[j] != ' ' && text[j] != '\n' {
			continue // the end of a sentence, or not: the next piece says
		}
		if c == '.' && abbreviation(text[:i]) {
			continue
		}
		for j < len(text) && (text[j] == ' ' || text[j] == '\n') {
			j++
		}
		return text[:j], true
	}
	return text, false
}

// abbreviation says whether the word before a full stop is one ("v",
// "U.S", "No", "e.g"), which does not end a sentence.
func abbreviation(before string) bool {
	w := before[strings.LastIndexAny(before, " \n(")+1:]
	if len(w) <= 2 || strings.Contains(w, ".") {
		return true
	}
	switch strings.ToLower(w) {
	case "vs", "inc", "corp", "mr", "mrs", "ms", "dr", "st", "no", "cf", "id", "supp", "app", "cir", "ed":
		return true
	}
	return false
}
