package tutor

import (
	"context"
	"errors"
	"iter"
	"strings"
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

// classify starts the classifier beside the answer; its result arrives on
// the channel, an error when it fails or takes longer than wait.
func classify(ctx context.Context, c Classifier, wait time.Duration, text, userID string) <-chan verdictResult {
	out := make(chan verdictResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		v, err := c.Classify(ctx, text, userID)
		if err != nil && ctx.Err() != nil {
			err = errors.Join(ErrNoVerdict, err)
		}
		out <- verdictResult{v, err}
	}()
	return out
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
		// Buffered, so the model's pieces queue while one is being checked,
		// and the next check takes them all at once: no wait when the
		// server keeps up, fewer checks when it is busy. A full buffer
		// only makes the reader wait for the next check (merge empties
		// it); 32 events are far more than arrive during one check, and a
		// buffer is made for every turn (256 were 22 KB of each turn's
		// allocations).
		events := make(chan llm.Event, gateBuffer)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			defer close(events)
			for ev := range source {
				select {
				case events <- ev:
				case <-stop:
					return // ends the model's stream
				}
			}
		}()
		out := &filter{yield: yield, verdict: verdict, leaks: leakWatch{ix: rulesLeaks}, check: &moderation.OutputChecker{}}
		var held []llm.Event
		finished := false
		for {
			select {
			case r := <-verdicts:
				verdicts = nil
				if r.err != nil && ctx.Err() != nil {
					// The student left: not a verdict, and nothing to store.
					yield(llm.Event{Kind: llm.Error, Err: ctx.Err()})
					return
				}
				if r.err != nil {
					onVerdictErr(r.err)
					r.v = moderation.Verdict{Flagged: true, Categories: []moderation.Category{moderation.Unverified}, Source: moderation.SourceClassifier}
				}
				if r.v.Flagged {
					*verdict = r.v
					if yield(llm.Event{Kind: llm.Delta, Text: moderation.Reply(r.v)}) {
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
			case ev, ok := <-events:
				if !ok {
					finished, events = true, nil
					if verdicts == nil {
						return
					}
					continue
				}
				if verdicts != nil {
					held = append(held, ev)
					continue
				}
				var next *llm.Event
				ev, next, finished = merge(ev, events)
				if !out.pass(ev) || next != nil && !out.pass(*next) || finished {
					return
				}
			}
		}
	}
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
