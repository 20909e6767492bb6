package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// tutorModel is a fake of the Anthropic Messages API (POST /v1/messages,
// streamed in the real SSE wire format) for browser tests that need a
// reply to stream the way a real model's does: word by word, gap apart,
// the first word ttft after the request. The offline tutor answers in one
// piece, which cannot show a reply arriving. The tutor's turns get
// TutorReply; the moderation classifier's requests a "safe" verdict; the
// week's themes a JSON list; anything else (a summary) a line of text.
type tutorModel struct {
	URL      string
	ttft     time.Duration
	gap      time.Duration
	mu       sync.Mutex
	turns    int
	requests int
}

// TutorReply is what the fake tutor says, in three sentences.
const TutorReply = "That is a fair place to start. What does the court say the rule is, in your own words? Where in the opinion do you find it, and on which page?"

func startTutorModel(t testing.TB, ttft, gap time.Duration) *tutorModel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &tutorModel{URL: "http://" + ln.Addr().String(), ttft: ttft, gap: gap}
	srv := &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m
}

// env is the server's settings for this fake.
func (m *tutorModel) env() []string {
	return []string{"ANTHROPIC_API_KEY=sk-ant-browser-test-fake", "ANTHROPIC_BASE_URL=" + m.URL}
}

// turnCount is how many tutor turns the fake has answered.
func (m *tutorModel) turnCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.turns
}

func (m *tutorModel) serve(w http.ResponseWriter, r *http.Request) {
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
	system, last := string(req.System), string(req.Messages[len(req.Messages)-1].Content)
	var words []string
	paced := false
	switch {
	case strings.Contains(system, "content filter"):
		words = []string{`{"safe": true, "categories": [], "explanation": "a question about the reading"}`}
	case strings.Contains(system, "Socratic tutor"):
		words = strings.SplitAfter(TutorReply, " ")
		paced = true
	case strings.Contains(last, "JSON array"):
		words = []string{`["The rule of the case", "Due process", "Standing", "Remedies", "Statutory text"]`}
	default:
		words = []string{"A summary of the reading."}
	}
	m.mu.Lock()
	m.requests++
	if paced {
		m.turns++
	}
	m.mu.Unlock()

	w.Header().Set("request-id", "req_browser")
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
	send("message_start", `{"type":"message_start","message":{"id":"msg_browser","type":"message","role":"assistant","content":[],"model":"claude-fake","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1200,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":1000}}}`)
	send("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	for i, word := range words {
		if paced && !wait(arrived.Add(m.ttft+time.Duration(i)*m.gap)) {
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
