package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// ChatReply is the OpenAI-compatible fake's answer to one request: an
// error status, or the deltas streamed as chat.completion.chunk events
// (then a usage chunk and [DONE]); FirstDelay holds the first delta back,
// Gap each later one.
type ChatReply struct {
	Status     int
	Deltas     []string
	FirstDelay time.Duration
	Gap        time.Duration
}

// OpenAIChat is a fake of POST /v1/chat/completions with stream: true.
type OpenAIChat struct {
	URL string
	// OneAtATime makes it answer one request at a time, in the order they
	// arrive, as a local server with one slot does (llama.cpp -np 1,
	// Ollama with OLLAMA_NUM_PARALLEL=1). Set it before the first request.
	OneAtATime bool

	serial   sync.Mutex
	mu       sync.Mutex
	replies  []ChatReply
	requests []Request
}

// NewOpenAIChat starts the fake; replies are given in order (then a
// default one-sentence answer).
func NewOpenAIChat(t testing.TB, replies ...ChatReply) *OpenAIChat {
	f := &OpenAIChat{replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Requests are copies of the requests received so far.
func (f *OpenAIChat) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

func (f *OpenAIChat) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if f.OneAtATime {
		f.serial.Lock()
		defer f.serial.Unlock()
	}
	rec := Request{Header: r.Header.Clone()}
	json.Unmarshal(body, &rec.Body)
	f.mu.Lock()
	i := len(f.requests)
	f.requests = append(f.requests, rec)
	reply := ChatReply{Deltas: []string{"What ", "do you think?"}}
	if len(f.replies) > 0 {
		reply, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	if reply.Status != 0 && reply.Status != http.StatusOK {
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(reply.Status)
		fmt.Fprintf(w, `{"error":{"message":"fake %d","type":"server_error","code":null}}`, reply.Status)
		return
	}
	w.Header().Set("content-type", "text/event-stream")
	fl := w.(http.Flusher)
	chunk := func(delta, finish string) string {
		fin := "null"
		if finish != "" {
			fin = `"` + finish + `"`
		}
		d, _ := json.Marshal(delta)
		return `{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1,"model":"fake","choices":[{"index":0,"delta":{"role":"assistant","content":` + string(d) + `},"finish_reason":` + fin + `}]}`
	}
	for j, d := range reply.Deltas {
		wait := reply.Gap
		if j == 0 {
			wait = reply.FirstDelay
		}
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
				f.mu.Lock()
				f.requests[i].Gone = time.Now()
				f.mu.Unlock()
				return
			}
		}
		fmt.Fprintf(w, "data: %s\n\n", chunk(d, ""))
		fl.Flush()
	}
	fmt.Fprintf(w, "data: %s\n\n", chunk("", "stop"))
	fmt.Fprint(w, `data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1,"model":"fake","choices":[],"usage":{"prompt_tokens":900,"completion_tokens":12,"total_tokens":912}}`+"\n\n")
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}
