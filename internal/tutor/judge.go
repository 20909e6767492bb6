package tutor

import (
	"context"
	"iter"
	"net/http/httptrace"
	"sync"
	"sync/atomic"

	"github.com/lawtutor/socratic/internal/llm"
)

// judgement is a turn's classifier request, started once: when the
// answer's request has been written (afterRequest), or else when the
// answer's stream gives its first event or ends (beforeFirst: a provider
// that is not HTTP, or a request that failed before it was written), or
// at once (start) where there is no answer's request to go first. Its
// verdict arrives on out. A nil *judgement is no classifier.
type judgement struct {
	out   chan verdictResult
	once  sync.Once
	begun atomic.Bool
	run   func()
}

func (t *Tutor) judge(ctx context.Context, text, userID string) *judgement {
	j := &judgement{out: make(chan verdictResult, 1)}
	j.run = func() {
		j.begun.Store(true)
		classifyInto(ctx, t.classify, t.wait, text, userID, j.out)
	}
	return j
}

// start sends the classifier's request, if it has not gone yet.
func (j *judgement) start() {
	if j != nil {
		j.once.Do(j.run)
	}
}

// started reports whether the classifier's request has gone (it is
// charged).
func (j *judgement) started() bool { return j != nil && j.begun.Load() }

// afterRequest is ctx for the answer's request: writing it starts the
// classifier.
func (j *judgement) afterRequest(ctx context.Context) context.Context {
	if j == nil {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { j.start() }})
}

// beforeFirst is src, starting the classifier (if nothing has yet)
// before its first event is passed on, or when it ends without one: the
// gate waits for a verdict, so one must always be asked for.
func (j *judgement) beforeFirst(src iter.Seq[llm.Event]) iter.Seq[llm.Event] {
	if j == nil {
		return src
	}
	return func(yield func(llm.Event) bool) {
		for ev := range src {
			j.start()
			if !yield(ev) {
				return
			}
		}
		j.start()
	}
}
