package llm

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	HTTPClient *http.Client // default PooledClient(IdleConns)
	IdleConns  int          // as AnthropicOptions.IdleConns
	MaxTokens  int          // caps every answer, as AnthropicOptions.MaxTokens
	// TailWait bounds how long a finished answer's connection waits for
	// the response's end before it is given up (see tailDrain); default
	// 2 s.
	TailWait time.Duration
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
	if o.HTTPClient == nil {
		o.HTTPClient = PooledClient(o.IdleConns)
	}
	if o.TailWait <= 0 {
		o.TailWait = 2 * time.Second
	}
	opts := []option.RequestOption{option.WithBaseURL(base + "/"), option.WithAPIKey(key), option.WithMaxRetries(0), option.WithHTTPClient(o.HTTPClient)}
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
		return p.once(ctx, params, req.ReadPace, yield)
	}, openaiRetryable)
}

// once makes one attempt, passing text on as it comes; pace is the
// request's ReadPace.
func (p *OpenAI) once(ctx context.Context, params openai.ChatCompletionNewParams, pace time.Duration, yield func(Event) bool) (progress, Usage, string, error) {
	// ended: the answer's last chunk has been read, so what is left of
	// the response is its tail (see tailDrain).
	var ended atomic.Bool
	var paced *pacedBody
	if pace > 0 {
		paced = &pacedBody{pace: pace} // its body and context: tailDrain's
	}
	stream := p.client.Chat.Completions.NewStreaming(ctx, params, option.WithMiddleware(tailDrain(&ended, p.o.TailWait, paced)))
	defer stream.Close()
	ps := newPasser(yield, paced)
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
				ended.Store(true)
			}
			if ch.Delta.Content == "" {
				continue
			}
			got = passedOn
			if !ps.delta(ch.Delta.Content) {
				// Stopped, even on the answer's last chunk: the
				// request ends at once rather than waiting for its
				// tail.
				ended.Store(false)
				return stopped, usage, "", nil
			}
		}
		// The answer's end: its text goes on now, and the rest is read
		// unpaced, so no stop or cancel comes inside a paced read once
		// ended is set (the SDK's stream closes the body itself on a
		// read's error, which would then drain it).
		if ended.Load() && !ps.end() {
			ended.Store(false) // as above
			return stopped, usage, "", nil
		}
	}
	// The text held from the last read goes before the error it came
	// with, as it would have unpaced; a stop inside a paced read
	// (errStopped) is the caller's.
	if !ps.release() || errors.Is(stream.Err(), errStopped) {
		ended.Store(false) // as above
		return stopped, usage, "", nil
	}
	if err := stream.Err(); err != nil {
		return got, usage, "", err
	}
	if stop == "" {
		return got, usage, "", errors.New("the answer broke off before its end")
	}
	return got, usage, stop, nil
}

// tailDrain is a middleware that keeps a finished answer's connection.
// The SDK's stream stops reading at [DONE] and closes the response before
// its end (the chunked body's last bytes), and a response body closed
// before its end takes its connection down with it: against a local
// server on HTTP/1.1 (Ollama, vLLM), nearly every call dialled a new one.
// Once ended is set (the answer's finish_reason was read), closing the
// body reads what is left on the side instead, so that the connection
// goes back to the pool; nothing waits for it. It reads at most drainMax
// bytes for at most wait (TailWait), then gives up: the request's context
// ends. A body closed before the answer's end (an answer stopped, an
// error) is closed at once, so that the server stops generating. When
// paced is not nil, the SDK reads the response through it (the answer's
// ReadPace), and the tail is read unpaced.
func tailDrain(ended *atomic.Bool, wait time.Duration, paced *pacedBody) option.Middleware {
	return func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		// The caller's context ends the request until its tail is being
		// read, and no longer: the attempt's context ends as soon as the
		// answer is returned, while the tail may still be on its way.
		d := &drainOnClose{ended: ended, wait: wait}
		parent := req.Context()
		ctx, cancelCtx := context.WithCancel(context.WithoutCancel(parent))
		stop := context.AfterFunc(parent, func() {
			if !d.draining.Load() {
				cancelCtx()
			}
		})
		d.cancel = func() { stop(); cancelCtx() }
		resp, err := next(req.WithContext(ctx))
		if err != nil || resp == nil || resp.Body == nil {
			d.cancel()
			return resp, err
		}
		d.ReadCloser, resp.Body = resp.Body, d
		if paced != nil {
			paced.ReadCloser, paced.ctx, resp.Body = d, parent, paced
		}
		return resp, nil
	}
}

type drainOnClose struct {
	io.ReadCloser
	cancel   func() // ends the request's context
	ended    *atomic.Bool
	wait     time.Duration
	draining atomic.Bool // Close is reading the tail
	once     sync.Once
}

func (d *drainOnClose) Close() error {
	var err error
	d.once.Do(func() {
		if !d.ended.Load() {
			err = d.ReadCloser.Close()
			d.cancel()
			return
		}
		d.draining.Store(true)
		go func() {
			t := time.AfterFunc(d.wait, d.cancel) // ends a read that waits
			io.Copy(io.Discard, io.LimitReader(d.ReadCloser, drainMax))
			t.Stop()
			d.ReadCloser.Close()
			d.cancel()
		}()
	})
	return err
}

const drainMax = 64 << 10

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
