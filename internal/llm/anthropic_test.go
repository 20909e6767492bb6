package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

func claude(t *testing.T, fake *llmtest.Anthropic) *llm.Anthropic {
	t.Helper()
	p, err := llm.NewAnthropic(llm.AnthropicOptions{
		APIKey: "sk-ant-test-key", BaseURL: fake.URL, Model: "claude-sonnet-test", FastModel: "claude-haiku-test",
		Backoff: func(int) time.Duration { return time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tutorRequest() llm.Request {
	return llm.Request{
		System: []llm.Block{
			{Text: "You are a Socratic law tutor.", Cache: true},
			{Text: "<passages>week 3</passages>"},
		},
		Messages: []llm.Message{
			{Role: llm.User, Text: "What is consideration?"},
			{Role: llm.Assistant, Text: "What does each party give up?"},
			{Role: llm.User, Text: "Money, I suppose."},
		},
		MaxTokens: 300, Temperature: 0.7, UserID: "u-hash",
	}
}

// collect runs a stream and returns its text, its final event, and the
// deltas seen.
func collect(t *testing.T, s func(func(llm.Event) bool)) (string, llm.Event, int) {
	t.Helper()
	var b strings.Builder
	var last llm.Event
	n := 0
	for ev := range s {
		if ev.Kind == llm.Delta {
			b.WriteString(ev.Text)
			n++
			continue
		}
		last = ev
	}
	return b.String(), last, n
}

func TestAnthropicStreamsWhatTheServerSends(t *testing.T) {
	fake := llmtest.NewAnthropic(t, llmtest.Text("Good. ", "What does the promisee ", "give in return?"))
	text, last, n := collect(t, claude(t, fake).Stream(context.Background(), tutorRequest()))
	if text != "Good. What does the promisee give in return?" || n != 3 {
		t.Errorf("text %q in %d deltas", text, n)
	}
	if last.Kind != llm.Done || last.StopReason != "end_turn" {
		t.Fatalf("last event %+v", last)
	}
	if u := last.Usage; u.Input != 1523 || u.Output != 18 || u.CacheRead != 1280 || u.CacheWrite != 200 {
		t.Errorf("usage %+v", u)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	body, h := reqs[0].Body, reqs[0].Header
	if h.Get("x-api-key") != "sk-ant-test-key" || h.Get("anthropic-version") == "" {
		t.Errorf("headers %v", h)
	}
	if body["model"] != "claude-sonnet-test" || body["stream"] != true || body["max_tokens"] != 300.0 || body["temperature"] != 0.7 {
		t.Errorf("body %v", body)
	}
	if md, _ := body["metadata"].(map[string]any); md["user_id"] != "u-hash" {
		t.Errorf("metadata %v", body["metadata"])
	}
	system := body["system"].([]any)
	if len(system) != 2 || system[0].(map[string]any)["cache_control"] == nil || system[1].(map[string]any)["cache_control"] != nil {
		t.Errorf("only the stable prefix should carry cache_control: %v", system)
	}
	msgs := body["messages"].([]any)
	for i, want := range []string{"user", "assistant", "user"} {
		if msgs[i].(map[string]any)["role"] != want {
			t.Errorf("message %d role %v", i, msgs[i])
		}
	}
}

func TestAnthropicFastModel(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	req := tutorRequest()
	req.Fast = true
	if _, _, err := llm.Complete(context.Background(), claude(t, fake), req); err != nil {
		t.Fatal(err)
	}
	if m := fake.Requests()[0].Body["model"]; m != "claude-haiku-test" {
		t.Errorf("model %v", m)
	}
}

// TestAnthropicRetriesOnlyBeforeTheFirstToken: 429 with retry-after, 529,
// and an overloaded error before any text are retried; a 429 without
// retry-after (a spend limit) is not; an error after text has been passed
// on is never retried.
func TestAnthropicRetriesOnlyBeforeTheFirstToken(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		replies  []llmtest.Reply
		requests int
		ok       bool
	}{
		{"429 then ok", []llmtest.Reply{{Status: 429, ErrorType: "rate_limit_error", RetryAfter: "0"}, llmtest.Text("Why?")}, 2, true},
		{"529 twice then ok", []llmtest.Reply{{Status: 529, ErrorType: "overloaded_error"}, {Status: 529, ErrorType: "overloaded_error"}, llmtest.Text("Why?")}, 3, true},
		{"529 three times", []llmtest.Reply{{Status: 529, ErrorType: "overloaded_error"}, {Status: 529, ErrorType: "overloaded_error"}, {Status: 529, ErrorType: "overloaded_error"}}, 3, false},
		{"spend limit", []llmtest.Reply{{Status: 429, ErrorType: "rate_limit_error"}}, 1, false},
		{"bad request", []llmtest.Reply{{Status: 400, ErrorType: "invalid_request_error"}}, 1, false},
		{"overloaded before text", []llmtest.Reply{{Events: append(llmtest.Text().Events[:2], llmtest.Overloaded)}, llmtest.Text("Why?")}, 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := llmtest.NewAnthropic(t, c.replies...)
			text, _, err := llm.Complete(ctx, claude(t, fake), tutorRequest())
			if (err == nil) != c.ok || c.ok && text != "Why?" {
				t.Errorf("text %q, err %v", text, err)
			}
			if n := len(fake.Requests()); n != c.requests {
				t.Errorf("%d requests, want %d", n, c.requests)
			}
		})
	}
}

// TestAnthropicBrokenStreams: an error event or a dropped connection after
// text ends the stream with an error (the caller stores no half-turn), and
// is not retried.
func TestAnthropicBrokenStreams(t *testing.T) {
	partial := llmtest.Text("Consider the ").Events[:4]
	for name, reply := range map[string]llmtest.Reply{
		"error event":        {Events: append(append([]llmtest.SSE{}, partial...), llmtest.Overloaded)},
		"dropped connection": {Events: partial, Drop: true},
	} {
		t.Run(name, func(t *testing.T) {
			fake := llmtest.NewAnthropic(t, reply, llmtest.Text("never sent"))
			text, last, _ := collect(t, claude(t, fake).Stream(context.Background(), tutorRequest()))
			if text != "Consider the " || last.Kind != llm.Error || last.Err == nil {
				t.Errorf("text %q, last %+v", text, last)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests: retried after text was passed on", n)
			}
		})
	}
}

// TestAnthropicCancelClosesUpstream: cancelling the caller's context, or
// stopping the iteration, closes the upstream request at once.
func TestAnthropicCancelClosesUpstream(t *testing.T) {
	slow := llmtest.Text("Too late.")
	slow.Events[3].Delay = 10 * time.Second // the first token never comes in time
	t.Run("context", func(t *testing.T) {
		fake := llmtest.NewAnthropic(t, slow)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, last, _ := collect(t, claude(t, fake).Stream(ctx, tutorRequest()))
		cancelled := time.Now()
		if last.Kind != llm.Error || !errors.Is(last.Err, context.Canceled) {
			t.Errorf("last %+v", last)
		}
		waitGone(t, fake, cancelled)
	})
	t.Run("stop iterating", func(t *testing.T) {
		two := llmtest.Text("First. ", "Second.")
		two.Events[4].Delay = 10 * time.Second
		fake := llmtest.NewAnthropic(t, two)
		for ev := range claude(t, fake).Stream(context.Background(), tutorRequest()) {
			if ev.Kind == llm.Delta {
				break
			}
		}
		waitGone(t, fake, time.Now())
	})
}

// waitGone checks that the fake (either fake: both record a Request's
// Gone) saw the client leave within 100 ms of since.
func waitGone(t *testing.T, fake interface{ Requests() []llmtest.Request }, since time.Time) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if r := fake.Requests(); len(r) == 1 && !r[0].Gone.IsZero() {
			if d := r[0].Gone.Sub(since); d > 100*time.Millisecond {
				t.Errorf("the upstream request was closed %s after the cancel", d)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the fake never saw the request closed")
}
