package retrieval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
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
	// MaxRetries on 429 and 5xx, with the SDK's backoff (honouring
	// Retry-After); default 3.
	MaxRetries int
	Timeout    time.Duration // per request; default 60 s
	// HTTPClient carries the requests; nil is the SDK's default, which
	// keeps 2 connections per host open between requests: the server
	// passes one that keeps as many as its searches run at once
	// (llm.PooledClient), since each search embeds its query.
	HTTPClient *http.Client
}

// OpenAI is an Embedder over any OpenAI-compatible /v1/embeddings server
// (Ollama, TEI, vLLM, OpenAI), through the official SDK.
type OpenAI struct {
	client openai.Client
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
	key := o.APIKey
	if key == "" {
		key = "unused" // OpenAI clients require one; Ollama and TEI ignore it
	}
	opts := []option.RequestOption{option.WithBaseURL(base + "/"), option.WithAPIKey(key),
		option.WithMaxRetries(o.MaxRetries), option.WithRequestTimeout(o.Timeout)}
	if o.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(o.HTTPClient))
	}
	c := openai.NewClient(opts...)
	return &OpenAI{client: c, o: o}, nil
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
		res, err := e.client.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model:          openai.EmbeddingModel(e.o.Model),
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: batch},
			EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
		})
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
