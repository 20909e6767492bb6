package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// benchModel is a fake of the Anthropic Messages API (POST /v1/messages,
// streamed, the real SSE wire format) that answers at a realistic speed:
// the first text delta ttft after the request arrives, then one word every
// gap. It records, per turn, when the request arrived and when its first
// delta was written, so the bench can take the model's own time out of
// what the client saw. Turns are told apart by the marker the bench puts
// in each student message; the server's other calls (the week's themes)
// are answered at once, and the moderation classifier's (one per turn,
// beside the answer) with a "safe" verdict after verdictDelay.
type benchModel struct {
	URL   string
	srv   *http.Server
	ttft  time.Duration
	gap   time.Duration
	words int

	mu       sync.Mutex
	calls    map[string][]upstreamCall // by marker
	other    int                       // requests without a marker (themes)
	gone     int                       // streams the server closed before the end
	early    int                       // of which before their first word (not in calls)
	measured bool                      // count requests from now on as the run's
	otherRun int                       // requests without a marker during the run
	verdicts map[string]int            // classifier requests, by marker
	conns    int                       // connections the server opened to it during the run
}

// verdictDelay is the fake classifier's answer time: a fast model's.
const verdictDelay = 150 * time.Millisecond

// classifierPrompt is how the fake knows the moderation classifier's
// requests (internal/moderation's prompt begins so).
const classifierPrompt = "You are the content filter of a Socratic law tutor"

type upstreamCall struct {
	arrived, firstDelta time.Time
}

// benchMarker is what ties a model request to a student's turn; it is
// looked for in the request's last (the student's new) message only,
// since the earlier ones repeat in the history.
var benchMarker = regexp.MustCompile(`bench-s\d+-t\d+-[0-9a-f]+`)

func startBenchModel(ttft, gap time.Duration, words int) (*benchModel, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake model: %w", err)
	}
	m := &benchModel{URL: "http://" + ln.Addr().String(), ttft: ttft, gap: gap, words: words, calls: map[string][]upstreamCall{}, verdicts: map[string]int{}}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve), ReadHeaderTimeout: 10 * time.Second, ConnState: m.connState}
	go m.srv.Serve(ln)
	return m, nil
}

func (m *benchModel) close() { m.srv.Close() }

// connState counts the connections opened during the run.
func (m *benchModel) connState(_ net.Conn, s http.ConnState) {
	if s != http.StateNew {
		return
	}
	m.mu.Lock()
	if m.measured {
		m.conns++
	}
	m.mu.Unlock()
}

// requests is how many requests reached the fake during the run: the
// turns' answers (those cut off before their first word too), their
// moderation verdicts and any other.
func (m *benchModel) requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.otherRun + m.early
	for _, calls := range m.calls {
		n += len(calls)
	}
	for _, v := range m.verdicts {
		n += v
	}
	return n
}

func (m *benchModel) startRun() {
	m.mu.Lock()
	m.measured = true
	m.mu.Unlock()
}

// lookup returns the upstream calls made for a turn's marker.
func (m *benchModel) lookup(marker string) []upstreamCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[marker]
}

func (m *benchModel) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return
	}
	var req struct {
		System   json.RawMessage `json:"system"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"fake: unreadable request"}}`)
		return
	}
	marker := benchMarker.FindString(messageText(req.Messages[len(req.Messages)-1].Content))

	w.Header().Set("request-id", "req_bench")
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
	delta := func(text string) bool {
		b, _ := json.Marshal(text)
		return send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(b)+`}}`)
	}
	send("message_start", `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","content":[],"model":"claude-bench","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1523,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":1280}}}`)
	send("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	send("ping", `{"type":"ping"}`)

	words := 1
	if strings.Contains(string(req.System), classifierPrompt) {
		m.mu.Lock()
		m.verdicts[marker]++
		m.mu.Unlock()
		if !wait(arrived.Add(verdictDelay)) || !delta(`{"safe": true, "categories": [], "explanation": "a question about the reading"}`) {
			return
		}
	} else if marker == "" {
		m.mu.Lock()
		m.other++
		if m.measured {
			m.otherRun++
		}
		m.mu.Unlock()
		// The week's themes (or a summary on the way to them): at once.
		if !delta(`["Free exercise of religion", "Neutral and generally applicable laws", "Strict scrutiny of worship limits", "Preliminary injunctions", "Emergency public health orders"]`) {
			return
		}
	} else {
		text := benchAnswer(marker, m.words)
		words = len(text)
		gone := func() {
			m.mu.Lock()
			m.gone++
			m.mu.Unlock()
		}
		if !wait(arrived.Add(m.ttft)) || !delta(text[0]) {
			gone()
			m.mu.Lock()
			m.early++
			m.mu.Unlock()
			return
		}
		first := time.Now()
		m.mu.Lock()
		m.calls[marker] = append(m.calls[marker], upstreamCall{arrived: arrived, firstDelta: first})
		m.mu.Unlock()
		for i, word := range text[1:] {
			// On a fixed grid from the first delta, so slow writes do
			// not add up.
			if !wait(first.Add(time.Duration(i+1)*m.gap)) || !delta(" "+word) {
				gone()
				return
			}
		}
	}
	send("content_block_stop", `{"type":"content_block_stop","index":0}`)
	send("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, words))
	send("message_stop", `{"type":"message_stop"}`)
}

// messageText is a message's text, whether its content is a string or an
// array of blocks.
func messageText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var blocks []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &blocks)
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
		b.WriteString("\n")
	}
	return b.String()
}

// benchAnswerWords is a tutor's reply to draw words from; the marker goes
// in so each stored answer names the turn it answers.
var benchAnswerWords = strings.Fields(`You say the order burdened worship more than comparable secular
activity. Suppose the governor had closed casinos and restaurants on exactly the same terms as churches:
which passage of the opinion would then decide the case, and why does the court treat neutrality and
general applicability as the hinge of the free exercise analysis here rather than the severity of the
burden on the congregation itself`)

// benchAnswer is a reply of n words that names its turn.
func benchAnswer(marker string, n int) []string {
	n = max(n, 2)
	out := []string{"(" + marker + ")"}
	for i := 0; len(out) < n; i++ {
		out = append(out, benchAnswerWords[i%len(benchAnswerWords)])
	}
	out[n-1] += "?"
	return out
}
