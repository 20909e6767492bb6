package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
)

// heldServer counts the connections made to it and holds every request
// until release, so that a round's requests are all open at once.
type heldServer struct {
	URL      string
	dialled  atomic.Int64
	arrived  atomic.Int64
	mu       sync.Mutex
	released chan struct{}
}

func newHeldServer(t *testing.T, answer func(http.ResponseWriter, *http.Request)) *heldServer {
	h := &heldServer{released: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.arrived.Add(1)
		h.mu.Lock()
		ch := h.released
		h.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
		}
		answer(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// round runs n calls at once: it lets them through once all n have
// arrived (the server holds them), and waits for them to end.
func (h *heldServer) round(t *testing.T, n int, call func()) {
	t.Helper()
	h.mu.Lock()
	h.released = make(chan struct{})
	h.mu.Unlock()
	before := h.arrived.Load()
	var wg sync.WaitGroup
	for range n {
		wg.Go(call)
	}
	for deadline := time.Now().Add(30 * time.Second); h.arrived.Load() < before+int64(n); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests arrived", h.arrived.Load()-before, n)
		}
	}
	h.mu.Lock()
	close(h.released)
	h.mu.Unlock()
	wg.Wait()
}

// TestServerKeepsModelConnections: the clients the server builds for the
// model and for embeddings keep, between bursts, as many connections as a
// burst of LLM_MAX_CONCURRENT turns opens — each turn's answer beside its
// moderation check, and each turn's search embedding its query — so the
// next burst dials nothing. (The model's pool was a fixed 256, fewer than
// the 300 connections 150 turns open; the embeddings client was the SDK's
// default, which keeps 2.)
func TestServerKeepsModelConnections(t *testing.T) {
	const turns = 150
	model := newHeldServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"type":"message_start","message":{"usage":{"input_tokens":3,"output_tokens":1}}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Why?"}}`,
			`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}`,
			`{"type":"message_stop"}`,
		} {
			var name struct{ Type string }
			_ = json.Unmarshal([]byte(ev), &name)
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name.Type, ev)
		}
	})
	embeddings := newHeldServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.6,0.8]}],"model":"e","usage":{"prompt_tokens":1,"total_tokens":1}}`)
	})
	dir := t.TempDir()
	cfg, err := loadConfigAnyEngine([]string{"DATA_DIR=" + dir, "LOG_LEVEL=error",
		"LLM_PROVIDER=anthropic", "ANTHROPIC_API_KEY=test-key", "ANTHROPIC_BASE_URL=" + model.URL,
		fmt.Sprintf("LLM_MAX_CONCURRENT=%d", turns),
		"EMBEDDINGS_PROVIDER=openai", "EMBEDDINGS_BASE_URL=" + embeddings.URL, "EMBEDDINGS_MODEL=e"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p, err := openLLM(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	emb := openEmbeddings(cfg, log)
	if emb.emb == nil {
		t.Fatalf("no embeddings client: %+v", emb.status)
	}

	t.Run("model", func(t *testing.T) {
		// Each turn holds one slot, and its two calls run under it.
		ctxs := make(chan context.Context, 2*turns)
		burst := func() {
			var held []*llm.Slot
			for range turns {
				s, err := llm.Reserve(p)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, s)
				ctx := s.Bind(context.Background())
				ctxs <- ctx
				ctxs <- ctx
			}
			model.round(t, 2*turns, func() {
				ctx := <-ctxs
				if text, _, err := llm.Complete(ctx, p, llm.Request{Messages: []llm.Message{{Role: llm.User, Text: "q"}}}); err != nil || text != "Why?" {
					t.Errorf("answer %q, %v", text, err)
				}
			})
			for _, s := range held {
				s.Release()
			}
		}
		burst()
		first := model.dialled.Load()
		if first != 2*turns {
			t.Fatalf("%d connections for %d requests at once", first, 2*turns)
		}
		burst()
		if again := model.dialled.Load() - first; again != 0 {
			t.Errorf("the second burst of %d requests dialled %d new connections", 2*turns, again)
		}
	})
	t.Run("embeddings", func(t *testing.T) {
		burst := func() {
			embeddings.round(t, turns, func() {
				if v, err := emb.emb.Embed(context.Background(), []string{"query"}); err != nil || len(v) != 1 {
					t.Errorf("embed: %v", err)
				}
			})
		}
		burst()
		first := embeddings.dialled.Load()
		if first != turns {
			t.Fatalf("%d connections for %d requests at once", first, turns)
		}
		burst()
		if again := embeddings.dialled.Load() - first; again != 0 {
			t.Errorf("the second burst of %d requests dialled %d new connections", turns, again)
		}
	})
}
