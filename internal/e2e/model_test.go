package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Model is a fake of the Anthropic Messages API (POST /v1/messages,
// streamed in the real SSE wire format). The tutor's turns get Reply word
// by word (the first word TTFT after the request, then one every Gap);
// the moderation classifier gets a "safe" verdict; the week's themes a
// JSON list; anything else a line of text. With Hang set, every request
// is accepted and read and then never answered: no status, no byte, until
// the server gives up and closes the connection (or Hang is cleared and
// the model is Released).
type Model struct {
	URL  string
	TTFT time.Duration
	Gap  time.Duration

	srv     *http.Server
	hang    atomic.Bool // every request hangs
	hangT   atomic.Bool // the tutor's requests hang (moderation and themes are answered)
	release chan struct{}
	relMu   sync.Mutex

	mu       sync.Mutex
	turns    int            // tutor requests answered
	requests int            // every request received
	hanging  int            // requests held without an answer right now
	hung     int            // requests ever held
	markers  map[string]int // tutor requests per marker found in the last user message
	rewrites map[string]int // search query rewrites (QUERY_REWRITE) per marker
}

// ModelReply is what the fake tutor says.
const ModelReply = "That is a fair place to start. What does the court say the rule is, in your own words? Where in the opinion do you find it?"

// StartModel starts a fake Anthropic API on a local port.
func StartModel(t testing.TB, ttft, gap time.Duration) *Model {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{URL: "http://" + ln.Addr().String(), TTFT: ttft, Gap: gap, release: make(chan struct{}), markers: map[string]int{}, rewrites: map[string]int{}}
	srv := &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 10 * time.Second}
	m.srv = srv
	go srv.Serve(ln)
	t.Cleanup(func() { m.Release(); srv.Close() })
	return m
}

// DropIdle closes the fake's idle keep-alive connections (so the
// server's HTTP client lets go of the goroutines it keeps for them).
func (m *Model) DropIdle() {
	m.srv.SetKeepAlivesEnabled(false)
	m.srv.SetKeepAlivesEnabled(true)
}

// Env is the server's settings for this fake.
func (m *Model) Env() []string {
	return []string{"LLM_PROVIDER=anthropic", "ANTHROPIC_API_KEY=sk-ant-e2e-fake", "ANTHROPIC_BASE_URL=" + m.URL}
}

// Hang makes every new request hang (true) or be answered (false).
// Requests already hanging stay so until Release.
func (m *Model) Hang(on bool) {
	if on {
		m.relMu.Lock()
		select {
		case <-m.release:
			m.release = make(chan struct{})
		default:
		}
		m.relMu.Unlock()
	}
	m.hang.Store(on)
	if !on {
		m.hangT.Store(false)
	}
}

// HangTutor makes only the tutor's requests hang (true): the moderation
// classifier and the themes are still answered, as when the main model
// is stuck and the fast one is not. Requests already hanging stay so
// until Release.
func (m *Model) HangTutor(on bool) {
	m.Hang(false)
	if on {
		m.relMu.Lock()
		select {
		case <-m.release:
			m.release = make(chan struct{})
		default:
		}
		m.relMu.Unlock()
	}
	m.hangT.Store(on)
}

// Release lets every hanging request go (they end without an answer).
func (m *Model) Release() {
	m.relMu.Lock()
	defer m.relMu.Unlock()
	select {
	case <-m.release:
	default:
		close(m.release)
	}
}

func (m *Model) releaseCh() chan struct{} {
	m.relMu.Lock()
	defer m.relMu.Unlock()
	return m.release
}

// Counts is what the fake has seen.
type Counts struct{ Turns, Requests, Hanging, Hung int }

// Counts returns the fake's counters.
func (m *Model) Counts() Counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Counts{m.turns, m.requests, m.hanging, m.hung}
}

// Calls is how many tutor requests carried marker in their last message.
func (m *Model) Calls(marker string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.markers[marker]
}

// Rewrites is how many search query rewrites carried marker.
func (m *Model) Rewrites(marker string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rewrites[marker]
}

// markerOf finds "[m:...]" in a message.
func markerOf(s string) string {
	i := strings.Index(s, "[m:")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], ']')
	if j < 0 {
		return ""
	}
	return s[i+3 : i+j]
}

func (m *Model) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	var req struct {
		System   json.RawMessage `json:"system"`
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err != nil || json.Unmarshal(body, &req) != nil || len(req.Messages) == 0 {
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"fake: unreadable request"}}`)
		return
	}
	m.mu.Lock()
	m.requests++
	m.mu.Unlock()
	system, last := string(req.System), string(req.Messages[len(req.Messages)-1].Content)
	tutor := strings.Contains(system, "Socratic tutor") && !strings.Contains(system, "content filter")
	if m.hang.Load() || (tutor && m.hangT.Load()) {
		// Accept, read, never answer.
		rel := m.releaseCh()
		m.mu.Lock()
		m.hanging++
		m.hung++
		m.mu.Unlock()
		select {
		case <-r.Context().Done():
		case <-rel:
		}
		m.mu.Lock()
		m.hanging--
		m.mu.Unlock()
		// Hijack and close, so nothing (not even a status) is written.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	var words []string
	paced := false
	switch {
	case strings.Contains(system, "content filter"):
		words = []string{`{"safe": true, "categories": [], "explanation": "a question about the reading"}`}
	case strings.Contains(system, "search query"):
		m.mu.Lock()
		m.rewrites[markerOf(last)]++
		m.mu.Unlock()
		words = []string{"notice hearing due process"}
	case strings.Contains(system, "Socratic tutor"):
		words = strings.SplitAfter(ModelReply, " ")
		paced = true
	case strings.Contains(last, "JSON array"):
		words = []string{`["The rule of the case", "Due process", "Standing", "Remedies", "Statutory text"]`}
	default:
		words = []string{"A summary of the reading."}
	}
	if paced {
		m.mu.Lock()
		m.turns++
		if mk := markerOf(last); mk != "" {
			m.markers[mk]++
		}
		m.mu.Unlock()
	}
	w.Header().Set("request-id", "req_e2e")
	w.Header().Set("content-type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	send := func(name, data string) bool {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	wait := func(until time.Time) bool {
		t := time.NewTimer(time.Until(until))
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		}
	}
	send("message_start", `{"type":"message_start","message":{"id":"msg_e2e","type":"message","role":"assistant","content":[],"model":"claude-fake","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1200,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000}}}`)
	send("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	for i, word := range words {
		if paced && !wait(arrived.Add(m.TTFT+time.Duration(i)*m.Gap)) {
			return
		}
		b, _ := json.Marshal(word)
		if !send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(b)+`}}`) {
			return
		}
	}
	send("content_block_stop", `{"type":"content_block_stop","index":0}`)
	send("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, len(words)))
	send("message_stop", `{"type":"message_stop"}`)
}
