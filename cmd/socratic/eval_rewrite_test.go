package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// TestEvalRetrievalRewrite: --rewrite asks the configured model's fast
// variant for each question's query and scores the search with it beside
// the plain one. The fake model here is an oracle (it answers each
// rewrite with the question's answer quote), so the rewritten search must
// find more: that shows the model's query reaches the search, not that a
// real model helps (docs: measure with a key).
func TestEvalRetrievalRewrite(t *testing.T) {
	qa := testenv.QA()
	items, err := readQA(qa)
	if err != nil {
		t.Fatal(err)
	}
	answer := map[string]string{}
	for _, it := range items {
		answer[it.Question] = it.AnswerQuote
	}
	var mu sync.Mutex
	var rewrites, fast int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Model  string `json:"model"`
			System []struct {
				Text string `json:"text"`
			} `json:"system"`
			Messages []struct {
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"messages"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		reply := "What do you think the court meant?"
		if len(body.System) > 0 && strings.Contains(body.System[0].Text, "search query") && len(body.Messages) > 0 {
			msg := body.Messages[0].Content[0].Text
			q := msg[strings.Index(msg, "<reply>")+len("<reply>") : strings.LastIndex(msg, "</reply>")]
			mu.Lock()
			rewrites++
			if body.Model == "fast-model" {
				fast++
			}
			mu.Unlock()
			for question, quote := range answer {
				if strings.NewReplacer("<", "‹", ">", "›").Replace(question) == q {
					reply = quote
				}
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range llmtest.Text(reply).Events {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Name, ev.Data)
		}
	}))
	defer srv.Close()
	env := []string{"LLM_PROVIDER=anthropic", "ANTHROPIC_API_KEY=sk-ant-eval-fake", "ANTHROPIC_BASE_URL=" + srv.URL, "CLAUDE_FAST_MODEL=fast-model"}
	out := &syncBuffer{}
	if err := run(context.Background(), []string{"eval", "retrieval", "--qa", qa, "--rewrite"}, env, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	r5 := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` +recall@1 [0-9.]+  recall@5 ([0-9.]+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no %q line:\n%s", name, out.String())
		}
		var v float64
		fmt.Sscan(m[1], &v)
		return v
	}
	if plain, rw := r5("lenient BM25"), r5("lenient rewrite BM25"); rw <= plain {
		t.Errorf("an oracle's queries found no more than the questions: %.3f vs %.3f", rw, plain)
	}
	if !regexp.MustCompile(`of 29 rewrites 0 came late, 0 failed and 0 were empty`).MatchString(out.String()) || !regexp.MustCompile(`rewrite latency p50 \S+  p95 \S+  max \S+`).MatchString(out.String()) {
		t.Errorf("no failures and latency line:\n%s", out.String())
	}
	if rewrites != len(items) || fast != len(items) {
		t.Errorf("%d rewrite requests (%d on the fast model), want %d", rewrites, fast, len(items))
	}

	// Without a model there is nothing to rewrite with: said in words.
	err = run(context.Background(), []string{"eval", "retrieval", "--qa", qa, "--rewrite"}, nil, nil, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "--rewrite needs a language model") {
		t.Errorf("without a model: %v", err)
	}
}
