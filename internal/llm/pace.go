package llm

import (
	"context"
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
// that came while it waited, and an answer is read in about half the
// system calls of one read as it comes (bench sessions: 91 reads a turn
// → 34). The first word is never waited for, nor is a stream that
// nobody reads as it comes: a verdict or a week's themes leave ReadPace 0.
const AnswerReadPace = 50 * time.Millisecond

// pacedBody is a streamed response's body read no more often than every
// pace once on is set: a Read waits until pace has passed since the last
// read that returned bytes. on is set by the provider's reader once it
// has passed on the answer's first text, in the goroutine that reads, so
// the first text is read as soon as it comes. A wait ends with ctx, the
// attempt's context, whose end ends the read.
type pacedBody struct {
	io.ReadCloser
	ctx   context.Context
	pace  time.Duration
	on    bool
	last  time.Time // the last read that returned bytes
	timer *time.Timer
	now   func() time.Time // time.Now; the tests' clock
}

func newPacedBody(ctx context.Context, body io.ReadCloser, pace time.Duration) *pacedBody {
	return &pacedBody{ReadCloser: body, ctx: ctx, pace: pace, now: time.Now}
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if p.on && !p.last.IsZero() {
		if wait := p.last.Add(p.pace).Sub(p.now()); wait > 0 {
			if err := p.sleep(wait); err != nil {
				return 0, err
			}
		}
	}
	n, err := p.ReadCloser.Read(b)
	if n > 0 {
		p.last = p.now()
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

// started tells p the answer's first text has been passed on: from now
// its reads are paced. p may be nil (a request without ReadPace).
func (p *pacedBody) started() {
	if p != nil && p.pace > 0 {
		p.on = true
	}
}
