package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
	"github.com/anthropics/anthropic-sdk-go/packages/ssestream"
)

// AnthropicOptions configure the Claude provider.
type AnthropicOptions struct {
	APIKey    string
	BaseURL   string // ANTHROPIC_BASE_URL; empty: the SDK's default
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
	HTTPClient *http.Client // default PooledClient(IdleConns)
	// IdleConns is how many connections the default client keeps open
	// between requests; 0: DefaultIdleConns.
	IdleConns int
	// MaxTokens caps every answer (LLM_MAX_TOKENS), and is the cap of a
	// request that names none; default DefaultMaxTokens.
	MaxTokens int
}

// Anthropic is Claude through the official SDK. The SDK's own retries are
// off: ours know whether a token has already been passed on, after which a
// retry would make the student hear the start of an answer twice.
type Anthropic struct {
	client anthropic.Client
	o      AnthropicOptions
	r      retries
}

// NewAnthropic returns the provider; it makes no request until Stream.
func NewAnthropic(o AnthropicOptions) (*Anthropic, error) {
	if o.APIKey == "" || o.Model == "" {
		return nil, errors.New("anthropic: ANTHROPIC_API_KEY and CLAUDE_MODEL are required")
	}
	if o.FastModel == "" {
		o.FastModel = o.Model
	}
	opts := []option.RequestOption{option.WithAPIKey(o.APIKey), option.WithMaxRetries(0)}
	if o.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(o.BaseURL))
	}
	if o.HTTPClient == nil {
		o.HTTPClient = PooledClient(o.IdleConns)
	}
	opts = append(opts, option.WithHTTPClient(o.HTTPClient))
	return &Anthropic{client: anthropic.NewClient(opts...), o: o, r: newRetries(o.MaxRetries, o.Timeout, o.Backoff)}, nil
}

// Name is "anthropic".
func (a *Anthropic) Name() string { return "anthropic" }

// DefaultIdleConns is how many idle connections a provider keeps open to
// its server when its options name no number.
const DefaultIdleConns = 256

// PooledClient is the SDK's default client (a clone of
// http.DefaultTransport with a 10-minute wait for response headers) keeping
// up to idle connections open between requests (0: DefaultIdleConns): the
// default keeps 2 per host, so with dozens of answers streaming at once
// nearly every turn and every moderation check dialled a new connection
// (and, against the real API, a new TLS handshake), then closed it. A
// burst needs as many as it has requests at once, which LLM_MAX_CONCURRENT
// bounds (see cmd/socratic's idleConns); idle ones still close after the
// transport's 90 s. When http.DefaultTransport was replaced by a wrapper,
// it is used as it is, as the SDK does. The embeddings client uses one too
// (cmd/socratic): a search embeds its query, one per turn.
func PooledClient(idle int) *http.Client {
	if idle <= 0 {
		idle = DefaultIdleConns
	}
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{Transport: http.DefaultTransport}
	}
	tr = tr.Clone()
	tr.ResponseHeaderTimeout = 10 * time.Minute
	tr.MaxIdleConns = idle
	tr.MaxIdleConnsPerHost = idle
	return &http.Client{Transport: tr}
}

// Stream sends the request and yields the answer's text as it arrives.
func (a *Anthropic) Stream(ctx context.Context, req Request) iter.Seq[Event] {
	var body any
	var opts []option.RequestOption
	body, err := a.body(req)
	if err != nil {
		// The SDK's own encoder, and its error; "stream" set as the SDK's
		// streaming call sets it.
		body, opts = a.params(req), streamSet
	}
	return a.r.stream(ctx, "anthropic", func(ctx context.Context, yield func(Event) bool) (progress, Usage, string, error) {
		return a.once(ctx, body, opts, req.ReadPace, yield)
	}, a.retryable)
}

// streamSet adds "stream":true to a request the SDK encodes: a rewrite
// of the whole body after encoding it (sjson), which a.body's requests,
// carrying the field already, go without.
var streamSet = []option.RequestOption{option.WithJSONSet("stream", true)}

