package llm

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"strings"
	"time"
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
// streamed, spoken directly (see wire.go).
type OpenAI struct {
	url string // …/v1/chat/completions
	o   OpenAIOptions
	r   retries
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
	return &OpenAI{url: base + "/chat/completions", o: o, r: newRetries(o.MaxRetries, o.Timeout, o.Backoff)}, nil
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

// openaiChunk is the part of a chat.completion.chunk we read.
type openaiChunk struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens        int64 `json:"prompt_tokens"`
		CompletionTokens    int64 `json:"completion_tokens"`
		TotalTokens         int64 `json:"total_tokens"`
		PromptTokensDetails struct {
			CachedTokens int64 `json:"cached_tokens"`
		} `json:"prompt_tokens_details"`
	} `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func (p *OpenAI) once(ctx context.Context, params openaiRequest, yield func(Event) bool) (progress, Usage, string, error) {
	h := http.Header{}
	if p.o.APIKey != "" {
		h.Set("Authorization", "Bearer "+p.o.APIKey)
	}
	h.Set("Accept", "text/event-stream")
	res, err := postJSON(ctx, p.o.HTTPClient, "openai", p.url, h, params)
	if err != nil {
		return nothing, Usage{}, "", err
	}
	defer res.Body.Close()
	var usage Usage
	var stop string
	var failed error
	got := nothing
	err = readSSE(res.Body, func(e sseEvent) bool {
		if e.Data == "[DONE]" {
			return false
		}
		var c openaiChunk
		if err := json.Unmarshal([]byte(e.Data), &c); err != nil {
			failed = errors.New("a chunk that is not JSON")
			return false
		}
		if c.Error != nil {
			// Not an HTTP status: like a dropped connection, retried
			// while nothing has been passed on.
			failed = errors.New("the server sent an error mid-stream: " + c.Error.Message)
			return false
		}
		if u := c.Usage; u != nil && (u.TotalTokens > 0 || u.PromptTokens > 0) {
			usage = Usage{Input: u.PromptTokens, Output: u.CompletionTokens, CacheRead: u.PromptTokensDetails.CachedTokens}
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
				got = stopped
				return false
			}
		}
		return true
	})
	switch {
	case got == stopped:
		return stopped, usage, "", nil
	case failed != nil:
		return got, usage, "", failed
	case err != nil:
		return got, usage, "", err
	case stop == "":
		return got, usage, "", errors.New("the answer broke off before its end")
	}
	// The answer is whole once a finish reason came (some servers send
	// no [DONE]).
	return got, usage, stop, nil
}

// openaiRetryable: 429, 408, 5xx and failed connections; these servers
// name no wait worth honouring over our backoff.
func openaiRetryable(err error) (time.Duration, bool) {
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		return 0, true // the connection failed or dropped
	}
	c := apiErr.Status
	return 0, c == http.StatusTooManyRequests || c == http.StatusRequestTimeout || c >= 500
}

// openaiRequest is the chat completions request body, as much as we send.
type openaiRequest struct {
	Model         string          `json:"model"`
	Messages      []openaiMessage `json:"messages"`
	MaxTokens     int64           `json:"max_tokens"`
	Temperature   float64         `json:"temperature,omitzero"`
	User          string          `json:"user,omitempty"`
	Stream        bool            `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type openaiMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func (p *OpenAI) params(req Request) openaiRequest {
	params := openaiRequest{
		Model:       p.o.Model,
		MaxTokens:   maxTokens(req.MaxTokens, p.o.MaxTokens),
		Temperature: max(req.Temperature, 0),
		User:        req.UserID,
		Stream:      true,
		Messages:    []openaiMessage{},
	}
	params.StreamOptions.IncludeUsage = true
	if len(req.System) > 0 {
		parts := make([]string, len(req.System))
		for i, b := range req.System {
			parts[i] = b.Text
		}
		params.Messages = append(params.Messages, openaiMessage{Role: "system", Content: strings.Join(parts, "\n\n")})
	}
	for _, m := range req.Messages {
		role := "user"
		if m.Role == Assistant {
			role = "assistant"
		}
		params.Messages = append(params.Messages, openaiMessage{Role: role, Content: m.Text})
	}
	return params
}
