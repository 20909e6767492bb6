package llm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

func chat(t *testing.T, fake *llmtest.OpenAIChat) *llm.OpenAI {
	t.Helper()
	p, err := llm.NewOpenAI(llm.OpenAIOptions{BaseURL: fake.URL, Model: "llama-test", Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenAIStreamsWhatTheServerSends(t *testing.T) {
	fake := llmtest.NewOpenAIChat(t, llmtest.ChatReply{Deltas: []string{"Good. ", "Why does it matter?"}})
	text, last, n := collect(t, chat(t, fake).Stream(context.Background(), tutorRequest()))
	if text != "Good. Why does it matter?" || n != 2 || last.Kind != llm.Done || last.StopReason != "stop" {
		t.Fatalf("text %q in %d deltas, last %+v", text, n, last)
	}
	if last.Usage.Input != 900 || last.Usage.Output != 12 {
		t.Errorf("usage %+v", last.Usage)
	}
	body := fake.Requests()[0].Body
	msgs := body["messages"].([]any)
	roles := []string{"system", "user", "assistant", "user"}
	if len(msgs) != len(roles) || body["model"] != "llama-test" || body["stream"] != true {
		t.Fatalf("body %v", body)
	}
	for i, want := range roles {
		if msgs[i].(map[string]any)["role"] != want {
			t.Errorf("message %d: %v", i, msgs[i])
		}
	}
}

func TestOpenAIRetriesBeforeTheFirstTokenAndCancels(t *testing.T) {
	fake := llmtest.NewOpenAIChat(t, llmtest.ChatReply{Status: 503}, llmtest.ChatReply{Deltas: []string{"Why?"}})
	if text, _, err := llm.Complete(context.Background(), chat(t, fake), tutorRequest()); err != nil || text != "Why?" || len(fake.Requests()) != 2 {
		t.Errorf("after a 503: %q %v, %d requests", text, err, len(fake.Requests()))
	}
	bad := llmtest.NewOpenAIChat(t, llmtest.ChatReply{Status: 400})
	if _, _, err := llm.Complete(context.Background(), chat(t, bad), tutorRequest()); err == nil || len(bad.Requests()) != 1 {
		t.Errorf("a 400 was retried or accepted: %v, %d requests", err, len(bad.Requests()))
	}
	slow := llmtest.NewOpenAIChat(t, llmtest.ChatReply{Deltas: []string{"late"}, FirstDelay: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, _, err := llm.Complete(ctx, chat(t, slow), tutorRequest())
	cancelled := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	waitGone(t, slow, cancelled)
}

// tailServer answers every request with events, then holds the response
// open: gone closes when the client gives the request up.
func tailServer(t *testing.T, events ...string) (url string, gone <-chan struct{}) {
	ch := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range events {
			fmt.Fprintf(w, "data: %s\n\n", ev)
		}
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			once.Do(func() { close(ch) })
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL, ch
}

// waitClosed fails the test with what unless gone closes within 10 s.
func waitClosed(t *testing.T, gone <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal(what)
	}
}

// lastChunk is an answer's whole text on its last chunk, finish_reason
// and all.
const lastChunk = `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Why?"},"finish_reason":"stop"}]}`

// TestOpenAIEndsOrKeepsTheConnection: an answer the caller stops reading,
// or whose caller's context ends, closes its request at once, so that the
// server stops generating — even on the answer's last chunk, before the
// stream's end; a finished answer whose response does not end (after
// [DONE]) is returned without waiting for that end, and the request is
// given up TailWait later rather than held open.
func TestOpenAIEndsOrKeepsTheConnection(t *testing.T) {
	const never = time.Hour // a TailWait no test waits out
	open := func(t *testing.T, url string, tail time.Duration) *llm.OpenAI {
		p, err := llm.NewOpenAI(llm.OpenAIOptions{BaseURL: url, Model: "m", TailWait: tail})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("stop iterating", func(t *testing.T) {
		fake := llmtest.NewOpenAIChat(t, llmtest.ChatReply{Deltas: []string{"First. ", "Second?"}, Gap: 10 * time.Second})
		for ev := range chat(t, fake).Stream(context.Background(), tutorRequest()) {
			if ev.Kind == llm.Delta {
				break
			}
		}
		waitGone(t, fake, time.Now())
	})
	t.Run("stop iterating on the last chunk", func(t *testing.T) {
		url, gone := tailServer(t, lastChunk)
		for ev := range open(t, url, never).Stream(context.Background(), tutorRequest()) {
			if ev.Kind == llm.Delta {
				break
			}
		}
		waitClosed(t, gone, "a stopped answer's request was held open for its tail")
	})
	t.Run("a stall after the answer's last chunk", func(t *testing.T) {
		// The finish_reason came, [DONE] does not: the caller's context
		// still ends the request, as it does before the answer's end.
		url, gone := tailServer(t, lastChunk)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := open(t, url, never)
		last := make(chan llm.Event, 1)
		go func() {
			var ev llm.Event
			for ev = range p.Stream(ctx, tutorRequest()) {
				if ev.Kind == llm.Delta {
					cancel() // the answer's last chunk has been read
				}
			}
			last <- ev
		}()
		select {
		case ev := <-last:
			if ev.Kind != llm.Error || !errors.Is(ev.Err, context.Canceled) {
				t.Errorf("after the cancel: %+v", ev)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the cancel did not end a request stalled after its answer's last chunk")
		}
		waitClosed(t, gone, "the request stayed open after the cancel")
	})
	t.Run("a response that does not end", func(t *testing.T) {
		url, gone := tailServer(t, lastChunk, `[DONE]`)
		p := open(t, url, never)
		answered := make(chan string, 1)
		go func() {
			text, _, err := llm.Complete(context.Background(), p, tutorRequest())
			if err != nil {
				text = err.Error()
			}
			answered <- text
		}()
		select {
		case text := <-answered:
			if text != "Why?" {
				t.Fatalf("answer %q", text)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the answer waited for the response's end")
		}
		select {
		case <-gone:
			t.Error("the request was given up before TailWait")
		default:
		}
	})
	t.Run("a tail that never comes is given up", func(t *testing.T) {
		url, gone := tailServer(t, lastChunk, `[DONE]`)
		if text, _, err := llm.Complete(context.Background(), open(t, url, 50*time.Millisecond), tutorRequest()); err != nil || text != "Why?" {
			t.Fatalf("answer %q, %v", text, err)
		}
		waitClosed(t, gone, "the request was held open after TailWait")
	})
}
