package llm_test

import (
	"context"
	"errors"
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
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if r := slow.Requests(); len(r) == 1 && !r[0].Gone.IsZero() {
			if d := r[0].Gone.Sub(cancelled); d > 100*time.Millisecond {
				t.Errorf("closed %s after the cancel", d)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the fake never saw the request closed")
}
