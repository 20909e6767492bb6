package llm_test

import (
	"context"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

func meterOf(provider string) llm.ProviderStats {
	for _, st := range llm.Meters() {
		if st.Provider == provider {
			return st
		}
	}
	return llm.ProviderStats{Provider: provider, Errors: map[string]int64{}}
}

// TestMeterCountsTokensAndFailuresByKind: calls through a Limiter count
// the tokens the provider reported (input, output, cache reads and writes)
// and sort failures into bounded kinds from real SDK errors: a 401, a 429
// with no retry-after (a spend limit, not retried), a 500 after its retries.
func TestMeterCountsTokensAndFailuresByKind(t *testing.T) {
	ctx := context.Background()
	fake := llmtest.NewAnthropic(t,
		llmtest.Text("A question", " for you?"),
		llmtest.Reply{Status: 401, ErrorType: "authentication_error"},
		llmtest.Reply{Status: 429, ErrorType: "rate_limit_error"},
		llmtest.Reply{Status: 500, ErrorType: "api_error"},
		llmtest.Reply{Status: 500, ErrorType: "api_error"},
		llmtest.Reply{Status: 500, ErrorType: "api_error"},
	)
	a, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m", MaxRetries: 2,
		Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	l := llm.NewLimiter(a, 2, 0)
	before := meterOf("anthropic")
	if _, _, err := llm.Complete(ctx, l, tutorRequest()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := llm.Complete(ctx, l, tutorRequest()); err == nil {
			t.Fatal("a failing call succeeded")
		}
	}
	after := meterOf("anthropic")
	if d := after.Calls - before.Calls; d != 4 {
		t.Errorf("calls counted: %d, want 4", d)
	}
	// The fake's answer reports 1523 input, 18 output, 1280 cache-read and
	// 200 cache-write tokens.
	for name, d := range map[string][2]int64{
		"input":       {after.InputTokens - before.InputTokens, 1523},
		"output":      {after.OutputTokens - before.OutputTokens, 18},
		"cache read":  {after.CacheReadTokens - before.CacheReadTokens, 1280},
		"cache write": {after.CacheWriteTokens - before.CacheWriteTokens, 200},
	} {
		if d[0] != d[1] {
			t.Errorf("%s tokens: %d, want %d", name, d[0], d[1])
		}
	}
	for kind, want := range map[string]int64{llm.KindAuth: 1, llm.KindRateLimited: 1, llm.KindUnavailable: 1} {
		if got := after.Errors[kind] - before.Errors[kind]; got != want {
			t.Errorf("errors of kind %s: %d, want %d (all: %v)", kind, got, want, after.Errors)
		}
	}
}
