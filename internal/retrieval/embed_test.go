package retrieval

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeEmbeddings speaks the OpenAI /v1/embeddings wire format
// (../shared/reference/external-apis.md §3): deterministic vectors from a
// hash of each text (not normalised, as some servers send them), answered
// in shuffled order, with scripted failures.
type fakeEmbeddings struct {
	mu       sync.Mutex
	dim      int
	requests []map[string]any
	auth     []string
	failNext []int // statuses to answer before serving normally
	mangle   func(data []map[string]any) []map[string]any
}

func (f *fakeEmbeddings) vector(text string) []float64 {
	v := make([]float64, f.dim)
	for i := range v {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d|%s", i, text)))
		v[i] = float64(int32(binary.BigEndian.Uint32(h[:4]))) / (1 << 28)
	}
	return v
}

func (f *fakeEmbeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != "POST" || r.URL.Path != "/v1/embeddings" {
		http.Error(w, `{"error":{"message":"not found"}}`, 404)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, 400)
		return
	}
	f.requests = append(f.requests, body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if len(f.failNext) > 0 {
		status := f.failNext[0]
		f.failNext = f.failNext[1:]
		w.Header().Set("Retry-After-Ms", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"scripted %d","type":"server_error"}}`, status)
		return
	}
	inputs, _ := body["input"].([]any)
	var data []map[string]any
	for i, in := range inputs {
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": f.vector(in.(string))})
	}
	rand.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	if f.mangle != nil {
		data = f.mangle(data)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": body["model"],
		"usage": map[string]any{"prompt_tokens": len(inputs), "total_tokens": len(inputs)}})
}

func newFake(t *testing.T, dim int) (*fakeEmbeddings, string) {
	f := &fakeEmbeddings{dim: dim}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestOpenAIEmbedderAgainstFake(t *testing.T) {
	fake, url := newFake(t, 8)
	fake.failNext = []int{429, 503} // retried by the SDK
	e, err := NewOpenAI(OpenAIOptions{BaseURL: url, Model: "all-minilm", BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i := range 150 {
		texts = append(texts, fmt.Sprintf("passage %d about negligence", i))
	}
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		want, _ := unit(fake.vector(texts[i]))
		var norm float64
		for j := range v {
			norm += float64(v[j]) * float64(v[j])
			if math.Abs(float64(v[j]-want[j])) > 1e-6 {
				t.Fatalf("text %d: vector out of order or wrong", i)
			}
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Fatalf("text %d: norm² %f", i, norm)
		}
	}
	// 2 scripted failures + 3 batches (64, 64, 22), each with the wire fields.
	if len(fake.requests) != 5 {
		t.Fatalf("%d requests", len(fake.requests))
	}
	for _, r := range fake.requests[2:] {
		if r["model"] != "all-minilm" || r["encoding_format"] != "float" {
			t.Errorf("request %v", r)
		}
	}
	if n := len(fake.requests[4]["input"].([]any)); n != 22 {
		t.Errorf("last batch %d texts", n)
	}
	if !strings.HasPrefix(fake.auth[0], "Bearer ") {
		t.Errorf("authorization %q", fake.auth[0])
	}
}

func TestOpenAIEmbedderRefusesBadAnswers(t *testing.T) {
	cases := map[string]func([]map[string]any) []map[string]any{
		"missing":   func(d []map[string]any) []map[string]any { return d[1:] },
		"duplicate": func(d []map[string]any) []map[string]any { d[1]["index"] = d[0]["index"]; return d },
		"out-of-range": func(d []map[string]any) []map[string]any {
			d[0]["index"] = 99
			return d
		},
		"mixed-dimensions": func(d []map[string]any) []map[string]any {
			d[1]["embedding"] = []float64{1, 2}
			return d
		},
		"zero-vector": func(d []map[string]any) []map[string]any {
			d[0]["embedding"] = make([]float64, 8)
			return d
		},
	}
	for name, mangle := range cases {
		t.Run(name, func(t *testing.T) {
			fake, url := newFake(t, 8)
			fake.mangle = mangle
			e, _ := NewOpenAI(OpenAIOptions{BaseURL: url + "/v1/", Model: "m"})
			if _, err := e.Embed(context.Background(), []string{"a", "b", "c"}); err == nil {
				t.Error("a bad answer was accepted")
			}
		})
	}
	t.Run("server-keeps-failing", func(t *testing.T) {
		fake, url := newFake(t, 8)
		fake.failNext = []int{500, 500, 500, 500, 500}
		e, _ := NewOpenAI(OpenAIOptions{BaseURL: url, Model: "m", MaxRetries: 2})
		if _, err := e.Embed(context.Background(), []string{"a"}); err == nil {
			t.Error("no error after the server kept failing")
		}
		if len(fake.requests) != 3 {
			t.Errorf("%d requests, want 1 + 2 retries", len(fake.requests))
		}
	})
	if _, err := NewOpenAI(OpenAIOptions{Model: "m"}); err == nil {
		t.Error("no base URL accepted")
	}
}
