package llm

import (
	"context"
	"errors"
	"io"
	"time"
)

// AnswerReadPace is the Request.ReadPace of the tutor's answers. The
// server passes an answer on to the student in windows of a tenth of a
// second (a sentence's end at once), so reading the model's stream more
// often than every 50 ms after the first word gains the student little,
// and costs the server: a model sends an event per word or two, and each
// that is read alone is a wake-up and a system call or two (one that
// finds nothing yet, one that reads). Paced, a read finds the events
// that came while it waited (bench sessions, 100 students × 8 turns,
// under strace: 91 reads a turn → 33). The first word is never waited
// for, nor the answer's end once its stop reason has come, nor a stream
// that nobody reads as it comes: a verdict or a week's themes leave
// ReadPace 0.
const AnswerReadPace = 50 * time.Millisecond

// pacedBody is a streamed response's body read no more often than every
// pace once on is set: a Read waits until pace has passed since the last
// read that returned bytes. on is set by the provider's reader once it
// has passed on the answer's first text, in the goroutine that reads, so
// the first text is read as soon as it comes. A wait ends with ctx, the
// attempt's context, whose end ends the read.
//
// Before each Read once on, release is called: the stream's decoder
// reads only when it has handed out every event it holds, so that is
// when the text of the deltas that came in one read is complete (see
// passer). A release whose caller stopped listening ends the read with
// errStopped.
type pacedBody struct {
	io.ReadCloser
	ctx     context.Context
	pace    time.Duration
	on      bool
	release func() bool
	last    time.Time // the last read that returned bytes
	timer   *time.Timer
}

// errStopped ends a paced read whose caller stopped listening.
var errStopped = errors.New("llm: the caller stopped listening")

func newPacedBody(ctx context.Context, body io.ReadCloser, pace time.Duration) *pacedBody {
	return &pacedBody{ReadCloser: body, ctx: ctx, pace: pace}
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if p.on && p.release != nil && !p.release() {
		return 0, errStopped
	}
	if p.on && !p.last.IsZero() {
		if wait := time.Until(p.last.Add(p.pace)); wait > 0 {
			if err := p.sleep(wait); err != nil {
				return 0, err
			}
		}
	}
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.last = time.Now()
	}
	return n, err
}

func (p *pacedBody) sleep(d time.Duration) error {
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return nil
	case <-p.ctx.Done():
		p.timer.Stop()
		return context.Cause(p.ctx)
	}
}

func (p *pacedBody) Close() error {
	if p.timer != nil {
		p.timer.Stop()
	}
	return p.ReadCloser.Close()
}

// A passer passes an answer's text on to yield: each delta as it is
// read, or, once its body's reads are paced (after the first text), the
// deltas the decoder hands out between two reads as one, when the body
// is read again (its release) or the answer ends (end, release). At a
// model's pace of a word per event, what follows the text (the tutor's
// output check, the answer's delivery to the student) then runs once a
// read, not once a word.
type passer struct {
	yield   func(Event) bool
	body    *pacedBody // nil: the stream is read as it comes
	held    []byte
	stopped bool // yield returned false
	ended   bool // the stop reason has come: paced no more
}

func newPasser(yield func(Event) bool, body *pacedBody) *passer {
	ps := &passer{yield: yield, body: body}
	if body != nil {
		body.release = ps.release
	}
	return ps
}

// delta passes text on, or holds it with the rest of its read; false when
// the caller stopped listening.
func (ps *passer) delta(text string) bool {
	if ps.body != nil && ps.body.on {
		ps.held = append(ps.held, text...)
		return true
	}
	if !ps.yield(Event{Kind: Delta, Text: text}) {
		ps.stopped = true
		return false
	}
	if ps.body != nil && ps.body.pace > 0 && !ps.ended {
		ps.body.on = true // the first text is out: from now, paced
	}
	return true
}

// end is called when the answer's stop reason has come: the text held
// goes on now, and what is left of the stream (its last events, its end)
// is read as it comes, so that the answer is complete, and its request
// over, without waiting out a pace. false when the caller stopped
// listening.
func (ps *passer) end() bool {
	ps.ended = true
	if ps.body != nil {
		ps.body.on = false
	}
	return ps.release()
}

// release passes on the text held; false when the caller stopped
// listening, now or before.
func (ps *passer) release() bool {
	if ps.stopped {
		return false
	}
	if len(ps.held) == 0 {
		return true
	}
	text := string(ps.held)
	ps.held = ps.held[:0]
	if !ps.yield(Event{Kind: Delta, Text: text}) {
		ps.stopped = true
		return false
	}
	return true
}
