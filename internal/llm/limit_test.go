package llm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// TestEveryCallCarriesBoundedMaxTokens: through both official SDKs, a
// request asking for more than the provider's ceiling is cut to it, one
// naming none gets the ceiling (not a zero, nor one token), and with no
// ceiling configured, DefaultMaxTokens.
func TestEveryCallCarriesBoundedMaxTokens(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		ceiling, asked int
		want           float64
	}{
		{120, 300, 120},
		{120, 0, 120},
		{120, 50, 50},
		{0, 0, llm.DefaultMaxTokens},
		{0, 5000, llm.DefaultMaxTokens},
	} {
		req := tutorRequest()
		req.MaxTokens = c.asked

		claudeFake := llmtest.NewAnthropic(t)
		a, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: claudeFake.URL, Model: "m", MaxTokens: c.ceiling})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := llm.Complete(ctx, a, req); err != nil {
			t.Fatal(err)
		}
		if got := claudeFake.Requests()[0].Body["max_tokens"]; got != c.want {
			t.Errorf("anthropic, ceiling %d, asked %d: max_tokens %v, want %v", c.ceiling, c.asked, got, c.want)
		}

		chatFake := llmtest.NewOpenAIChat(t)
		o, err := llm.NewOpenAI(llm.OpenAIOptions{BaseURL: chatFake.URL, Model: "m", MaxTokens: c.ceiling})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := llm.Complete(ctx, o, req); err != nil {
			t.Fatal(err)
		}
		if got := chatFake.Requests()[0].Body["max_tokens"]; got != c.want {
			t.Errorf("openai, ceiling %d, asked %d: max_tokens %v, want %v", c.ceiling, c.asked, got, c.want)
		}
	}
}

// TestLimiterRefusesWhenFull: with every slot held, a reservation is
// refused at once and a call without one fails with ErrBusy after the
// limiter's short wait, never reaching the model; calls under a bound
// slot share it; released slots are free again.
func TestLimiterRefusesWhenFull(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	p, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	lim := llm.NewLimiter(p, 1, 10*time.Millisecond)
	slot, err := llm.Reserve(lim)
	if err != nil || slot == nil {
		t.Fatalf("first reservation: %v %v", slot, err)
	}
	if _, err := llm.Reserve(lim); !errors.Is(err, llm.ErrBusy) {
		t.Fatalf("second reservation: %v", err)
	}
	ctx := context.Background()
	if _, _, err := llm.Complete(ctx, lim, tutorRequest()); !errors.Is(err, llm.ErrBusy) {
		t.Fatalf("a call without a slot while full: %v", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("refused calls reached the model: %d", n)
	}
	// The turn's answer and its moderation check share the turn's slot.
	bound := slot.Bind(ctx)
	for range 2 {
		if _, _, err := llm.Complete(bound, lim, tutorRequest()); err != nil {
			t.Fatalf("a call under the bound slot: %v", err)
		}
	}
	if l := lim.Load(); l.InFlight != 1 || l.Max != 1 || l.Refused != 2 {
		t.Errorf("load %+v", l)
	}
	slot.Release()
	slot.Release() // twice is harmless
	if l := lim.Load(); l.InFlight != 0 {
		t.Errorf("released, still %d in flight", l.InFlight)
	}
	if _, _, err := llm.Complete(ctx, lim, tutorRequest()); err != nil {
		t.Fatalf("a call once free: %v", err)
	}
	if l := lim.Load(); l.InFlight != 0 {
		t.Errorf("a finished call kept its slot: %+v", l)
	}
	// A provider without a limiter needs no slot.
	if s, err := llm.Reserve(p); s != nil || err != nil {
		t.Errorf("reserve on an unlimited provider: %v %v", s, err)
	}
}
