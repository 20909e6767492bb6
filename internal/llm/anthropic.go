package llm

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AnthropicOptions configure the Claude provider.
type AnthropicOptions struct {
	APIKey    string
	BaseURL   string // ANTHROPIC_BASE_URL; empty: https://api.anthropic.com
	Model     string // CLAUDE_MODEL
	FastModel string // CLAUDE_FAST_MODEL
	// MaxRetries on 429 (with retry-after), 529, 5xx, or a connection
	// failure — only before the first token reached the caller; default 2.
	MaxRetries int
	// Timeout bounds a whole call, retries included; default 60 s.
	Timeout time.Duration
	// Backoff is the wait before retry n (from 0) when the server names
	// none; default 0.5 s doubling, with jitter.
	Backoff    func(n int) time.Duration
	HTTPClient *http.Client // default http.DefaultClient's transport
	// MaxTokens caps every answer (LLM_MAX_TOKENS), and is the cap of a
	// request that names none; default DefaultMaxTokens.
	MaxTokens int
}

// Anthropic is Claude over the Messages API (POST /v1/messages, streamed),
// spoken directly (see wire.go). It retries by itself: only before the
// first token has been passed on, after which a retry would make the
// student hear the start of an answer twice.
type Anthropic struct {
	url string // …/v1/messages
	o   AnthropicOptions
	r   retries
}

// anthropicVersion is the API version the requests and events below follow.
const anthropicVersion = "2023-06-01"

// NewAnthropic returns the provider; it makes no request until Stream.
func NewAnthropic(o AnthropicOptions) (*Anthropic, error) {
	if o.APIKey == "" || o.Model == "" {
		return nil, errors.New("anthropic: ANTHROPIC_API_KEY and CLAUDE_MODEL are required")
	}
	if o.FastModel == "" {
		o.FastModel = o.Model
	}
	base := o.BaseURL
	if base == "" {
		base = "https://api.anthropic.com"
	}
	url := strings.TrimSuffix(base, "/") + "/v1/messages"
	return &Anthropic{url: url, o: o, r: newRetries(o.MaxRetries, o.Timeout, o.Backoff)}, nil
}

// Name is "anthropic".
func (a *Anthropic) Name() string { return "anthropic" }

// Stream sends the request and yields the answer's text as it arrives.
func (a *Anthropic) Stream(ctx context.Context, req Request) iter.Seq[Event] {
	params := a.params(req)
	return a.r.stream(ctx, "anthropic", func(ctx context.Context, yield func(Event) bool) (progress, Usage, string, error) {
		return a.once(ctx, params, yield)
	}, a.retryable)
}

// anthropicUsage is the usage object of message_start and message_delta.
type anthropicUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
}

