package tutor

import (
	"context"
	"iter"
	"net/http/httptrace"
	"sync"
	"sync/atomic"

	"github.com/lawtutor/socratic/internal/llm"
)

// judgement is a turn's classifier request, started once: on a server
// that answers in parallel, when the answer's request has been written
// (afterRequest), or else when the answer's stream gives its first event
// or ends (beforeFirst: a provider that is not HTTP, or a request that
// failed before it was written); at once (start) where there is no
// answer's request to go first, or where the server may answer one
// request at a time — and there the answer's request waits until the
// classifier's has been written (afterSent). Its verdict arrives on out.
// A nil *judgement is no classifier.
type judgement struct {
	out   chan verdictResult
	once  sync.Once
	begun atomic.Bool
	run   func()
	// sent is closed once the classifier's request has been written, or
	// the classifier has returned (it failed first, or is not HTTP).
	sent     chan struct{}
	sentOnce sync.Once
}

func (t *Tutor) judge(ctx context.Context, text, userID string) *judgement {
	j := &judgement{out: make(chan verdictResult, 1), sent: make(chan struct{})}
	markSent := func() { j.sentOnce.Do(func() { close(j.sent) }) }
	j.run = func() {
		j.begun.Store(true)
		cctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { markSent() }})
		classifyInto(cctx, t.classify, t.wait, text, userID, j.out, markSent)
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

// afterSent is src, begun only once the classifier's request has been
// written (or the classifier has returned): a server that answers one
// request at a time then takes the classifier's first, and its verdict
// is not queued behind a whole answer. ctx ending first ends src unread.
func (j *judgement) afterSent(ctx context.Context, src iter.Seq[llm.Event]) iter.Seq[llm.Event] {
	if j == nil {
		return src
	}
	return func(yield func(llm.Event) bool) {
		select {
		case <-j.sent:
		case <-ctx.Done():
			yield(llm.Event{Kind: llm.Error, Err: ctx.Err()})
			return
		}
		for ev := range src {
			if !yield(ev) {
				return
			}
		}
	}
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