// once makes one attempt, passing text on as it comes. body is the
// request: its JSON (a.body), or the SDK's params with opts setting
// "stream". pace is the request's ReadPace.
func (a *Anthropic) once(ctx context.Context, body any, opts []option.RequestOption, pace time.Duration, yield func(Event) bool) (progress, Usage, string, error) {
	// The SDK's own request (its headers, retries off, errors as
	// *anthropic.Error), read as the SDK reads it (eventStream), but each
	// event decoded into streamEvent: the SDK's union of every event type
	// costs several times more per event, and a turn has one per word.
	var raw *http.Response
	err := a.client.Post(ctx, "v1/messages", body, &raw, opts...)
	var paced *pacedBody
	if err == nil && pace > 0 && raw != nil && raw.Body != nil {
		paced = newPacedBody(ctx, raw.Body, pace)
		raw.Body = paced
	}
	stream := newEventStream(raw, err)
	defer stream.Close()
	ps := newPasser(yield, paced)
	var usage Usage
	var stop string
	got, ended := nothing, false
	for stream.Next() {
		ev := &stream.cur
		switch ev.Type {
		case "message_start":
			u := ev.Message.Usage
			usage = Usage{Input: u.InputTokens, Output: u.OutputTokens, CacheRead: u.CacheReadInputTokens, CacheWrite: u.CacheCreationInputTokens}
		case "content_block_delta":
			if ev.Delta.Type != "text_delta" || ev.Delta.Text == "" {
				continue
			}
			got = passedOn
			if !ps.delta(ev.Delta.Text) {
				return stopped, usage, "", nil
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
			if !ps.end() {
				return stopped, usage, "", nil
			}
		case "message_stop":
			ended = true
			if !ps.end() {
				return stopped, usage, "", nil
			}
		}
	}
	// The text held from the last read goes before the error it came
	// with, as it would have unpaced; a stop inside a paced read
	// (errStopped) is the caller's.
	if !ps.release() || errors.Is(stream.Err(), errStopped) {
		return stopped, usage, "", nil
	}
	if err := stream.Err(); err != nil {
		return got, usage, "", err
	}
	if !ended {
		return got, usage, "", errors.New("the answer broke off before its end")
	}
	return got, usage, stop, nil
}

// eventStream is the SDK's ssestream.Stream[streamEvent], event for event
// and error for error (TestEventStreamIsTheSDKs), except that a text delta
// of the API's plain form (plainTextDelta: valid JSON by its form) is read
// without first passing encoding/json's validity scan and its decoder: a
// turn has one per word, and they were a twenty-fifth of its CPU. The SDK's
// decoder still reads the events off the wire.
type eventStream struct {
	dec  ssestream.Decoder
	resp *http.Response
	cur  streamEvent
	err  error
}

func newEventStream(resp *http.Response, err error) *eventStream {
	return &eventStream{dec: ssestream.NewDecoder(resp), resp: resp, err: err}
}

// Next is ssestream.Stream's Next.
func (s *eventStream) Next() bool {
	if s.err != nil {
		return false
	}
	if s.dec == nil { // no response; as the SDK's stream, which would panic
		s.err = errors.New("anthropic: no response to read")
		return false
	}
	for s.dec.Next() {
		ev := s.dec.Event()
		switch ev.Type {
		case "ping", "":
			continue
		case "error":
			s.err = s.apiError(ev.Data)
			return false
		}
		data := bytes.TrimSuffix(ev.Data, []byte("\n"))
		if len(data) == 0 {
			continue
		}
		if text, ok := plainTextDelta(data); ok {
			s.cur = streamEvent{Type: "content_block_delta"}
			s.cur.Delta.Type, s.cur.Delta.Text = "text_delta", text
			return true
		}
		if typ, ok := bareEvent(data); ok {
			s.cur = streamEvent{Type: typ}
			return true
		}
		// Not a plain text delta (tried above): decoded without
		// UnmarshalJSON, which would only try it again after
		// encoding/json had checked the event once more. Except after
		// white space, which the API does not send: through the method,
		// as the SDK decodes it, a type error's offset does not count it.
		prev := s.cur
		s.cur = streamEvent{}
		var into any = (*plainStreamEvent)(&s.cur)
		if len(data) > 0 && (data[0] == ' ' || data[0] == '\t' || data[0] == '\r' || data[0] == '\n') {
			into = &s.cur
		}
		if s.err = json.Unmarshal(ev.Data, into); s.err != nil {
			s.cur = prev
			return false
		}
		return true
	}
	s.err = s.dec.Err()
	return false
}

// apiError is the SDK stream's error for an error event: an
// *anthropic.Error carrying the response when there is one (as its
// richErrorDecoder makes it), else the event's text.
func (s *eventStream) apiError(data []byte) error {
	if s.resp == nil || s.resp.Request == nil {
		return fmt.Errorf("received error while streaming: %s", string(data))
	}
	aerr := &anthropic.Error{Request: s.resp.Request, Response: s.resp, StatusCode: s.resp.StatusCode,
		RequestID: s.resp.Header.Get("request-id"), WorkspaceID: s.resp.Header.Get("anthropic-workspace-id")}
	if aerr.UnmarshalJSON(data) != nil {
		return fmt.Errorf("received error while streaming: %s", string(data))
	}
	return aerr
}

func (s *eventStream) Err() error { return s.err }

func (s *eventStream) Close() error {
	if s.dec == nil {
		return nil
	}
	return s.dec.Close()
}

// streamEvent is what once reads of a Messages stream event.
type streamEvent struct {
	Type    string `json:"type"`
	Message struct {
		Usage streamUsage `json:"usage"`
	} `json:"message"`
	Delta struct {
		Type       string `json:"type"`
		Text       string `json:"text"`
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage streamUsage `json:"usage"`
}

type streamUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
}

// retryable says whether an attempt's failure may be retried, and how long
// the server asked us to wait. A 429 without retry-after is a spend limit,
// not a rate: retrying cannot help.
func (a *Anthropic) retryable(err error) (time.Duration, bool) {
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) {
		return 0, true // the connection failed or dropped
	}
	wait := time.Duration(0)
	if apiErr.Response != nil {
		if s, err := strconv.Atoi(apiErr.Response.Header.Get("retry-after")); err == nil && s >= 0 {
			wait = min(time.Duration(s)*time.Second, 20*time.Second)
		}
	}
	switch code := apiErr.StatusCode; {
	case code == http.StatusTooManyRequests:
		return wait, apiErr.Response != nil && apiErr.Response.Header.Get("retry-after") != ""
	case code == 529, code == http.StatusRequestTimeout, code >= 500:
		return wait, true
	case code == http.StatusOK: // an error event inside the stream
		t := string(apiErr.Type())
		return wait, t == "overloaded_error" || t == "api_error"
	}
	return 0, false
}

