package session

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// countingClock is the env's clock, and tells whoever waits on called
// when it is next read.
type countingClock struct {
	*clock
	mu     sync.Mutex
	called chan struct{}
}

func (c *countingClock) Now() time.Time {
	t := c.clock.Now()
	c.mu.Lock()
	if c.called != nil {
		close(c.called)
		c.called = nil
	}
	c.mu.Unlock()
	return t
}

// next returns a channel closed when the clock is next read.
func (c *countingClock) next() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.called = make(chan struct{})
	return c.called
}

// TestPaceIsMeasuredBetweenArrivals: a message that waits for the write
// (here 600 ms behind another write) must not make the student's next
// message, sent 2.1 s after it arrived, look too soon: the server's own
// queueing never counts against the student. A message that did arrive
// too soon is still refused, with the rest of the interval to wait.
func TestPaceIsMeasuredBetweenArrivals(t *testing.T) {
	fake := llmtest.NewAnthropic(t, llmtest.Text("Why the mailbox?"), llmtest.Text("Who bears the risk?"), llmtest.Text("Is that fair?"))
	e := newEnv(t, claude(t, fake))
	cc := &countingClock{clock: e.clock}
	e.svc.o.Now = cc.Now
	e.svc.o.MinTurnInterval = 2 * time.Second
	ctx := context.Background()
	st := e.start(t, "student")
	t0 := e.clock.Now()

	// Another write holds the database while the first message arrives.
	holding, release := make(chan struct{}), make(chan struct{})
	blocked := make(chan error, 1)
	go func() {
		blocked <- e.db.Batch.Do(ctx, func(context.Context, *sql.Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	read := cc.next()
	first := make(chan error, 1)
	go func() {
		p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Acceptance is effective on dispatch.", "")
		if err == nil {
			_, err = p.Run(ctx, nil)
		}
		first <- err
	}()
	// Begin reads the clock as the message arrives; a server that read it
	// only once it could write would read it after the wait below.
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("Begin did not read the clock as the message arrived: the pace would count the wait for the write")
	}
	e.clock.Set(t0.Add(600 * time.Millisecond)) // the write waits 600 ms
	close(release)
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}

	// 2.1 s after the first arrived (1.5 s after it could be written).
	e.clock.Set(t0.Add(2100 * time.Millisecond))
	p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Because the offeror chose the mail.", "")
	if err != nil {
		t.Fatalf("a message 2.1 s after the last one arrived was refused: %v", err)
	}
	if _, err := p.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// 1.5 s after that one arrived: too soon, 0.5 s left to wait.
	e.clock.Set(t0.Add(3600 * time.Millisecond))
	_, err = e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Is it fair to the offeror?", "")
	var ee *errs.Error
	if !errors.As(err, &ee) || ee.Code != errs.TooMany || ee.RetryAfter != 500*time.Millisecond {
		t.Fatalf("a message 1.5 s after the last: %v, want 429 with Retry-After 0.5 s", err)
	}
}
