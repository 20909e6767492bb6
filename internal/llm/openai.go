package llm

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// OpenAIOptions configure an OpenAI-compatible chat server (Ollama, vLLM,
// LM Studio, OpenAI).
type OpenAIOptions struct {
	BaseURL    string // OPENAI_BASE_URL; "/v1" is added when absent
	APIKey     string // may be empty for local servers
	Model      string // OPENAI_MODEL, used for fast requests too
	MaxRetries int    // before the first token only; default 2
	Timeout    time.Duration
	Backoff    func(n int) time.Duration
	HTTPClient *http.Client
	MaxTokens  int // caps every answer, as AnthropicOptions.MaxTokens
}

// OpenAI is a chat model behind an OpenAI-compatible /v1/chat/completions,
// through the official SDK.
type OpenAI struct {
	client openai.Client
	o      OpenAIOptions
	r      retries
}

// NewOpenAI returns the provider; it makes no request until Stream.
func NewOpenAI(o OpenAIOptions) (*OpenAI, error) {
	if o.BaseURL == "" || o.Model == "" {
		return nil, errors.New("openai: OPENAI_BASE_URL and OPENAI_MODEL are required")
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	key := o.APIKey
	if key == "" {
		key = "unused" // the SDK requires one; local servers ignore it
	}
	opts := []option.RequestOption{option.WithBaseURL(base + "/"), option.WithAPIKey(key), option.WithMaxRetries(0)}
	if o.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(o.HTTPClient))
	}
	return &OpenAI{client: openai.NewClient(opts...), o: o, r: newRetries(o.MaxRetries, o.Timeout, o.Backoff)}, nil
}

// Name is "openai".
func (p *OpenAI) Name() string { return "openai" }

// Stream sends the request and yields the answer's text as it arrives.
// The system blocks become one system message (these servers cache, if at
// all, by themselves).
func (p *OpenAI) Stream(ctx context.Context, req Request) iter.Seq[Event] {
	params := p.params(req)
	return p.r.stream(ctx, "openai", func(ctx context.Context, yield func(Event) bool) (progress, Usage, string, error) {
		return p.once(ctx, params, yield)
	}, openaiRetryable)
}

func (p *OpenAI) once(ctx context.Context, params openai.ChatCompletionNewParams, yield func(Event) bool) (progress, Usage, string, error) {
	stream := p.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()
	var usage Usage
	var stop string
	got := nothing
	for stream.Next() {
		c := stream.Current()
		if c.Usage.TotalTokens > 0 || c.Usage.PromptTokens > 0 {
			usage = Usage{Input: c.Usage.PromptTokens, Output: c.Usage.CompletionTokens, CacheRead: c.Usage.PromptTokensDetails.CachedTokens}
		}
		for _, ch := range c.Choices {
			if ch.FinishReason != "" {
				stop = ch.FinishReason
			}
			if ch.Delta.Content == "" {
				continue
			}
			got = passedOn
			if !yield(Event{Kind: Delta, Text: ch.Delta.Content}) {
				return stopped, usage, "", nil
			}
		}
	}
	if err := stream.Err(); err != nil {
		return got, usage, "", err
	}
	if stop == "" {
		return got, usage, "", errors.New("the answer broke off before its end")
	}
	return got, usage, stop, nil
}

// openaiRetryable: 429, 408, 5xx and failed connections; these servers
// name no wait the SDK does not already handle.
func openaiRetryable(err error) (time.Duration, bool) {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return 0, true // the connection failed or dropped
	}
	c := apiErr.StatusCode
	return 0, c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500
}

func (p *OpenAI) params(req Request) openai.ChatCompletionNewParams {
	params := openai.ChatCompletionNewParams{
		Model:         openai.ChatModel(p.o.Model),
		MaxTokens:     openai.Int(maxTokens(req.MaxTokens, p.o.MaxTokens)),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	switch {
	case req.Deterministic:
		params.Temperature = openai.Float(0)
	case req.Temperature > 0:
		params.Temperature = openai.Float(req.Temperature)
	}
	if req.UserID != "" {
		params.User = openai.String(req.UserID)
	}
	if len(req.System) > 0 {
		parts := make([]string, len(req.System))
		for i, b := range req.System {
			parts[i] = b.Text
		}
		params.Messages = append(params.Messages, openai.SystemMessage(strings.Join(parts, "\n\n")))
	}
	for _, m := range req.Messages {
		if m.Role == Assistant {
			params.Messages = append(params.Messages, openai.AssistantMessage(m.Text))
		} else {
			params.Messages = append(params.Messages, openai.UserMessage(m.Text))
		}
	}
	return params
}
