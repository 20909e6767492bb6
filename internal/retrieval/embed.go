package retrieval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Embedder turns texts into vectors, one per text, in order, each of unit
// length (so cosine similarity is a dot product).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the model; vectors of different models never mix.
	Model() string
}

// OpenAIOptions configure an OpenAI-compatible embeddings client.
type OpenAIOptions struct {
	// BaseURL is the server, e.g. http://localhost:11434 (Ollama),
	// http://tei:8080, https://api.openai.com; "/v1" is added when absent.
	BaseURL string
	// APIKey may be empty for servers that ignore it (Ollama, TEI).
	APIKey    string
	Model     string
	BatchSize int // texts per request; default 64
	// MaxRetries on 408, 429, 5xx and failed connections, waiting what
	// Retry-After-Ms or Retry-After asks (up to a minute), else 0.5 s
	// doubling; default 3.
	MaxRetries int
	Timeout    time.Duration // per request; default 60 s
}

// OpenAI is an Embedder over any OpenAI-compatible /v1/embeddings server
// (Ollama, TEI, vLLM, OpenAI). It speaks the wire format directly: one
// JSON request, where the official SDK cost a third of a cold build.
type OpenAI struct {
	url    string // …/v1/embeddings
	client *http.Client
	o      OpenAIOptions
}

// NewOpenAI returns the client; it makes no request until Embed.
func NewOpenAI(o OpenAIOptions) (*OpenAI, error) {
	if o.BaseURL == "" || o.Model == "" {
		return nil, errors.New("openai embeddings: EMBEDDINGS_BASE_URL and EMBEDDINGS_MODEL are required")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 3
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	return &OpenAI{url: base + "/embeddings", client: http.DefaultClient, o: o}, nil
}

// Model is the configured model name.
func (e *OpenAI) Model() string { return e.o.Model }

// Embed sends the texts in batches and returns their unit vectors in order.
// A server answer that does not account for every text exactly once, or
// mixes dimensions, is an error, never a silent misalignment.
func (e *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	dim := 0
	for start := 0; start < len(texts); start += e.o.BatchSize {
		batch := texts[start:min(start+e.o.BatchSize, len(texts))]
		res, err := e.post(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embeddings server: %w", err)
		}
		vecs := make([][]float32, len(batch))
		for _, d := range res.Data {
			i := int(d.Index)
			if i < 0 || i >= len(batch) || vecs[i] != nil {
				return nil, fmt.Errorf("embeddings server: answer index %d for a batch of %d", d.Index, len(batch))
			}
			if dim == 0 {
				dim = len(d.Embedding)
			}
			if len(d.Embedding) == 0 || len(d.Embedding) != dim {
				return nil, fmt.Errorf("embeddings server: a vector of %d dimensions among %d", len(d.Embedding), dim)
			}
			v, err := unit(d.Embedding)
			if err != nil {
				return nil, fmt.Errorf("embeddings server: text %d: %w", start+i, err)
			}
			vecs[i] = v
		}
		for i, v := range vecs {
			if v == nil {
				return nil, fmt.Errorf("embeddings server: no vector for text %d", start+i)
			}
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// embeddingsAnswer is the part of /v1/embeddings' answer we read.
type embeddingsAnswer struct {
	Data []struct {
		Index     int64     `json:"index"`
		Embedding []float64 `json:"embedding"`
	} `json:"data"`
}

// httpStatusError is an answer other than 2xx.
type httpStatusError struct {
	status  int
	message string
	wait    time.Duration // what Retry-After(-Ms) asked, if anything
}

func (e *httpStatusError) Error() string {
	if e.message == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, e.message)
}

// post sends one batch, retrying failed connections, 408, 429 and 5xx.
func (e *OpenAI) post(ctx context.Context, batch []string) (*embeddingsAnswer, error) {
	body, err := json.Marshal(map[string]any{"model": e.o.Model, "input": batch, "encoding_format": "float"})
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		res, err := e.once(ctx, body)
		if err == nil || ctx.Err() != nil || attempt >= e.o.MaxRetries {
			return res, err
		}
		var se *httpStatusError
		wait := 500 * time.Millisecond << min(attempt, 4)
		wait = wait/2 + rand.N(wait/2+1)
		if errors.As(err, &se) {
			if c := se.status; c != http.StatusTooManyRequests && c != http.StatusRequestTimeout && c < 500 {
				return nil, err
			}
			if se.wait > 0 {
				wait = se.wait
			}
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (e *OpenAI) once(ctx context.Context, body []byte) (*embeddingsAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if e.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.o.APIKey)
	}
	res, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		var v struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(msg, &v)
		return nil, &httpStatusError{status: res.StatusCode, message: v.Error.Message, wait: retryAfter(res.Header)}
	}
	var a embeddingsAnswer
	if err := json.NewDecoder(io.LimitReader(res.Body, 256<<20)).Decode(&a); err != nil {
		return nil, fmt.Errorf("an answer that is not embeddings JSON: %w", err)
	}
	return &a, nil
}

// retryAfter is the wait a server asked for, in Retry-After-Ms or
// Retry-After (seconds), when it is between 0 and a minute.
func retryAfter(h http.Header) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 && ms <= 60_000 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 && s <= 60 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// unit scales v to length 1 (servers differ on whether they normalise).
func unit(v []float64) ([]float32, error) {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	n := math.Sqrt(ss)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return nil, errors.New("a zero or non-finite vector")
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x / n)
	}
	return out, nil
}
