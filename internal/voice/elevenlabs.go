package voice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Client speaks ElevenLabs' HTTP API (there is no official Go SDK). Every
// call has a timeout, is timed and counted by kind of failure, and the last
// failure is kept, in words without secrets, for /api/health.
type Client struct {
	base    string
	key     string
	timeout time.Duration
	http    *http.Client
	now     func() time.Time

	latency *prometheus.HistogramVec
	errors  *prometheus.CounterVec

	mu       sync.Mutex
	lastErr  string
	lastErrT time.Time
	lastOK   time.Time
}

// ClientOptions configure a Client.
type ClientOptions struct {
	BaseURL string        // https://api.elevenlabs.io
	APIKey  string        // sent as xi-api-key
	Timeout time.Duration // per call (for a stream: until its headers); default 10s
	HTTP    *http.Client  // default: a client of its own
}

// NewClient returns a client of the ElevenLabs API.
func NewClient(o ClientOptions) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.HTTP == nil {
		// No client-wide timeout: a speech stream outlives it. Each call
		// bounds itself (see do).
		o.HTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{
		base: strings.TrimRight(o.BaseURL, "/"), key: o.APIKey, timeout: o.Timeout, http: o.HTTP, now: time.Now,
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "socratic_elevenlabs_request_duration_seconds",
			Help:    "Time of an ElevenLabs call, by operation (for speech: until the audio starts).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "socratic_elevenlabs_errors_total",
			Help: "ElevenLabs calls that failed, by operation and kind: timeout, unavailable (5xx), unauthorized (401/403), rate_limited (429), rejected (other 4xx), network, malformed.",
		}, []string{"op", "kind"}),
	}
}

// Collectors are the client's metrics, for the server's registry.
func (c *Client) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.latency, c.errors}
}

// Operations, as the metrics label them.
const (
	OpSignedURL      = "signed_url"
	OpConvToken      = "conversation_token"
	OpSingleUseToken = "single_use_token"
	OpVoices         = "voices"
	OpSpeech         = "speech"
	OpAgentCreate    = "agent_create"
	OpAgentUpdate    = "agent_update"
	OpSecretCreate   = "secret_create"
	OpWebhooks       = "webhooks"
)

// Kinds of failure.
const (
	KindTimeout     = "timeout"
	KindUnavailable = "unavailable"
	KindAuth        = "unauthorized"
	KindRateLimited = "rate_limited"
	KindRejected    = "rejected"
	KindNetwork     = "network"
	KindMalformed   = "malformed"
)

