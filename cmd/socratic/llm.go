package main

import (
	"fmt"
	"log/slog"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/llm"
)

// openLLM is the configured language model, or nil for the offline tutor
// (no provider named, no key: no network). A provider that is named but
// cannot be built is an error that stops the start: answering with the
// offline tutor instead would hide the mistake until students notice.
// config.Validate already names what is missing; this is the backstop.
func openLLM(cfg config.Config, log *slog.Logger) (llm.Provider, error) {
	var p llm.Provider
	var err error
	switch name := cfg.LLMProviderName(); name {
	case "anthropic":
		p, err = llm.NewAnthropic(llm.AnthropicOptions{APIKey: cfg.AnthropicAPIKey, BaseURL: cfg.AnthropicBaseURL, Model: cfg.ClaudeModel, FastModel: cfg.ClaudeFastModel, MaxTokens: cfg.LLMMaxTokens, Timeout: cfg.LLMTimeout,
			IdleConns: idleConns(cfg.LLMMaxConcurrent)})
	case "openai":
		p, err = llm.NewOpenAI(llm.OpenAIOptions{BaseURL: cfg.OpenAIBaseURL, APIKey: cfg.OpenAIAPIKey, Model: cfg.OpenAIModel, MaxTokens: cfg.LLMMaxTokens, Timeout: cfg.LLMTimeout,
			IdleConns: idleConns(cfg.LLMMaxConcurrent)})
	case "offline":
		log.Info("the tutor is offline (no language model configured): it asks from templates over the readings")
		return nil, nil
	default:
		return nil, fmt.Errorf("configuration: LLM_PROVIDER must be anthropic, openai or offline, not %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	// One cap for every call the process makes (turns, moderation, themes).
	return llm.NewLimiter(p, cfg.LLMMaxConcurrent, 0), nil
}

// idleConns is how many connections to the model (and to the embeddings
// server) the process keeps open between requests. A turn's slot
// (LLM_MAX_CONCURRENT of them) covers its answer and, beside it, its
// moderation check (or, before the answer, its query's rewrite): two
// connections at once; its search embeds its query, one more to the
// embeddings server; the week's themes and ingestion take a few more.
// With fewer kept, each burst of turns closed the connections past the
// cap once it was answered, and the next burst dialled them again
// (TestServerKeepsModelConnections).
func idleConns(maxConcurrent int) int { return 2*maxConcurrent + 8 }
