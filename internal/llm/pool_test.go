package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// anthropicAnswer writes a whole Messages stream saying "hi".
func anthropicAnswer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	for _, ev := range []string{
		`{"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`,
		`{"type":"message_stop"}`,
	} {
		var name struct{ Type string }
		_ = json.Unmarshal([]byte(ev), &name)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name.Type, ev)
	}
}

// chatAnswer writes a whole chat completions stream saying "hi", as a
// local server does: [DONE] flushed as it is written, and the response's
// end (the chunked body's last bytes) a moment later, when the handler
// returns.
func chatAnswer(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	for _, ev := range []string{
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}`,
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`,
		`[DONE]`,
	} {
		fmt.Fprintf(w, "data: %s\n\n", ev)
		w.(http.Flusher).Flush()
	}
	time.Sleep(20 * time.Millisecond)
}

// TestProvidersReuseConnections: answers streamed at once leave their
// connections open for the next ones — a second round of as many
// concurrent requests dials nothing new. The transport's default kept 2
// per host and dialled the rest again; a fixed pool of 256 did so past
// 256 (a burst of LLM_MAX_CONCURRENT turns, each with its moderation
// check beside it, is twice that); and an OpenAI-compatible stream, which
// the SDK stops reading at [DONE], closed its connection every time.
func TestProvidersReuseConnections(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		answer func(http.ResponseWriter)
		open   func(url string, idle int) (Provider, error)
	}{
		{"anthropic", 8, anthropicAnswer, func(url string, idle int) (Provider, error) {
			return NewAnthropic(AnthropicOptions{APIKey: "k", Model: "m", BaseURL: url, IdleConns: idle})
		}},
		{"anthropic, more than the default pool", DefaultIdleConns + 44, anthropicAnswer, func(url string, idle int) (Provider, error) {
			return NewAnthropic(AnthropicOptions{APIKey: "k", Model: "m", BaseURL: url, IdleConns: idle})
		}},
		{"openai", 8, chatAnswer, func(url string, idle int) (Provider, error) {
			return NewOpenAI(OpenAIOptions{Model: "m", BaseURL: url, IdleConns: idle})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.n
			idle := 0 // the default
			if n > DefaultIdleConns {
				idle = n
			}
			var dialled, arrived, pooled atomic.Int64
			// Each connection given back to the pool, as the transport
			// sees it.
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{PutIdleConn: func(err error) {
				if err == nil {
					pooled.Add(1)
				}
			}})
			var mu sync.Mutex
			release := make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived.Add(1)
				mu.Lock()
				ch := release
				mu.Unlock()
				select { // all n at once, so that n connections are open together
				case <-ch:
				case <-time.After(20 * time.Second):
				}
				c.answer(w)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					dialled.Add(1)
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			p, err := c.open(srv.URL, idle)
			if err != nil {
				t.Fatal(err)
			}
			round := func(k int) {
				mu.Lock()
				release = make(chan struct{})
				mu.Unlock()
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						if text, _, err := Complete(ctx, p, Request{Messages: []Message{{Role: User, Text: "q"}}}); err != nil || text != "hi" {
							t.Errorf("answer %q, %v", text, err)
						}
					})
				}
				for deadline := time.Now().Add(30 * time.Second); arrived.Load() < int64(k*n); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("%d of %d requests arrived", arrived.Load()-int64((k-1)*n), n)
					}
				}
				mu.Lock()
				close(release)
				mu.Unlock()
				wg.Wait()
			}
			round(1)
			first := dialled.Load()
			if first != int64(n) {
				t.Fatalf("%d connections for %d requests at once", first, n)
			}
			// A connection goes back to the pool once its response has
			// been read to the end, which for the OpenAI stream happens
			// on the side (tailDrain), just after Complete returns.
			for deadline := time.Now().Add(5 * time.Second); pooled.Load() < int64(n) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			round(2)
			if again := dialled.Load() - first; again != 0 {
				t.Errorf("a second round of %d requests dialled %d new connections", n, again)
			}
		})
	}
}