// Error is a failed ElevenLabs call. Its text names the operation, the
// kind and the status — never the key, a token or a signed URL.
type Error struct {
	Op     string
	Kind   string
	Status int    // HTTP status; 0 when none came
	Code   string // ElevenLabs' detail.status, when it is a plain word
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ElevenLabs %s: ", strings.ReplaceAll(e.Op, "_", " "))
	switch e.Kind {
	case KindTimeout:
		b.WriteString("no answer in time")
	case KindNetwork:
		b.WriteString("could not connect")
	case KindMalformed:
		b.WriteString("answer not understood")
	default:
		fmt.Fprintf(&b, "answered %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	return b.String()
}

// LastError is the most recent failure and when it happened; "" when none
// since the process started. OK says whether a call has succeeded since.
func (c *Client) LastError() (msg string, at time.Time, recovered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr, c.lastErrT, c.lastErr != "" && c.lastOK.After(c.lastErrT)
}

// record times a finished call and notes how it ended.
func (c *Client) record(op string, start time.Time, err error) {
	c.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err == nil {
		c.mu.Lock()
		c.lastOK = c.now()
		c.mu.Unlock()
		return
	}
	var e *Error
	if errors.As(err, &e) {
		c.fail(e)
	} // else the caller went away: not ElevenLabs' failure
}

func (c *Client) fail(e *Error) {
	c.errors.WithLabelValues(e.Op, e.Kind).Inc()
	c.mu.Lock()
	c.lastErr, c.lastErrT = e.Error(), c.now()
	c.mu.Unlock()
}

// plainCode accepts ElevenLabs' machine codes (invalid_api_key) and
// nothing that could carry a caller's text.
var plainCode = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// classify turns a transport error or an HTTP status into an *Error; a
// call the caller cancelled stays the context's error.
func classify(op string, parent context.Context, timedOut bool, err error, resp *http.Response) error {
	if err != nil {
		if parent.Err() != nil && !timedOut {
			return parent.Err()
		}
		if timedOut || errors.Is(err, context.DeadlineExceeded) {
			return &Error{Op: op, Kind: KindTimeout}
		}
		return &Error{Op: op, Kind: KindNetwork}
	}
	e := &Error{Op: op, Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s >= 500:
		e.Kind = KindUnavailable
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		e.Kind = KindAuth
	case s == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
	default:
		e.Kind = KindRejected
	}
	var body struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&body) == nil {
		var d struct {
			Status string `json:"status"`
			Code   string `json:"code"`
		}
		if json.Unmarshal(body.Detail, &d) == nil {
			if plainCode.MatchString(d.Status) {
				e.Code = d.Status
			} else if plainCode.MatchString(d.Code) {
				e.Code = d.Code
			}
		}
	}
	return e
}

// callState is an open call: its cancel, and its timer, which cancels the
// call when it fires.
type callState struct {
	cancel   context.CancelFunc
	timer    *time.Timer
	timedOut atomic.Bool
	start    time.Time
}

// finish stops the timer and releases the call.
func (st *callState) finish() {
	st.timer.Stop()
	st.cancel()
}

// call is one request, sent with the key. The timeout runs from the start
// until the caller stops it (finish, or timer.Stop for a stream once its
// headers are in). On error nothing is left open.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body any) (*http.Response, *callState, error) {
	st := &callState{start: time.Now()}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("elevenlabs %s: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	cctx, cancel := context.WithCancel(ctx)
	st.cancel = cancel
	req, err := http.NewRequestWithContext(cctx, method, u, rd)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("elevenlabs %s: %w", op, err)
	}
	req.Header.Set("xi-api-key", c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	st.timer = time.AfterFunc(c.timeout, func() {
		st.timedOut.Store(true)
		cancel()
	})
	resp, err := c.http.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		err = classify(op, ctx, st.timedOut.Load(), err, resp)
		if resp != nil {
			resp.Body.Close()
		}
		st.finish()
		c.record(op, st.start, err)
		return nil, nil, err
	}
	return resp, st, nil
}

// doJSON calls and decodes a JSON answer into out, all within the timeout.
func (c *Client) doJSON(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	resp, st, err := c.call(ctx, op, method, path, query, body)
	if err != nil {
		return err
	}
	defer st.finish()
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out); err != nil {
		switch {
		case st.timedOut.Load():
			err = &Error{Op: op, Kind: KindTimeout}
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			err = &Error{Op: op, Kind: KindMalformed, Status: resp.StatusCode}
		}
		c.record(op, st.start, err)
		return err
	}
	c.record(op, st.start, nil)
	return nil
}

// SignedURL mints a signed WebSocket URL for a conversation with the agent
// (valid 15 minutes to connect).
func (c *Client) SignedURL(ctx context.Context, agentID string) (string, error) {
	var out struct {
		SignedURL string `json:"signed_url"`
	}
	err := c.doJSON(ctx, OpSignedURL, http.MethodGet, "/v1/convai/conversation/get-signed-url", url.Values{"agent_id": {agentID}}, nil, &out)
	if err == nil && out.SignedURL == "" {
		err = c.malformed(OpSignedURL)
	}
	return out.SignedURL, err
}

// ConversationToken mints a WebRTC conversation token for the agent.
func (c *Client) ConversationToken(ctx context.Context, agentID string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := c.doJSON(ctx, OpConvToken, http.MethodGet, "/v1/convai/conversation/token", url.Values{"agent_id": {agentID}}, nil, &out)
	if err == nil && out.Token == "" {
		err = c.malformed(OpConvToken)
	}
	return out.Token, err
}

// Single-use token types.
const (
	TokenRealtimeScribe = "realtime_scribe"
	TokenTTSWebsocket   = "tts_websocket"
)

// SingleUseToken mints a token for the browser's realtime speech-to-text
// or TTS WebSocket: used up by its first use, expired after 15 minutes.
func (c *Client) SingleUseToken(ctx context.Context, kind string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := c.doJSON(ctx, OpSingleUseToken, http.MethodPost, "/v1/single-use-token/"+url.PathEscape(kind), nil, nil, &out)
	if err == nil && out.Token == "" {
		err = c.malformed(OpSingleUseToken)
	}
	return out.Token, err
}

// malformed is a 200 answer that lacks what it must hold. Its latency was
// recorded with the answer; only the failure is counted here.
func (c *Client) malformed(op string) error {
	e := &Error{Op: op, Kind: KindMalformed, Status: http.StatusOK}
	c.fail(e)
	return e
}

