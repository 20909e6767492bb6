package httpapi

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// TestStreamedTurnsWithRandomGapsAndHangUps: turns of random deltas at random
// gaps around the delta flusher's window, some read to the end and some hung up at a
// random moment, under -race: nothing touches the response after
// ServeHTTP returned, and a whole answer's deltas are its done response.
func TestStreamedTurnsWithRandomGapsAndHangUps(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, fakeClaude(t, fake))
	url, streams := recordStreams(t, w)
	words := []string{" the", " court", " held", " that", " notice", " was", " due.", " Why?", " hearing", " first!"}
	id := w.startAs(t, "enrolled")
	cut := 0
	defer func() { t.Logf("%d turns cut mid-answer", cut) }()
	for turn := range 12 {
		w.clock.Add(w.turnInterval())
		var deltas []string
		n := 3 + rand.IntN(25)
		for i := range n {
			deltas = append(deltas, words[rand.IntN(len(words))])
			if i == 0 {
				deltas[0] = "So"
			}
		}
		reply := llmtest.Text(deltas...)
		for i, ev := range reply.Events {
			if ev.Name == "content_block_delta" {
				reply.Events[i].Delay = time.Duration(rand.IntN(180)) * time.Millisecond
			}
		}
		fake.Push(reply)
		hangUp := rand.IntN(2) == 0
		ctx, cancel := context.WithCancel(context.Background())
		res, events := streamTurn(t, ctx, url, w.persona["enrolled"], id, fmt.Sprintf(`{"message":"Turn %d: the officer saw two men flee."}`, turn))
		if hangUp {
			// Once the stream has opened (a cut before it is not this
			// test's), at a random moment of the answer.
			time.AfterFunc(time.Duration(rand.IntN(1500))*time.Millisecond, cancel)
		}
		var text strings.Builder
		var done map[string]any
		for {
			ev, ok := events.next()
			if !ok {
				break
			}
			switch ev.name {
			case "delta":
				text.WriteString(ev.data["text"].(string))
			case "done":
				done = ev.data
			}
		}
		res.Body.Close()
		cancel()
		if done != nil && strings.TrimSpace(text.String()) != done["response"] {
			t.Errorf("turn %d: deltas %q, done %q", turn, text.String(), done["response"])
		}
		if done == nil && !hangUp {
			t.Errorf("turn %d: no done event", turn)
		}
		if done == nil {
			cut++
			time.Sleep(300 * time.Millisecond) // the hung-up turn is given up
		}
	}
	time.Sleep(400 * time.Millisecond) // any late timer has fired
	for i, l := range streams() {
		l.mu.Lock()
		if len(l.misuse) > 0 || !l.done {
			t.Errorf("response %d: %v (returned %v)", i, l.misuse, l.done)
		}
		l.mu.Unlock()
	}
}

// panickyModel answers two words, then panics (a bug anywhere on the
// answer's goroutine).
type panickyModel struct{}

func (panickyModel) Name() string { return "panicky" }
func (panickyModel) Stream(ctx context.Context, req llm.Request) iter.Seq[llm.Event] {
	return func(yield func(llm.Event) bool) {
		if !yield(llm.Event{Kind: llm.Delta, Text: "So"}) || !yield(llm.Event{Kind: llm.Delta, Text: " the"}) {
			return
		}
		panic("a bug mid-answer")
	}
}

// TestPanicMidAnswerLeavesNoFlushAfterReturn: a panic on the handler's
// goroutine mid-answer (recovered by recoverPanics) must still stop the
// delta flusher's timer, or it would flush the ResponseWriter after
// ServeHTTP has returned, which net/http forbids (and, under -race, a
// data race with the connection's next response).
func TestPanicMidAnswerLeavesNoFlushAfterReturn(t *testing.T) {
	w := newSessionWorld(t, panickyModel{})
	url, streams := recordStreams(t, w)
	id := w.startAs(t, "enrolled")
	res, events := streamTurn(t, context.Background(), url, w.persona["enrolled"], id, `{"message":"The officer saw two men flee the car."}`)
	for {
		if _, ok := events.next(); !ok {
			break
		}
	}
	res.Body.Close()
	time.Sleep(400 * time.Millisecond)
	for _, l := range streams() {
		l.mu.Lock()
		if len(l.misuse) > 0 {
			t.Errorf("the response was used after ServeHTTP returned: %v", l.misuse)
		}
		l.mu.Unlock()
	}
}
