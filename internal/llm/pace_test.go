package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
)

// countingTransport counts the reads of each response body that returned
// bytes: the reads the provider made of the connection, beneath its own
// pacing.
type countingTransport struct{ reads atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && resp.Body != nil {
		resp.Body = countedBody{resp.Body, &c.reads}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	reads *atomic.Int64
}

func (b countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.reads.Add(1)
	}
	return n, err
}

// paceWire is how each provider's server streams an answer: the events
// before its first text, a text event, and the events after the last.
type paceWire struct {
	name        string
	path        string
	head, tail  []string
	text        func(s string, last bool) string
	named       bool // each event names its type on an event: line
	newProvider func(url string, hc *http.Client) (llm.Provider, error)
}

var paceWires = []paceWire{{
	name: "anthropic", path: "/v1/messages", named: true,
	head: []string{
		`{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":10,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
	},
	text: func(s string, _ bool) string {
		return `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"` + s + `"}}`
	},
	tail: []string{
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":21}}`,
		`{"type":"message_stop"}`,
	},
	newProvider: func(url string, hc *http.Client) (llm.Provider, error) {
		return llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: url, Model: "m", HTTPClient: hc})
	},
}, {
	name: "openai", path: "/v1/chat/completions",
	head: []string{`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`},
	text: func(s string, last bool) string {
		finish := "null"
		if last {
			finish = `"stop"`
		}
		return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"` + s + `"},"finish_reason":` + finish + `}]}`
	},
	tail: []string{"[DONE]"},
	newProvider: func(url string, hc *http.Client) (llm.Provider, error) {
		return llm.NewOpenAI(llm.OpenAIOptions{BaseURL: url, Model: "m", HTTPClient: hc})
	},
}}

// paceServer streams the events before the first text, then words as
// text events, each gap after the one before and flushed alone (as a
// model sends them); after the last it sends the tail, unless hold, when
// it holds the response open until the client is gone. gone closes when
// its first request's handler returns.
func paceServer(t *testing.T, w paceWire, words []string, gap time.Duration, hold bool) (url string, gone <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		defer once.Do(func() { close(ch) })
		if r.URL.Path != w.path {
			http.NotFound(rw, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		rw.Header().Set("Content-Type", "text/event-stream")
		fl := rw.(http.Flusher)
		send := func(data string) {
			if w.named {
				var ev struct{ Type string }
				json.Unmarshal([]byte(data), &ev)
				fmt.Fprintf(rw, "event: %s\n", ev.Type)
			}
			fmt.Fprintf(rw, "data: %s\n\n", data)
		}
		for _, ev := range w.head {
			send(ev)
		}
		fl.Flush()
		for i, word := range words {
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
			send(w.text(word, i == len(words)-1 && !hold))
			fl.Flush()
		}
		if hold {
			<-r.Context().Done()
			return
		}
		for _, ev := range w.tail {
			send(ev)
		}
		fl.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// TestAnswerReadsArePaced: with a ReadPace, an answer's stream is read
// no more often than that after its first text — the words that came
// meanwhile in one read — and the whole answer still arrives, in order;
// its first text is read at once whatever the pace, and a cancel ends a
// paced wait.
func TestAnswerReadsArePaced(t *testing.T) {
	for _, w := range paceWires {
		t.Run(w.name+": paced after the first text", func(t *testing.T) {
			words := make([]string, 21)
			for i := range words {
				words[i] = fmt.Sprintf("w%d ", i)
			}
			// 20 words 20 ms apart after the first: read as they come,
			// about 20 reads; paced at 200 ms, about 2.
			url, _ := paceServer(t, w, words, 20*time.Millisecond, false)
			ct := &countingTransport{}
			p, err := w.newProvider(url, &http.Client{Transport: ct})
			if err != nil {
				t.Fatal(err)
			}
			req := tutorRequest()
			req.ReadPace = 200 * time.Millisecond
			var text strings.Builder
			var afterFirst int64 = -1
			var last llm.Event
			var deltas []string
			for ev := range p.Stream(context.Background(), req) {
				last = ev
				if ev.Kind == llm.Delta {
					if afterFirst < 0 {
						afterFirst = ct.reads.Load()
					}
					text.WriteString(ev.Text)
					deltas = append(deltas, ev.Text)
				}
			}
			if want := strings.Join(words, ""); text.String() != want || last.Kind != llm.Done {
				t.Fatalf("answer %q, last event %+v; want %q and Done", text.String(), last, want)
			}
			if deltas[0] != words[0] {
				t.Errorf("the first text passed on was %q, want %q alone", deltas[0], words[0])
			}
			// 400 ms of words read every 200 ms: 3 reads, and a few
			// to spare for a read that ends mid-event. The words of a
			// read are passed on as one.
			if n := ct.reads.Load() - afterFirst; n > 6 {
				t.Errorf("%d reads of the stream after its first text; paced at 200 ms over 400 ms of words, at most 6", n)
			}
			if n := len(deltas) - 1; n > 6 {
				t.Errorf("%d deltas passed on after the first, %q; a read's words go as one, at most 6", n, deltas[1:])
			}
		})
		t.Run(w.name+": a stop on text held from a read ends the request", func(t *testing.T) {
			words := []string{"w0 ", "w1 ", "w2 ", "w3 "}
			url, gone := paceServer(t, w, words, 10*time.Millisecond, true)
			p, err := w.newProvider(url, &http.Client{Transport: &countingTransport{}})
			if err != nil {
				t.Fatal(err)
			}
			req := tutorRequest()
			req.ReadPace = 100 * time.Millisecond
			// The stream is ranged over on the side: a range returns only
			// when its iterator does, which a stop not honoured would
			// delay to the call's timeout, after the server saw it end.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel() // a failed test's stream, before the server closes
			broke := make(chan []string, 1)
			go func() {
				var got []string
				for ev := range p.Stream(ctx, req) {
					got = append(got, ev.Text)
					if ev.Kind != llm.Delta || len(got) == 2 {
						broke <- got
						break // on the words after the first, passed on together
					}
				}
			}()
			var got []string
			select {
			case got = <-broke:
			case <-time.After(10 * time.Second):
				t.Fatal("no second delta within 10 s")
			}
			if len(got) != 2 || got[0] != "w0 " || !strings.HasPrefix(got[1], "w1 ") {
				t.Fatalf("deltas %q", got)
			}
			waitClosed(t, gone, "the request was held open after its caller stopped")
		})
		t.Run(w.name+": the first text at once, a cancel ends the wait", func(t *testing.T) {
			url, _ := paceServer(t, w, []string{"First ", "second "}, 10*time.Millisecond, true)
			p, err := w.newProvider(url, &http.Client{Transport: &countingTransport{}})
			if err != nil {
				t.Fatal(err)
			}
			req := tutorRequest()
			req.ReadPace = time.Hour // a pace no test waits out
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := make(chan llm.Event, 8)
			go func() {
				defer close(events)
				for ev := range p.Stream(ctx, req) {
					events <- ev
				}
			}()
			next := func(what string) llm.Event {
				t.Helper()
				select {
				case ev, ok := <-events:
					if !ok {
						t.Fatalf("the stream ended before %s came", what)
					}
					return ev
				case <-time.After(10 * time.Second):
					t.Fatalf("%s did not come within 10 s", what)
				}
				return llm.Event{}
			}
			if ev := next("the first text"); ev.Kind != llm.Delta || ev.Text != "First " {
				t.Fatalf("first event %+v", ev)
			}
			cancel() // the reader now waits out its pace ("second " may have come with "First ")
			ev := next("the end of a cancelled answer")
			for ev.Kind == llm.Delta && ev.Text == "second " {
				ev = next("the end of a cancelled answer")
			}
			if ev.Kind != llm.Error || !errors.Is(ev.Err, context.Canceled) {
				t.Fatalf("after the cancel: %+v", ev)
			}
		})
	}
}

// TestPacedTextGoesBeforeAnError: the words held from a paced read are
// passed on before the error that came with them, as they are unpaced.
func TestPacedTextGoesBeforeAnError(t *testing.T) {
	w := paceWires[0] // Anthropic: an error is an event of the stream
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/event-stream")
		fl := rw.(http.Flusher)
		for i, ev := range w.head {
			fmt.Fprintf(rw, "event: %s\ndata: %s\n\n", []string{"message_start", "content_block_start"}[i], ev)
		}
		fmt.Fprintf(rw, "event: content_block_delta\ndata: %s\n\n", w.text("First ", false))
		fl.Flush()
		time.Sleep(10 * time.Millisecond)
		for _, word := range []string{"then ", "more "} {
			fmt.Fprintf(rw, "event: content_block_delta\ndata: %s\n\n", w.text(word, false))
		}
		fmt.Fprintf(rw, "event: error\ndata: %s\n\n", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
		fl.Flush()
	}))
	defer srv.Close()
	p, err := w.newProvider(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := tutorRequest()
	req.ReadPace = 100 * time.Millisecond
	var text strings.Builder
	var last llm.Event
	for ev := range p.Stream(context.Background(), req) {
		last = ev
		if ev.Kind == llm.Delta {
			text.WriteString(ev.Text)
		}
	}
	if text.String() != "First then more " || last.Kind != llm.Error || !strings.Contains(last.Err.Error(), "Overloaded") {
		t.Errorf("text %q, then %+v; want all three words, then the error", text.String(), last)
	}
}

// TestPacedAnswerEndsUnpaced: once the answer's stop reason has come, the
// rest of the stream is read as it comes — the answer completes without
// waiting out a pace — and a stop on the text that came with it closes
// the request at once rather than draining its tail.
func TestPacedAnswerEndsUnpaced(t *testing.T) {
	anthropicEnd := []string{
		"event: message_start\ndata: " + paceWires[0].head[0],
		"event: content_block_start\ndata: " + paceWires[0].head[1],
		"event: content_block_delta\ndata: " + paceWires[0].text("First ", false),
		"event: content_block_stop\ndata: " + paceWires[0].tail[0],
		"event: message_delta\ndata: " + paceWires[0].tail[1],
	}
	openaiEnd := []string{"data: " + paceWires[1].head[0], "data: " + paceWires[1].text("First ", true)}
	// The stop reason comes with the first text; the stream's last events
	// come a moment later, in a read of their own.
	// A server may still send text after finish_reason: passed on, it
	// does not bring the pace back.
	openaiAfter := append(slices.Clone(openaiEnd), "data: "+paceWires[1].text("after ", false))
	anthropicAfter := append(slices.Clone(anthropicEnd), "event: content_block_delta\ndata: "+paceWires[0].text("after ", false))
	for _, c := range []struct {
		name       string
		w          paceWire
		head, tail []string
	}{
		{"anthropic", paceWires[0], anthropicEnd, []string{"event: message_stop\ndata: " + paceWires[0].tail[2]}},
		{"openai", paceWires[1], openaiEnd, []string{"data: [DONE]"}},
		{"anthropic: text after the stop reason", paceWires[0], anthropicAfter, []string{"event: message_stop\ndata: " + paceWires[0].tail[2]}},
		{"openai: text after finish_reason", paceWires[1], openaiAfter, []string{"data: [DONE]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				rw.Header().Set("Content-Type", "text/event-stream")
				for _, ev := range c.head {
					fmt.Fprintf(rw, "%s\n\n", ev)
				}
				rw.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
				for _, ev := range c.tail {
					fmt.Fprintf(rw, "%s\n\n", ev)
				}
			}))
			defer srv.Close()
			p, err := c.w.newProvider(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req := tutorRequest()
			req.ReadPace = time.Hour // a pace no test waits out
			done := make(chan llm.Event, 1)
			go func() {
				var last llm.Event
				for ev := range p.Stream(context.Background(), req) {
					last = ev
				}
				done <- last
			}()
			select {
			case ev := <-done:
				if ev.Kind != llm.Done {
					t.Errorf("the answer ended with %+v", ev)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the answer's end waited out the pace")
			}
		})
	}
	t.Run("openai: a stop on the last chunk's text", func(t *testing.T) {
		// "Why?" comes with finish_reason, in the read after "First ":
		// held, then passed on at the answer's end, where the caller
		// stops. The response never ends; with the tail drained, the
		// request would be held open for TailWait (an hour).
		url, gone := tailServer(t, paceWires[1].text("First ", false), lastChunk)
		p, err := llm.NewOpenAI(llm.OpenAIOptions{BaseURL: url, Model: "m", TailWait: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		req := tutorRequest()
		req.ReadPace = 50 * time.Millisecond
		for ev := range p.Stream(context.Background(), req) {
			if ev.Kind == llm.Delta && strings.HasSuffix(ev.Text, "Why?") {
				break
			}
		}
		waitClosed(t, gone, "a stopped answer's request was held open for its tail")
	})
}