// Voice is one of the account's voices.
type Voice struct {
	VoiceID    string `json:"voice_id"`
	Name       string `json:"name"`
	PreviewURL string `json:"preview_url"`
}

// maxVoicePages bounds the listing: 10 pages of 100.
const maxVoicePages = 10

// Voices lists the account's voices (GET /v2/voices, page by page).
func (c *Client) Voices(ctx context.Context) ([]Voice, error) {
	var all []Voice
	token := ""
	for range maxVoicePages {
		q := url.Values{"page_size": {"100"}}
		if token != "" {
			q.Set("next_page_token", token)
		}
		var page struct {
			Voices        []Voice `json:"voices"`
			HasMore       bool    `json:"has_more"`
			NextPageToken *string `json:"next_page_token"`
		}
		if err := c.doJSON(ctx, OpVoices, http.MethodGet, "/v2/voices", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Voices...)
		if !page.HasMore || page.NextPageToken == nil || *page.NextPageToken == "" {
			break
		}
		token = *page.NextPageToken
	}
	return all, nil
}

// SpeechRequest is what is spoken, and how.
type SpeechRequest struct {
	VoiceID string
	Text    string
	ModelID string // e.g. eleven_flash_v2_5
}

// Speech streams text spoken in a voice as MP3 (POST
// /v1/text-to-speech/{voice_id}/stream). The timeout covers the wait for
// the audio to start; the stream then runs until it ends, the caller's
// context is done, or the body is closed — each of which ends the upstream
// request.
func (c *Client) Speech(ctx context.Context, r SpeechRequest) (io.ReadCloser, error) {
	body := map[string]any{"text": r.Text}
	if r.ModelID != "" {
		body["model_id"] = r.ModelID
	}
	resp, st, err := c.call(ctx, OpSpeech, http.MethodPost, "/v1/text-to-speech/"+url.PathEscape(r.VoiceID)+"/stream",
		url.Values{"output_format": {"mp3_44100_128"}}, body)
	if err != nil {
		return nil, err
	}
	// The audio has started: the stream may now take as long as it takes.
	st.timer.Stop()
	c.record(OpSpeech, st.start, nil)
	return &stream{ReadCloser: resp.Body, cancel: st.cancel}, nil
}

type stream struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (s *stream) Close() error {
	err := s.ReadCloser.Close()
	s.cancel()
	return err
}

// Agent settings are sent as ElevenLabs' JSON; see AgentConfig.

// CreateAgent creates an agent and returns its id.
func (c *Client) CreateAgent(ctx context.Context, cfg map[string]any) (string, error) {
	var out struct {
		AgentID string `json:"agent_id"`
	}
	err := c.doJSON(ctx, OpAgentCreate, http.MethodPost, "/v1/convai/agents/create", nil, cfg, &out)
	if err == nil && out.AgentID == "" {
		err = c.malformed(OpAgentCreate)
	}
	return out.AgentID, err
}

// UpdateAgent patches an agent's settings.
func (c *Client) UpdateAgent(ctx context.Context, agentID string, cfg map[string]any) error {
	var out map[string]any
	return c.doJSON(ctx, OpAgentUpdate, http.MethodPatch, "/v1/convai/agents/"+url.PathEscape(agentID), nil, cfg, &out)
}

// CreateSecret stores a workspace secret (for the agent's custom LLM key)
// and returns its id.
func (c *Client) CreateSecret(ctx context.Context, name, value string) (string, error) {
	var out struct {
		SecretID string `json:"secret_id"`
	}
	err := c.doJSON(ctx, OpSecretCreate, http.MethodPost, "/v1/convai/secrets", nil, map[string]any{"type": "new", "name": name, "value": value}, &out)
	if err == nil && out.SecretID == "" {
		err = c.malformed(OpSecretCreate)
	}
	return out.SecretID, err
}

// Webhook is a workspace webhook.
type Webhook struct {
	WebhookID  string `json:"webhook_id"`
	Name       string `json:"name"`
	WebhookURL string `json:"webhook_url"`
	Disabled   bool   `json:"is_disabled"`
}

// Webhooks lists the workspace's webhooks (they are made in the
// dashboard; the API lists them).
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out struct {
		Webhooks []Webhook `json:"webhooks"`
	}
	err := c.doJSON(ctx, OpWebhooks, http.MethodGet, "/v1/workspace/webhooks", nil, nil, &out)
	return out.Webhooks, err
}
