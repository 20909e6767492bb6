package httpapi

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// timedFlushLog records what was flushed, and when.
type timedFlushLog struct {
	http.ResponseWriter
	mu     sync.Mutex
	cur    strings.Builder
	pieces []string
	at     []time.Time
	done   bool // ServeHTTP returned
	misuse []string
}

func (f *timedFlushLog) Write(b []byte) (int, error) {
	f.mu.Lock()
	if f.done {
		f.misuse = append(f.misuse, "write after ServeHTTP returned")
	}
	f.cur.Write(b)
	f.mu.Unlock()
	return f.ResponseWriter.Write(b)
}

func (f *timedFlushLog) Flush() {
	f.mu.Lock()
	if f.done {
		f.misuse = append(f.misuse, "flush after ServeHTTP returned")
	}
	f.pieces = append(f.pieces, f.cur.String())
	f.at = append(f.at, time.Now())
	f.cur.Reset()
	f.mu.Unlock()
	f.ResponseWriter.(http.Flusher).Flush()
}

func (f *timedFlushLog) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// TestStreamedTurnsWithRandomGapsAndHangUps: turns of random deltas at random
// gaps around the delta flusher's window, some read to the end and some hung up at a
// random moment, under -race: nothing touches the response after
// ServeHTTP returned, and a whole answer's deltas are its done response.
func TestStreamedTurnsWithRandomGapsAndHangUps(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, fakeClaude(t, fake))
	var mu sync.Mutex
	var logs []*timedFlushLog
	h := w.f.srv.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/message/stream") {
			h.ServeHTTP(rw, r)
			return
		}
		l := &timedFlushLog{ResponseWriter: rw}
		mu.Lock()
		logs = append(logs, l)
		mu.Unlock()
		h.ServeHTTP(l, r)
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	}))
	defer srv.Close()
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
		res, events := streamTurn(t, ctx, srv.URL, w.persona["enrolled"], id, fmt.Sprintf(`{"message":"Turn %d: the officer saw two men flee."}`, turn))
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
	mu.Lock()
	defer mu.Unlock()
	for i, l := range logs {
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
	var mu sync.Mutex
	var logs []*timedFlushLog
	h := w.f.srv.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/message/stream") {
			h.ServeHTTP(rw, r)
			return
		}
		l := &timedFlushLog{ResponseWriter: rw}
		mu.Lock()
		logs = append(logs, l)
		mu.Unlock()
		h.ServeHTTP(l, r)
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	}))
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	res, events := streamTurn(t, context.Background(), srv.URL, w.persona["enrolled"], id, `{"message":"The officer saw two men flee the car."}`)
	for {
		if _, ok := events.next(); !ok {
			break
		}
	}
	res.Body.Close()
	time.Sleep(400 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for _, l := range logs {
		l.mu.Lock()
		if len(l.misuse) > 0 {
			t.Errorf("the response was used after ServeHTTP returned: %v", l.misuse)
		}
		l.mu.Unlock()
	}
}
