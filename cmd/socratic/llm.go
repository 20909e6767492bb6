package main

import (
	"log/slog"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/llm"
)

// openLLM is the configured language model, or nil for the offline tutor
// (no key, no network). A configured provider that cannot be built (a
// missing model name, say) is logged and the offline tutor answers.
func openLLM(cfg config.Config, log *slog.Logger) (llm.Provider, string) {
	var p llm.Provider
	var err error
	switch name := cfg.LLMProviderName(); name {
	case "anthropic":
		p, err = llm.NewAnthropic(llm.AnthropicOptions{APIKey: cfg.AnthropicAPIKey, BaseURL: cfg.AnthropicBaseURL, Model: cfg.ClaudeModel, FastModel: cfg.ClaudeFastModel, MaxTokens: cfg.LLMMaxTokens})
	case "openai":
		p, err = llm.NewOpenAI(llm.OpenAIOptions{BaseURL: cfg.OpenAIBaseURL, APIKey: cfg.OpenAIAPIKey, Model: cfg.OpenAIModel, MaxTokens: cfg.LLMMaxTokens})
	case "offline":
		log.Info("the tutor is offline (no language model configured): it asks from templates over the readings")
		return nil, "ok"
	default:
		log.Error("unknown LLM_PROVIDER: the offline tutor answers", "llm_provider", name)
		return nil, "error"
	}
	if err != nil {
		log.Error("the language model is misconfigured: the offline tutor answers", "err", err)
		return nil, "error"
	}
	// One cap for every call the process makes (turns, moderation, themes).
	return llm.NewLimiter(p, cfg.LLMMaxConcurrent, 0), "ok"
}
