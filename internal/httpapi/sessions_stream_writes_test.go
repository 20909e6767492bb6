package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// flushLog records what a response wrote between its flushes, and any
// use of it after ServeHTTP returned (which net/http forbids).
type flushLog struct {
	http.ResponseWriter
	mu     sync.Mutex
	cur    strings.Builder
	pieces []string
	done   bool // ServeHTTP returned
	misuse []string
}

func (f *flushLog) Write(b []byte) (int, error) {
	f.mu.Lock()
	if f.done {
		f.misuse = append(f.misuse, "write after ServeHTTP returned")
	}
	f.cur.Write(b)
	f.mu.Unlock()
	return f.ResponseWriter.Write(b)
}

func (f *flushLog) Flush() {
	f.mu.Lock()
	if f.done {
		f.misuse = append(f.misuse, "flush after ServeHTTP returned")
	}
	f.pieces = append(f.pieces, f.cur.String())
	f.cur.Reset()
	f.mu.Unlock()
	f.ResponseWriter.(http.Flusher).Flush()
}

func (f *flushLog) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// recordStreams serves w's API over HTTP with each /message/stream
// response wrapped in a flushLog; logs gives those of the responses so
// far, in the order they began.
func recordStreams(t *testing.T, w *sessionWorld) (url string, logs func() []*flushLog) {
	t.Helper()
	var mu sync.Mutex
	var all []*flushLog
	h := w.f.srv.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/message/stream") {
			h.ServeHTTP(rw, r)
			return
		}
		l := &flushLog{ResponseWriter: rw}
		mu.Lock()
		all = append(all, l)
		mu.Unlock()
		h.ServeHTTP(l, r)
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []*flushLog {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(all)
	}
}

// TestStreamedTurnFlushes: each delta that comes after the delta
// flusher's window has passed (the model paused 300 ms, three windows)
// reaches the client as soon as it is written, in a flush of its own;
// the first and the sentence's end would anyway. The sources and done
// events, written
// when the answer is complete, go out together in the last flush, in that
// order, the events themselves as the API describes them.
func TestStreamedTurnFlushes(t *testing.T) {
	reply := llmtest.Text("Before the rule: ", "what exactly did the officer see, ", "and when?")
	for i, ev := range reply.Events {
		if ev.Name == "content_block_delta" && !strings.Contains(ev.Data, "Before") {
			reply.Events[i].Delay = 300 * time.Millisecond // each its own flush
		}
	}
	fake := llmtest.NewAnthropic(t, reply)
	w := newSessionWorld(t, fakeClaude(t, fake))
	url, streams := recordStreams(t, w)
	id := w.startAs(t, "enrolled")
	res, events := streamTurn(t, context.Background(), url, w.persona["enrolled"], id, `{"message":"The officer saw two men flee the car."}`)
	var names []string
	for {
		ev, ok := events.next()
		if !ok {
			break
		}
		names = append(names, ev.name)
	}
	res.Body.Close()
	if len(names) < 5 || names[len(names)-2] != "sources" || names[len(names)-1] != "done" {
		t.Fatalf("events %v", names)
	}
	logs := streams()
	if len(logs) != 1 {
		t.Fatalf("%d streamed responses logged", len(logs))
	}
	logs[0].mu.Lock()
	defer logs[0].mu.Unlock()
	if len(logs[0].misuse) > 0 || !logs[0].done {
		t.Errorf("the response was used after ServeHTTP returned: %v (returned %v)", logs[0].misuse, logs[0].done)
	}
	p := logs[0].pieces
	deltas := len(names) - 2
	// The headers' flush, one per delta, and the last.
	if len(p) != 1+deltas+1 || logs[0].cur.Len() != 0 {
		t.Fatalf("%d flushes for %d deltas (%q), %d bytes never flushed", len(p), deltas, p, logs[0].cur.Len())
	}
	for i, piece := range p[1 : 1+deltas] {
		if strings.Count(piece, "event: ") != 1 || !strings.HasPrefix(piece, "event: delta\ndata: {\"text\":") || !strings.HasSuffix(piece, "}\n\n") {
			t.Errorf("flush %d is not one delta event: %q", i+1, piece)
		}
	}
	last := p[len(p)-1]
	s, d := strings.Index(last, "event: sources\ndata: {\"sources\":["), strings.Index(last, "\n\nevent: done\ndata: {\"response\":\"Before the rule: what exactly did the officer see, and when?\",\"moderated\":false,")
	if s != 0 || d < 0 || strings.Count(last, "event: ") != 2 || !strings.HasSuffix(last, "}\n\n") {
		t.Errorf("the last flush is not sources then done: %q", last)
	}
}