// body is the streamed request's JSON, byte for byte what the SDK sends
// for a.params(req) with "stream" set (TestAnthropicBodyIsTheSDKs), but
// without its reflective encoder, a twentieth of a turn's CPU before the
// model is even asked, nor the rewrite that sets "stream" (sjson reads the
// whole body again, passages and history, to append the field at its end,
// where wireParams has it).
func (a *Anthropic) body(req Request) (json.RawMessage, error) {
	model := a.o.Model
	if req.Fast {
		model = a.o.FastModel
	}
	w := wireParams{MaxTokens: maxTokens(req.MaxTokens, a.o.MaxTokens), Messages: make([]wireMessage, 0, len(req.Messages)), Model: model, Stream: true}
	switch {
	case req.Deterministic:
		zero := 0.0
		w.Temperature = &zero
	case req.Temperature > 0:
		w.Temperature = &req.Temperature
	}
	if req.UserID != "" {
		w.Metadata = &wireMetadata{UserID: req.UserID}
	}
	for _, b := range req.System {
		tb := wireText{Text: b.Text, Type: "text"}
		if b.Cache {
			tb.CacheControl = &wireCache{Type: "ephemeral"}
		}
		w.System = append(w.System, tb)
	}
	for _, m := range req.Messages {
		role := "user"
		if m.Role == Assistant {
			role = "assistant"
		}
		w.Messages = append(w.Messages, wireMessage{Content: []wireText{{Text: m.Text, Type: "text"}}, Role: role})
	}
	return json.Marshal(w)
}

// The request's JSON, its fields in the SDK's order.
type (
	wireParams struct {
		MaxTokens   int64         `json:"max_tokens"`
		Messages    []wireMessage `json:"messages,omitempty"`
		Model       string        `json:"model"`
		Temperature *float64      `json:"temperature,omitempty"`
		Metadata    *wireMetadata `json:"metadata,omitempty"`
		System      []wireText    `json:"system,omitempty"`
		Stream      bool          `json:"stream"` // last, where WithJSONSet appends it
	}
	wireMessage struct {
		Content []wireText `json:"content"`
		Role    string     `json:"role"`
	}
	wireText struct {
		Text         string     `json:"text"`
		CacheControl *wireCache `json:"cache_control,omitempty"`
		Type         string     `json:"type"`
	}
	wireCache struct {
		Type string `json:"type"`
	}
	wireMetadata struct {
		UserID string `json:"user_id"`
	}
)

