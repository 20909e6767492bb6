package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAnthropicReusesConnections: answers streamed at once leave their
// connections open for the next ones — a second round of as many
// concurrent requests dials nothing new (the transport's default kept 2
// per host and dialled the rest again).
func TestAnthropicReusesConnections(t *testing.T) {
	const n = 8
	var dialled atomic.Int64
	var arrived sync.WaitGroup
	var mu sync.Mutex
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		mu.Lock()
		ch := release
		mu.Unlock()
		select { // all n at once, so that n connections are open together
		case <-ch:
		case <-time.After(5 * time.Second):
		}
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
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	a, err := NewAnthropic(AnthropicOptions{APIKey: "k", Model: "m", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	round := func() {
		mu.Lock()
		release = make(chan struct{})
		mu.Unlock()
		arrived.Add(n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if text, _, err := Complete(context.Background(), a, Request{Messages: []Message{{Role: User, Text: "q"}}}); err != nil || text != "hi" {
					t.Errorf("answer %q, %v", text, err)
				}
			})
		}
		arrived.Wait()
		mu.Lock()
		close(release)
		mu.Unlock()
		wg.Wait()
	}
	round()
	first := dialled.Load()
	if first != n {
		t.Fatalf("%d connections for %d requests at once", first, n)
	}
	round()
	if again := dialled.Load() - first; again != 0 {
		t.Errorf("a second round of %d requests dialled %d new connections", n, again)
	}
}
