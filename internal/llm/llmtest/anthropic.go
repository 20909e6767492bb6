// Package llmtest has fakes of the language model services that speak their
// real wire formats, for tests that drive the official SDKs against them.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SSE is one server-sent event.
type SSE struct {
	Name  string        // the event: line
	Data  string        // the data: line (JSON); {now} becomes the send time in Unix ns
	Delay time.Duration // wait before sending it
}

// Reply is the fake's answer to one request.
type Reply struct {
	// Status other than 200 answers with an Anthropic error body of
	// ErrorType, and RetryAfter (seconds) when set.
	Status     int
	ErrorType  string
	RetryAfter string
	// Events are streamed (status 200) with a flush after each.
	Events []SSE
	// Drop closes the connection abruptly after the events, without
	// message_stop.
	Drop bool
}

// Text is a complete streamed answer made of the given deltas, with usage.
func Text(deltas ...string) Reply {
	ev := []SSE{
		{Name: "message_start", Data: `{"type":"message_start","message":{"id":"msg_01fake","type":"message","role":"assistant","content":[],"model":"claude-fake","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1523,"output_tokens":1,"cache_creation_input_tokens":200,"cache_read_input_tokens":1280}}}`},
		{Name: "content_block_start", Data: `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
		{Name: "ping", Data: `{"type":"ping"}`},
	}
	for _, d := range deltas {
		b, _ := json.Marshal(d)
		ev = append(ev, SSE{Name: "content_block_delta", Data: `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":` + string(b) + `}}`})
	}
	return Reply{Events: append(ev,
		SSE{Name: "content_block_stop", Data: `{"type":"content_block_stop","index":0}`},
		SSE{Name: "message_delta", Data: `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":18}}`},
		SSE{Name: "message_stop", Data: `{"type":"message_stop"}`},
	)}
}

// Overloaded is the error event the API sends inside a 200 stream.
var Overloaded = SSE{Name: "error", Data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`}

// Request is what the fake was sent.
type Request struct {
	Header  http.Header
	Body    map[string]any
	Arrived time.Time // when the fake began reading the request
	// Gone is when the fake saw the client close the request, if it did
	// before the reply was complete.
	Gone time.Time
}

// Anthropic is a fake of the Messages API (POST /v1/messages, streaming).
type Anthropic struct {
	URL string

	mu       sync.Mutex
	replies  []Reply
	requests []*Request
}

// NewAnthropic starts the fake; replies are given in order (then a default
// one-sentence answer).
func NewAnthropic(t testing.TB, replies ...Reply) *Anthropic {
	f := &Anthropic{replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Requests are copies of the requests received so far.
func (f *Anthropic) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		out[i] = *r
	}
	return out
}

// Push queues more replies.
func (f *Anthropic) Push(r ...Reply) {
	f.mu.Lock()
	f.replies = append(f.replies, r...)
	f.mu.Unlock()
}

func (f *Anthropic) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		http.NotFound(w, r)
		return
	}
	arrived := time.Now()
	body, _ := io.ReadAll(r.Body)
	rec := &Request{Header: r.Header.Clone(), Arrived: arrived}
	json.Unmarshal(body, &rec.Body)
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	reply := Text("What do you think the court meant?")
	if len(f.replies) > 0 {
		reply, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	gone := func() {
		f.mu.Lock()
		rec.Gone = time.Now()
		f.mu.Unlock()
	}
	w.Header().Set("request-id", "req_fake")
	if reply.Status != 0 && reply.Status != http.StatusOK {
		if reply.RetryAfter != "" {
			w.Header().Set("retry-after", reply.RetryAfter)
		}
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(reply.Status)
		fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":"fake %d"},"request_id":"req_fake"}`, reply.ErrorType, reply.Status)
		return
	}
	w.Header().Set("content-type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	for _, ev := range reply.Events {
		if ev.Delay > 0 {
			select {
			case <-time.After(ev.Delay):
			case <-r.Context().Done():
				gone()
				return
			}
		}
		data := strings.ReplaceAll(ev.Data, "{now}", strconv.FormatInt(time.Now().UnixNano(), 10))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Name, data); err != nil {
			gone()
			return
		}
		fl.Flush()
	}
	if reply.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	if len(reply.Events) == 0 || !strings.Contains(reply.Events[len(reply.Events)-1].Name, "message_stop") {
		// An incomplete reply: hold the stream open until the client goes.
		<-r.Context().Done()
		gone()
	}
}
