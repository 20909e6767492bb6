package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// flushRecorder is a response that records its flushes, and can fail them.
type flushRecorder struct {
	mu      sync.Mutex
	buf     strings.Builder // written since the last flush
	pieces  []string        // what each flush let out
	failing bool
	flushed chan struct{} // a send per flush
}

func newFlushRecorder() *flushRecorder {
	return &flushRecorder{flushed: make(chan struct{}, 1000)}
}

func (f *flushRecorder) Header() http.Header { return http.Header{} }
func (f *flushRecorder) WriteHeader(int)     {}
func (f *flushRecorder) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf.Write(b)
}

func (f *flushRecorder) FlushError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return errors.New("connection reset by peer")
	}
	f.pieces = append(f.pieces, f.buf.String())
	f.buf.Reset()
	f.flushed <- struct{}{}
	return nil
}

func (f *flushRecorder) state() ([]string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.pieces...), f.buf.String()
}

func newTestDeltaWriter(f *flushRecorder, every time.Duration) *deltaWriter {
	return newDeltaWriter(f, http.NewResponseController(f), every, newHeldWriters(every))
}

// TestDeltaWriterHoldsThenFlushes: the first delta is flushed before
// delta returns; one written right after is held, and the ticker lets it
// out with no further write.
func TestDeltaWriterHoldsThenFlushes(t *testing.T) {
	f := newFlushRecorder()
	d := newTestDeltaWriter(f, 50*time.Millisecond)
	defer d.close()
	if err := d.delta([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if p, held := f.state(); len(p) != 1 || p[0] != "a" || held != "" {
		t.Fatalf("after the first delta: flushed %q, held %q", p, held)
	}
	if err := d.delta([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := d.delta([]byte("c")); err != nil {
		t.Fatal(err)
	}
	<-f.flushed // the first
	select {
	case <-f.flushed:
	case <-time.After(10 * time.Second):
		t.Fatal("what was held was never flushed")
	}
	if p, held := f.state(); len(p) != 2 || p[1] != "bc" || held != "" {
		t.Fatalf("flushed %q, held %q", p, held)
	}
}

// TestDeltaWriterFinal: what is held goes out with the last events, in
// order, in one flush; after it the ticker never touches the response.
func TestDeltaWriterFinal(t *testing.T) {
	f := newFlushRecorder()
	d := newTestDeltaWriter(f, time.Hour)
	for _, s := range []string{"a", "b", "c"} {
		if err := d.delta([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if p, held := f.state(); len(p) != 1 || held != "bc" {
		t.Fatalf("flushed %q, held %q", p, held)
	}
	if err := d.final([]byte("done")); err != nil {
		t.Fatal(err)
	}
	if p, held := f.state(); len(p) != 2 || p[1] != "bcdone" || held != "" {
		t.Fatalf("flushed %q, held %q", p, held)
	}
	d.close()
	if d.tick(time.Now().Add(2 * time.Hour)) {
		t.Fatal("a closed writer stays on the ticker's list")
	}
	if p, _ := f.state(); len(p) != 2 {
		t.Fatalf("flushed after final: %q", p)
	}
}

// TestHeldWritersShareOneTicker: answers holding deltas at once are all
// flushed by the one ticker, which stops when none holds any.
func TestHeldWritersShareOneTicker(t *testing.T) {
	h := newHeldWriters(20 * time.Millisecond)
	var fs []*flushRecorder
	for i := range 5 {
		f := newFlushRecorder()
		d := newDeltaWriter(f, http.NewResponseController(f), 20*time.Millisecond, h)
		defer d.close()
		for _, s := range []string{"a", "b", fmt.Sprint(i)} {
			if err := d.delta([]byte(s)); err != nil {
				t.Fatal(err)
			}
		}
		fs = append(fs, f)
	}
	for i, f := range fs {
		<-f.flushed
		select {
		case <-f.flushed:
		case <-time.After(10 * time.Second):
			t.Fatalf("answer %d: what was held was never flushed", i)
		}
		if p, held := f.state(); len(p) != 2 || p[1] != "b"+fmt.Sprint(i) || held != "" {
			t.Fatalf("answer %d: flushed %q, held %q", i, p, held)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		running, n := h.running, len(h.list)
		h.mu.Unlock()
		if !running && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticker still runs with %d answers listed and none holding", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDeltaWriterNoWindow: with no window every delta is its own flush.
func TestDeltaWriterNoWindow(t *testing.T) {
	f := newFlushRecorder()
	d := newTestDeltaWriter(f, 0)
	defer d.close()
	for _, s := range []string{"a", "b", "c"} {
		if err := d.delta([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if p, held := f.state(); strings.Join(p, "|") != "a|b|c" || held != "" {
		t.Fatalf("flushed %q, held %q", p, held)
	}
}

// TestDeltaWriterTickError: a flush by the ticker that fails (the client
// left) fails the next delta, so the answer stops being streamed.
func TestDeltaWriterTickError(t *testing.T) {
	f := newFlushRecorder()
	d := newTestDeltaWriter(f, 20*time.Millisecond)
	defer d.close()
	if err := d.delta([]byte("a")); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.failing = true
	f.mu.Unlock()
	if err := d.delta([]byte("b")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.mu.Lock()
		err := d.err
		d.mu.Unlock()
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ticker's failed flush was not recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.delta([]byte("c")); err == nil {
		t.Fatal("a delta after a failed flush succeeded")
	}
}

// TestDeltaWriterConcurrent: deltas written while the ticker flushes (run
// under -race) all reach the client, whole and in order.
func TestDeltaWriterConcurrent(t *testing.T) {
	f := newFlushRecorder()
	f.flushed = make(chan struct{}, 1<<16)
	d := newTestDeltaWriter(f, time.Millisecond)
	var want strings.Builder
	for i := range 3000 {
		s := fmt.Sprintf("<%d>", i)
		want.WriteString(s)
		if err := d.delta([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	if err := d.final([]byte("end")); err != nil {
		t.Fatal(err)
	}
	p, held := f.state()
	if got := strings.Join(p, ""); got != want.String()+"end" || held != "" {
		t.Fatalf("%d flushes; the bytes differ or some were held (%d)", len(p), len(held))
	}
	if len(p) >= 3001 {
		t.Fatalf("%d flushes for 3000 deltas: none was held", len(p))
	}
}

// TestStreamedTurnCoalescesQuickDeltas: a model quicker than
// deltaFlushEvery has its deltas sent in fewer flushes than deltas, each
// flush holding whole delta events, the first delta in a flush of its own,
// and every byte sent before the stream ends.
func TestStreamedTurnCoalescesQuickDeltas(t *testing.T) {
	words := strings.Fields("Before the rule comes the fact: what exactly did the officer see through the window of the car, and when did he see it, before or after the men began to run?")
	pieces := make([]string, len(words))
	for i, w := range words {
		pieces[i] = w + " "
	}
	pieces[len(pieces)-1] = words[len(words)-1]
	reply := llmtest.Text(pieces...)
	n := 0
	for i, ev := range reply.Events {
		if ev.Name == "content_block_delta" {
			if n > 0 {
				reply.Events[i].Delay = 5 * time.Millisecond
			}
			n++
		}
	}
	fake := llmtest.NewAnthropic(t, reply)
	w := newSessionWorld(t, fakeClaude(t, fake))
	var mu sync.Mutex
	var logs []*flushLog
	h := w.f.srv.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/message/stream") {
			h.ServeHTTP(rw, r)
			return
		}
		l := &flushLog{ResponseWriter: rw}
		mu.Lock()
		logs = append(logs, l)
		mu.Unlock()
		h.ServeHTTP(l, r)
	}))
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	res, events := streamTurn(t, context.Background(), srv.URL, w.persona["enrolled"], id, `{"message":"The officer saw two men flee the car."}`)
	var text strings.Builder
	var names []string
	var done string
	for {
		ev, ok := events.next()
		if !ok {
			break
		}
		names = append(names, ev.name)
		switch ev.name {
		case "delta":
			s, _ := ev.data["text"].(string)
			text.WriteString(s)
		case "done":
			done, _ = ev.data["response"].(string)
		}
	}
	res.Body.Close()
	if done != strings.Join(pieces, "") || text.String() != done {
		t.Fatalf("deltas %q, done %q", text.String(), done)
	}
	deltas := len(names) - 2
	mu.Lock()
	defer mu.Unlock()
	p := logs[0].pieces
	if logs[0].cur.Len() != 0 {
		t.Fatalf("%d bytes never flushed", logs[0].cur.Len())
	}
	// The headers' flush, the deltas' flushes, the last.
	if len(p)-2 >= deltas {
		t.Fatalf("%d flushes for %d deltas arriving 5 ms apart: none was held", len(p), deltas)
	}
	if strings.Count(p[1], "event: ") != 1 || !strings.HasPrefix(p[1], "event: delta\n") {
		t.Errorf("the first delta is not flushed on its own: %q", p[1])
	}
	for i, piece := range p[1 : len(p)-1] {
		if strings.Count(piece, "event: delta\ndata: {\"text\":") != strings.Count(piece, "event: ") || !strings.HasPrefix(piece, "event: delta\n") || !strings.HasSuffix(piece, "}\n\n") {
			t.Errorf("flush %d is not whole delta events: %q", i+1, piece)
		}
	}
	if last := p[len(p)-1]; !strings.Contains(last, "event: done\n") {
		t.Errorf("the last flush has no done event: %q", last)
	}
	t.Logf("%d deltas in %d flushes", deltas, len(p)-2)
}
