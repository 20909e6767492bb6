// Package elevenfake is a fake ElevenLabs API for tests: an httptest server
// speaking the documented wire formats (../shared/reference/external-apis.md
// §2 and ElevenLabs' OpenAPI): signed URLs, conversation tokens, single-use
// tokens, voices, streamed text-to-speech, agents, workspace secrets and
// webhooks. It checks xi-api-key, records every request, and can be told to
// fail, stall or slow down per route.
package elevenfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key is the API key the fake accepts.
const Key = "xi-test-key-0123456789"

// Routes, as Behave and Requests name them.
const (
	RouteSignedURL      = "signed_url"
	RouteConvToken      = "conversation_token"
	RouteSingleUseToken = "single_use_token"
	RouteVoices         = "voices"
	RouteTTS            = "tts"
	RouteAgentCreate    = "agent_create"
	RouteAgentUpdate    = "agent_update"
	RouteAgentGet       = "agent_get"
	RouteSecretCreate   = "secret_create"
	RouteWebhooks       = "webhooks"
)

// Behavior is how a route answers, until changed.
type Behavior struct {
	Status int           // answer this status with ElevenLabs' error body (0: answer normally)
	Delay  time.Duration // wait this long (or until the client gives up) before answering
}

// Request is one request the fake received.
type Request struct {
	Route  string
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	At     time.Time
	// For speech: when the client went away mid-stream (zero when the
	// stream ran to its end), and when the stream ended.
	Gone, Ended time.Time
}