// anthropicEvent is the part of a stream event we read.
type anthropicEvent struct {
	Type    string `json:"type"`
	Message struct {
		Usage anthropicUsage `json:"usage"`
	} `json:"message"`
	Delta struct {
		Type       string `json:"type"`
		Text       string `json:"text"`
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage anthropicUsage `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// once makes one attempt, passing text on as it comes.
func (a *Anthropic) once(ctx context.Context, params anthropicRequest, yield func(Event) bool) (progress, Usage, string, error) {
	h := http.Header{}
	h.Set("X-Api-Key", a.o.APIKey)
	h.Set("Anthropic-Version", anthropicVersion)
	h.Set("Accept", "text/event-stream")
	res, err := postJSON(ctx, a.o.HTTPClient, "anthropic", a.url, h, params)
	if err != nil {
		return nothing, Usage{}, "", err
	}
	defer res.Body.Close()
	var usage Usage
	var stop string
	var failed error
	got, ended := nothing, false
	err = readSSE(res.Body, func(e sseEvent) bool {
		var ev anthropicEvent
		if err := json.Unmarshal([]byte(e.Data), &ev); err != nil {
			failed = errors.New("an event that is not JSON")
			return false
		}
		switch ev.Type {
		case "message_start":
			u := ev.Message.Usage
			usage = Usage{Input: u.InputTokens, Output: u.OutputTokens, CacheRead: u.CacheReadInputTokens, CacheWrite: u.CacheCreationInputTokens}
		case "content_block_delta":
			if ev.Delta.Type != "text_delta" || ev.Delta.Text == "" {
				return true
			}
			got = passedOn
			if !yield(Event{Kind: Delta, Text: ev.Delta.Text}) {
				got = stopped
				return false
			}
		case "message_delta":
			// Cumulative counts; input and cache counts only when sent.
			usage.Output = ev.Usage.OutputTokens
			if ev.Usage.InputTokens > 0 {
				usage.Input = ev.Usage.InputTokens
			}
			if ev.Usage.CacheReadInputTokens > 0 {
				usage.CacheRead = ev.Usage.CacheReadInputTokens
			}
			if ev.Usage.CacheCreationInputTokens > 0 {
				usage.CacheWrite = ev.Usage.CacheCreationInputTokens
			}
			stop = ev.Delta.StopReason
		case "message_stop":
			ended = true
			return false
		case "error":
			failed = &apiError{Provider: "anthropic", Status: http.StatusOK, Type: ev.Error.Type, Message: ev.Error.Message}
			return false
		}
		return true
	})
	switch {
	case got == stopped:
		return stopped, usage, "", nil
	case failed != nil:
		return got, usage, "", failed
	case ended:
		return got, usage, stop, nil
	case err != nil:
		return got, usage, "", err
	}
	return got, usage, "", errors.New("the answer broke off before its end")
}

// retryable says whether an attempt's failure may be retried, and how long
// the server asked us to wait. A 429 without retry-after is a spend limit,
// not a rate: retrying cannot help.
func (a *Anthropic) retryable(err error) (time.Duration, bool) {
	var apiErr *apiError
	if !errors.As(err, &apiErr) {
		return 0, true // the connection failed or dropped
	}
	wait := time.Duration(0)
	if s, err := strconv.Atoi(apiErr.RetryAfter); err == nil && s >= 0 {
		wait = min(time.Duration(s)*time.Second, 20*time.Second)
	}
	switch code := apiErr.Status; {
	case code == http.StatusTooManyRequests:
		return wait, apiErr.RetryAfter != ""
	case code == 529, code == http.StatusRequestTimeout, code >= 500:
		return wait, true
	case code == http.StatusOK: // an error event inside the stream
		return wait, apiErr.Type == "overloaded_error" || apiErr.Type == "api_error"
	}
	return 0, false
}

// anthropicRequest is the Messages API's request body, as much of it as we
// send.
type anthropicRequest struct {
	Model       string             `json:"model"`
	MaxTokens   int64              `json:"max_tokens"`
	Temperature float64            `json:"temperature,omitzero"`
	Metadata    *anthropicMetadata `json:"metadata,omitempty"`
	System      []anthropicText    `json:"system,omitempty"`
	Messages    []anthropicMessage `json:"messages"`
	Stream      bool               `json:"stream"`
}

type anthropicMetadata struct {
	UserID string `json:"user_id"`
}

type anthropicText struct {
	Type         string        `json:"type"` // "text"
	Text         string        `json:"text"`
	CacheControl *cacheControl `json:"cache_control,omitempty"`
}

type cacheControl struct {
	Type string `json:"type"` // "ephemeral"
}

type anthropicMessage struct {
	Role    Role            `json:"role"`
	Content []anthropicText `json:"content"`
}

// params is the request body: the system blocks (the one marked Cache
// carrying cache_control), then the messages.
func (a *Anthropic) params(req Request) anthropicRequest {
	model := a.o.Model
	if req.Fast {
		model = a.o.FastModel
	}
	p := anthropicRequest{
		Model:       model,
		MaxTokens:   maxTokens(req.MaxTokens, a.o.MaxTokens),
		Temperature: max(req.Temperature, 0),
		Stream:      true,
		Messages:    []anthropicMessage{},
	}
	if req.UserID != "" {
		p.Metadata = &anthropicMetadata{UserID: req.UserID}
	}
	for _, b := range req.System {
		tb := anthropicText{Type: "text", Text: b.Text}
		if b.Cache {
			tb.CacheControl = &cacheControl{Type: "ephemeral"}
		}
		p.System = append(p.System, tb)
	}
	for _, m := range req.Messages {
		role := User
		if m.Role == Assistant {
			role = Assistant
		}
		p.Messages = append(p.Messages, anthropicMessage{Role: role, Content: []anthropicText{{Type: "text", Text: m.Text}}})
	}
	return p
}