// params is the request in the SDK's terms: the system blocks (the one
// marked Cache carrying cache_control), then the messages.
func (a *Anthropic) params(req Request) anthropic.MessageNewParams {
	model := a.o.Model
	if req.Fast {
		model = a.o.FastModel
	}
	p := anthropic.MessageNewParams{
		Model:     anthropic.Model(model),
		MaxTokens: maxTokens(req.MaxTokens, a.o.MaxTokens),
	}
	switch {
	case req.Deterministic:
		p.Temperature = anthropic.Float(0)
	case req.Temperature > 0:
		p.Temperature = anthropic.Float(req.Temperature)
	}
	if req.UserID != "" {
		p.Metadata = anthropic.MetadataParam{UserID: anthropic.String(req.UserID)}
	}
	for _, b := range req.System {
		tb := anthropic.TextBlockParam{Text: b.Text}
		if b.Cache {
			tb.CacheControl = anthropic.NewCacheControlEphemeralParam()
		}
		p.System = append(p.System, tb)
	}
	for _, m := range req.Messages {
		if m.Role == Assistant {
			p.Messages = append(p.Messages, anthropic.NewAssistantMessage(anthropic.NewTextBlock(m.Text)))
		} else {
			p.Messages = append(p.Messages, anthropic.NewUserMessage(anthropic.NewTextBlock(m.Text)))
		}
	}
	return p
}

// UnmarshalJSON reads a text delta, one per word of an answer and nearly
// every event of a stream, without encoding/json's reflection when it has
// exactly the form the API sends: {"type":"content_block_delta",
// "index":N,"delta":{"type":"text_delta","text":"…"}} whose text needs no
// unescaping (no backslash, valid UTF-8). Anything else is decoded by
// encoding/json as before. encoding/json has already checked the whole
// event is valid JSON before it calls this.
func (e *streamEvent) UnmarshalJSON(data []byte) error {
	if text, ok := plainTextDelta(data); ok {
		*e = streamEvent{Type: "content_block_delta"}
		e.Delta.Type, e.Delta.Text = "text_delta", text
		return nil
	}
	return json.Unmarshal(data, (*plainStreamEvent)(e))
}

// plainStreamEvent is streamEvent without its UnmarshalJSON.
type plainStreamEvent streamEvent

// bareEvent is the type of an event that carries nothing once reads but
// its type, of exactly the form the API sends: {"type":"message_stop"},
// {"type":"content_block_stop","index":N}. Decoded into a streamEvent
// they are their Type alone (it has no index), so they need no decoding:
// a stream has one of each per answer, and the classifier's another.
func bareEvent(data []byte) (string, bool) {
	if string(data) == `{"type":"message_stop"}` {
		return "message_stop", true
	}
	rest, ok := bytes.CutPrefix(data, []byte(`{"type":"content_block_stop","index":`))
	if !ok {
		return "", false
	}
	if rest, ok = bytes.CutSuffix(rest, []byte("}")); !ok || len(rest) == 0 || len(rest) > 1 && rest[0] == '0' {
		return "", false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return "content_block_stop", true
}

// plainTextDelta is the text of a text delta event of exactly the form
// above, and whether it has it.
func plainTextDelta(data []byte) (string, bool) {
	const head, mid, tail = `{"type":"content_block_delta","index":`, `,"delta":{"type":"text_delta","text":"`, `"}}`
	rest, ok := bytes.CutPrefix(data, []byte(head))
	if !ok {
		return "", false
	}
	digits := 0
	for digits < len(rest) && '0' <= rest[digits] && rest[digits] <= '9' {
		digits++
	}
	if digits == 0 || digits > 1 && rest[0] == '0' { // JSON has no leading zeros
		return "", false
	}
	if rest, ok = bytes.CutPrefix(rest[digits:], []byte(mid)); !ok {
		return "", false
	}
	if text, ok := bytes.CutSuffix(rest, []byte(tail)); ok && plainJSONString(text) {
		return string(text), true
	}
	return "", false
}

// plainJSONString says whether s, between quotes, is a JSON string whose
// value is s itself: no quote, backslash or control character, and valid
// UTF-8 (encoding/json would replace invalid bytes).
func plainJSONString(s []byte) bool {
	for _, c := range s {
		if c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.Valid(s)
}
