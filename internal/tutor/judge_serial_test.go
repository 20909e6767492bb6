package tutor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// TestClassifierFirstOnAOneAtATimeServer: a local OpenAI-compatible server
// that runs one request at a time (llama.cpp with one slot, Ollama with
// OLLAMA_NUM_PARALLEL=1), wired as serve wires it (the classifier on the
// same model). Its answer takes about 2 s, more than the verdict's wait:
// had the classifier's request gone behind the answer's, the verdict
// would come after the whole answer, too late, and a safe question would
// get "say it again". It goes first, and the student gets the answer.
// (Found by review: the classifier was first asked after the answer's
// request on every provider.)
func TestClassifierFirstOnAOneAtATimeServer(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	var mu sync.Mutex // one request at a time
	var order []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		classifier := strings.Contains(string(body), "content filter")
		mu.Lock()
		defer mu.Unlock()
		if classifier {
			order = append(order, "classifier")
		} else {
			order = append(order, "answer")
		}
		w.Header().Set("content-type", "text/event-stream")
		fl := w.(http.Flusher)
		chunk := func(delta, finish string) string {
			fin := "null"
			if finish != "" {
				fin = `"` + finish + `"`
			}
			d, _ := json.Marshal(delta)
			return `{"id":"x","object":"chat.completion.chunk","created":1,"model":"fake","choices":[{"index":0,"delta":{"role":"assistant","content":` + string(d) + `},"finish_reason":` + fin + `}]}`
		}
		var pieces []string
		delay := 200 * time.Millisecond
		if classifier {
			pieces, delay = []string{`{"safe": true, "categories": [], "explanation": "a question about contract law"}`}, 100*time.Millisecond
		} else {
			for i := range 10 {
				pieces = append(pieces, fmt.Sprintf("Word%d ", i))
			}
			pieces = append(pieces, "why?")
		}
		for _, p := range pieces {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
			fmt.Fprintf(w, "data: %s\n\n", chunk(p, ""))
			fl.Flush()
		}
		fmt.Fprintf(w, "data: %s\n\n", chunk("", "stop"))
		fmt.Fprint(w, "data: [DONE]\n\n")
		fl.Flush()
	}))
	defer srv.Close()
	model, err := llm.NewOpenAI(llm.OpenAIOptions{BaseURL: srv.URL, Model: "local"})
	if err != nil {
		t.Fatal(err)
	}
	if llm.Parallel(model) {
		t.Fatal("an OpenAI-compatible server is taken to answer in parallel")
	}
	tu := New(retrieval.NewSearcher(nil, 0, nil), model) // serve's wiring: the classifier on the same model
	reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(reply)
	mu.Lock()
	got := append([]string(nil), order...)
	mu.Unlock()
	if want := "Word0 Word1 Word2 Word3 Word4 Word5 Word6 Word7 Word8 Word9 why?"; err != nil || text != want || reply.Verdict.Flagged {
		t.Fatalf("a safe question on a one-at-a-time server got %q, %v (verdict %+v; the server took %v), want the answer %q", text, err, *reply.Verdict, got, want)
	}
	if len(got) != 2 || got[0] != "classifier" {
		t.Fatalf("the server took %v; want the classifier first", got)
	}
}