// Voice is a voice the fake lists.
type Voice struct {
	VoiceID    string `json:"voice_id"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	PreviewURL string `json:"preview_url"`
}

// Server is the fake.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	behavior map[string]Behavior
	reqs     []Request
	voices   []Voice
	agents   map[string]map[string]any
	webhooks []map[string]any
	secrets  map[string]string // id → name (values are not kept)

	// Speech: the audio is sent in chunks of ChunkSize bytes, ChunkDelay
	// apart, Chunks of them; Hold, when set, is waited on after the first
	// chunk (close it to let the stream go on).
	ChunkSize  int
	Chunks     int
	ChunkDelay time.Duration
	Hold       chan struct{}

	// gone receives the time a speech stream's client went away.
	gone chan time.Time
}

// New starts a fake, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{behavior: map[string]Behavior{}, agents: map[string]map[string]any{}, secrets: map[string]string{},
		ChunkSize: 4096, Chunks: 8, gone: make(chan time.Time, 64),
		voices: []Voice{
			{VoiceID: "JBFqnCBsd6RMkjVDRZzb", Name: "George", Category: "premade", PreviewURL: "https://storage.googleapis.com/eleven-public-prod/premade/voices/JBFqnCBsd6RMkjVDRZzb/preview.mp3"},
			{VoiceID: "21m00Tcm4TlvDq8ikWAM", Name: "Rachel", Category: "premade", PreviewURL: "https://storage.googleapis.com/eleven-public-prod/premade/voices/21m00Tcm4TlvDq8ikWAM/preview.mp3"},
			{VoiceID: "EXAVITQu4vr4xnSDxMaL", Name: "Sarah", Category: "premade"},
		}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/convai/conversation/get-signed-url", s.wrap(RouteSignedURL, s.signedURL))
	mux.HandleFunc("GET /v1/convai/conversation/get_signed_url", s.wrap(RouteSignedURL, s.signedURL))
	mux.HandleFunc("GET /v1/convai/conversation/token", s.wrap(RouteConvToken, s.convToken))
	mux.HandleFunc("POST /v1/single-use-token/{token_type}", s.wrap(RouteSingleUseToken, s.singleUse))
	mux.HandleFunc("GET /v2/voices", s.wrap(RouteVoices, s.listVoices))
	mux.HandleFunc("GET /v1/voices", s.wrap(RouteVoices, s.listVoicesV1))
	mux.HandleFunc("POST /v1/text-to-speech/{voice_id}/stream", s.wrap(RouteTTS, s.tts))
	mux.HandleFunc("POST /v1/convai/agents/create", s.wrap(RouteAgentCreate, s.createAgent))
	mux.HandleFunc("PATCH /v1/convai/agents/{agent_id}", s.wrap(RouteAgentUpdate, s.updateAgent))
	mux.HandleFunc("GET /v1/convai/agents/{agent_id}", s.wrap(RouteAgentGet, s.getAgent))
	mux.HandleFunc("POST /v1/convai/secrets", s.wrap(RouteSecretCreate, s.createSecret))
	mux.HandleFunc("GET /v1/workspace/webhooks", s.wrap(RouteWebhooks, s.listWebhooks))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Behave sets how a route answers from now on.
func (s *Server) Behave(route string, b Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behavior[route] = b
}

// SetVoices replaces the account's voices.
func (s *Server) SetVoices(v []Voice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.voices = v
}

// AddWebhook adds a workspace webhook (they are made in the dashboard).
func (s *Server) AddWebhook(id, name, u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhooks = append(s.webhooks, map[string]any{"name": name, "webhook_id": id, "webhook_url": u, "is_disabled": false,
		"is_auto_disabled": false, "created_at_unix": time.Now().Unix(), "auth_type": "hmac"})
}

// Agent is an agent's stored settings (nil when there is none).
func (s *Server) Agent(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agents[id]
}

// PutAgent stores an agent as if made in the dashboard.
func (s *Server) PutAgent(id string, cfg map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agents[id] = cfg
}

// Requests are the requests received on a route ("" for all), in order.
func (s *Server) Requests(route string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if route == "" || r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

// Count is how many requests a route received.
func (s *Server) Count(route string) int { return len(s.Requests(route)) }

// Gone delivers the time each speech stream's client went away.
func (s *Server) Gone() <-chan time.Time { return s.gone }

// wrap records the request, checks the key, and applies the route's
// behaviour before the handler answers.
func (s *Server) wrap(route string, h func(w http.ResponseWriter, r *http.Request, i int)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{Route: route, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, At: time.Now()})
		i := len(s.reqs) - 1
		b := s.behavior[route]
		s.mu.Unlock()
		if r.Header.Get("xi-api-key") != Key {
			detail(w, http.StatusUnauthorized, "invalid_api_key", "Invalid API key")
			return
		}
		if b.Delay > 0 {
			select {
			case <-time.After(b.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if b.Status != 0 {
			detail(w, b.Status, statusCode(b.Status), "fake failure")
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h(w, r, i)
	}
}

func statusCode(status int) string {
	switch {
	case status == 429:
		return "too_many_concurrent_requests"
	case status >= 500:
		return "internal_error"
	case status == 401:
		return "invalid_api_key"
	}
	return "invalid_request"
}

// detail writes ElevenLabs' error body for 4xx/5xx (other than 422).
func detail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"detail": map[string]any{"status": code, "message": msg}})
}

// validation writes the 422 HTTPValidationError shape.
func validation(w http.ResponseWriter, loc []string, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{"loc": loc, "msg": msg, "type": "value_error"}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) agentID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.URL.Query().Get("agent_id")
	if id == "" {
		validation(w, []string{"query", "agent_id"}, "Field required")
		return "", false
	}
	return id, true
}

func (s *Server) signedURL(w http.ResponseWriter, r *http.Request, _ int) {
	id, ok := s.agentID(w, r)
	if !ok {
		return
	}
	u := strings.Replace(s.URL, "http", "ws", 1) + "/v1/convai/conversation?agent_id=" + url.QueryEscape(id) + "&conversation_signature=" + randomID("sig_")
	writeJSON(w, http.StatusOK, map[string]any{"signed_url": u})
}

func (s *Server) convToken(w http.ResponseWriter, r *http.Request, _ int) {
	if _, ok := s.agentID(w, r); !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": randomID("ey_conv_")})
}

func (s *Server) singleUse(w http.ResponseWriter, r *http.Request, _ int) {
	switch r.PathValue("token_type") {
	case "realtime_scribe", "batch_scribe", "tts_websocket":
		writeJSON(w, http.StatusOK, map[string]any{"token": randomID("sutkn_")})
	default:
		validation(w, []string{"path", "token_type"}, "Input should be 'realtime_scribe', 'batch_scribe' or 'tts_websocket'")
	}
}

func (s *Server) listVoices(w http.ResponseWriter, r *http.Request, _ int) {
	size := 10
	if v := r.URL.Query().Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			validation(w, []string{"query", "page_size"}, "Input should be between 1 and 100")
			return
		}
		size = n
	}
	from := 0
	if tok := r.URL.Query().Get("next_page_token"); tok != "" {
		from, _ = strconv.Atoi(tok)
	}
	s.mu.Lock()
	all := append([]Voice(nil), s.voices...)
	s.mu.Unlock()
	from = min(from, len(all))
	to := min(from+size, len(all))
	page := make([]map[string]any, 0, to-from)
	for _, v := range all[from:to] {
		page = append(page, voiceJSON(v))
	}
	out := map[string]any{"voices": page, "has_more": to < len(all), "total_count": len(all), "next_page_token": nil}
	if to < len(all) {
		out["next_page_token"] = strconv.Itoa(to)
	}
	writeJSON(w, http.StatusOK, out)
}

// voiceJSON is a voice as VoiceResponseModel has it (its required fields).
func voiceJSON(v Voice) map[string]any {
	m := map[string]any{"voice_id": v.VoiceID, "name": v.Name, "category": v.Category, "labels": map[string]any{},
		"available_for_tiers": []any{}, "high_quality_base_model_ids": []any{}, "preview_url": nil}
	if v.PreviewURL != "" {
		m["preview_url"] = v.PreviewURL
	}
	return m
}

// listVoicesV1 is the older listing: every voice at once.
func (s *Server) listVoicesV1(w http.ResponseWriter, _ *http.Request, _ int) {
	s.mu.Lock()
	all := make([]map[string]any, 0, len(s.voices))
	for _, v := range s.voices {
		all = append(all, voiceJSON(v))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"voices": all})
}

// mp3Frame is one silent MPEG-1 Layer III frame header plus padding: what
// the client streams is judged by its first bytes, like real audio.
var mp3Frame = func() []byte {
	b := make([]byte, 417)
	copy(b, []byte{0xFF, 0xFB, 0x90, 0x64})
	return b
}()

func (s *Server) tts(w http.ResponseWriter, r *http.Request, i int) {
	var body struct {
		Text    *string `json:"text"`
		ModelID string  `json:"model_id"`
	}
	if err := json.Unmarshal(mustBody(r), &body); err != nil {
		validation(w, []string{"body"}, "JSON decode error")
		return
	}
	if body.Text == nil || *body.Text == "" {
		validation(w, []string{"body", "text"}, "Field required")
		return
	}
	if f := r.URL.Query().Get("output_format"); f != "" && !strings.HasPrefix(f, "mp3_") && !strings.HasPrefix(f, "pcm_") && !strings.HasPrefix(f, "opus_") && f != "ulaw_8000" && f != "alaw_8000" {
		validation(w, []string{"query", "output_format"}, "Invalid output format")
		return
	}
	s.mu.Lock()
	size, n, delay, hold := s.ChunkSize, s.Chunks, s.ChunkDelay, s.Hold
	s.mu.Unlock()
	w.Header().Set("Content-Type", "audio/mpeg")
	w.Header().Set("request-id", randomID("req_"))
	w.WriteHeader(http.StatusOK)
	f := w.(http.Flusher)
	chunk := make([]byte, 0, size)
	for len(chunk) < size {
		chunk = append(chunk, mp3Frame[:min(len(mp3Frame), size-len(chunk))]...)
	}
	gone := func() {
		now := time.Now()
		s.mu.Lock()
		s.reqs[i].Gone, s.reqs[i].Ended = now, now
		s.mu.Unlock()
		select {
		case s.gone <- now:
		default:
		}
	}
	for k := range n {
		if k > 0 {
			wait := delay
			var holdCh <-chan struct{}
			if k == 1 && hold != nil {
				holdCh = hold
			}
			if holdCh != nil {
				select {
				case <-holdCh:
				case <-r.Context().Done():
					gone()
					return
				}
			}
			if wait > 0 {
				select {
				case <-time.After(wait):
				case <-r.Context().Done():
					gone()
					return
				}
			}
		}
		if _, err := w.Write(chunk); err != nil {
			gone()
			return
		}
		f.Flush()
	}
	s.mu.Lock()
	s.reqs[i].Ended = time.Now()
	s.mu.Unlock()
}

func mustBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, _ int) {
	var body map[string]any
	if err := json.Unmarshal(mustBody(r), &body); err != nil {
		validation(w, []string{"body"}, "JSON decode error")
		return
	}
	if _, ok := body["conversation_config"].(map[string]any); !ok {
		validation(w, []string{"body", "conversation_config"}, "Field required")
		return
	}
	id := randomID("agent_")
	s.mu.Lock()
	s.agents[id] = body
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"agent_id": id})
}

func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request, _ int) {
	id := r.PathValue("agent_id")
	var body map[string]any
	if err := json.Unmarshal(mustBody(r), &body); err != nil {
		validation(w, []string{"body"}, "JSON decode error")
		return
	}
	s.mu.Lock()
	cur, ok := s.agents[id]
	if ok {
		merge(cur, body)
	}
	s.mu.Unlock()
	if !ok {
		detail(w, http.StatusNotFound, "agent_not_found", fmt.Sprintf("Agent %s not found", id))
		return
	}
	s.getAgent(w, r, 0)
}

// merge applies a PATCH: objects merge key by key, anything else replaces.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				merge(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request, _ int) {
	id := r.PathValue("agent_id")
	s.mu.Lock()
	cur, ok := s.agents[id]
	var out map[string]any
	if ok {
		b, _ := json.Marshal(cur)
		_ = json.Unmarshal(b, &out)
	}
	s.mu.Unlock()
	if !ok {
		detail(w, http.StatusNotFound, "agent_not_found", fmt.Sprintf("Agent %s not found", id))
		return
	}
	out["agent_id"] = id
	if out["name"] == nil {
		out["name"] = ""
	}
	out["metadata"] = map[string]any{"created_at_unix_secs": time.Now().Unix()}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createSecret(w http.ResponseWriter, r *http.Request, _ int) {
	var body struct {
		Type, Name, Value string
	}
	if err := json.Unmarshal(mustBody(r), &body); err != nil || body.Type != "new" || body.Name == "" || body.Value == "" {
		validation(w, []string{"body"}, "type must be new, with a name and a value")
		return
	}
	id := randomID("secret_")
	s.mu.Lock()
	s.secrets[id] = body.Name
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"type": "stored", "secret_id": id, "name": body.Name})
}

func (s *Server) listWebhooks(w http.ResponseWriter, _ *http.Request, _ int) {
	s.mu.Lock()
	hooks := append([]map[string]any{}, s.webhooks...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": hooks})
}
