package local

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// MaxTokens is the longest input sentence-transformers gives
// all-MiniLM-L6-v2 (its max_seq_length), [CLS] and [SEP] included.
const MaxTokens = 256

// BatchSize is how many texts go through ONNX Runtime at once.
const BatchSize = 32

// goBatch is how many go through the pure-Go runtime at once: one. It
// runs one batch at a time, so a student's question waits for the batch
// ahead of it while passages are being embedded; one text at a time keeps
// that wait under a second, and measured as fast as batches of 32 (1.16
// against 1.25 chunks/s at 256 tokens; batches of 4, padded to 8, ran at
// 0.54).
const goBatch = 1

// Backend names, as /api/health reports them.
const (
	BackendONNXRuntime = "onnxruntime"
	BackendGo          = "go"
)

// runner runs the model on one padded batch: input ids, attention mask
// and token types, each batch×seq, and returns last_hidden_state,
// batch×seq×hidden.
type runner interface {
	run(ids, mask, types []int64, batch, seq int) ([]float32, error)
	close() error
}

// Options choose how a model runs.
type Options struct {
	// Backend is "" (ONNX Runtime when its library loads, the pure-Go
	// runtime otherwise), BackendONNXRuntime or BackendGo.
	Backend string
	// RuntimeLibrary is ONNX Runtime's shared library, or a folder holding
	// it; empty looks in the usual places (see FindRuntime).
	RuntimeLibrary string
	// SearchDirs are further folders where FindRuntime looks first
	// (socratic models download puts the library in DATA_DIR/models).
	SearchDirs []string
}

// Model is a loaded sentence-embedding model. Embed may be called from
// several goroutines.
type Model struct {
	tok     *Tokenizer
	r       runner
	batch   int // texts per run
	backend string
	detail  string // e.g. the ONNX Runtime version, or why it was not used
}

// Files names a model folder's files: the ONNX export (model.onnx, or
// onnx/model.onnx as the Hugging Face repository lays it out) and
// tokenizer.json.
func Files(dir string) (onnxPath, tokenizerPath string, err error) {
	tokenizerPath = filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(tokenizerPath); err != nil {
		return "", "", fmt.Errorf("model folder %s: no tokenizer.json", dir)
	}
	for _, p := range []string{filepath.Join(dir, "model.onnx"), filepath.Join(dir, "onnx", "model.onnx")} {
		if _, err := os.Stat(p); err == nil {
			return p, tokenizerPath, nil
		}
	}
	return "", "", fmt.Errorf("model folder %s: no model.onnx or onnx/model.onnx", dir)
}

// Open loads the model at onnxPath with the tokenizer at tokenizerPath.
func Open(onnxPath, tokenizerPath string, o Options) (*Model, error) {
	tok, err := LoadTokenizer(tokenizerPath)
	if err != nil {
		return nil, err
	}
	m := &Model{tok: tok}
	if o.Backend == "" || o.Backend == BackendONNXRuntime {
		r, version, err := openORT(onnxPath, o)
		if err == nil {
			m.r, m.backend, m.detail, m.batch = r, BackendONNXRuntime, "ONNX Runtime "+version, BatchSize
			return m, nil
		}
		if o.Backend == BackendONNXRuntime {
			return nil, err
		}
		m.detail = err.Error()
	}
	if o.Backend != "" && o.Backend != BackendGo && o.Backend != BackendONNXRuntime {
		return nil, fmt.Errorf("unknown embedding backend %q", o.Backend)
	}
	r, err := openGo(onnxPath)
	if err != nil {
		return nil, err
	}
	m.r, m.backend, m.batch = r, BackendGo, goBatch
	return m, nil
}

// Backend says which runtime runs the model.
func (m *Model) Backend() string { return m.backend }

// Detail is the ONNX Runtime version in use, or why ONNX Runtime is not.
func (m *Model) Detail() string { return m.detail }

// Tokenizer is the model's tokenizer.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// Close releases the runtime.
func (m *Model) Close() error { return m.r.close() }

// Embed returns one unit vector per text: the mean of the model's last
// hidden states over the text's tokens (at most MaxTokens), normalised.
// Texts are batched by length so that little of each batch is padding.
func (m *Model) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	ids := make([][]int32, len(texts))
	order := make([]int, len(texts))
	for i, t := range texts {
		ids[i] = m.tok.Encode(t, MaxTokens)
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(ids[a]) - len(ids[b]) })
	out := make([][]float32, len(texts))
	for start := 0; start < len(order); start += m.batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := order[start:min(start+m.batch, len(order))]
		vecs, err := m.embedBatch(ids, batch)
		if err != nil {
			return nil, err
		}
		for j, i := range batch {
			out[i] = vecs[j]
		}
	}
	return out, nil
}

func (m *Model) embedBatch(ids [][]int32, batch []int) ([][]float32, error) {
	seq := 0
	for _, i := range batch {
		seq = max(seq, len(ids[i]))
	}
	n := len(batch)
	in := make([]int64, n*seq)
	mask := make([]int64, n*seq)
	types := make([]int64, n*seq)
	for j, i := range batch {
		for k, id := range ids[i] {
			in[j*seq+k] = int64(id)
			mask[j*seq+k] = 1
		}
	}
	hidden, err := m.r.run(in, mask, types, n, seq)
	if err != nil {
		return nil, err
	}
	if len(hidden) == 0 || len(hidden)%(n*seq) != 0 {
		return nil, errors.New("embedding model: output is not batch × sequence × hidden")
	}
	dim := len(hidden) / (n * seq)
	out := make([][]float32, n)
	for j, i := range batch {
		v := make([]float32, dim)
		sum := make([]float64, dim)
		for k := range ids[i] { // the mask is 1 exactly over the text's own tokens
			row := hidden[(j*seq+k)*dim : (j*seq+k+1)*dim]
			for d, x := range row {
				sum[d] += float64(x)
			}
		}
		var norm float64
		for d := range sum {
			sum[d] /= float64(len(ids[i]))
			norm += sum[d] * sum[d]
		}
		norm = math.Sqrt(norm)
		if norm < 1e-12 { // sentence-transformers' F.normalize clamps the same way
			norm = 1e-12
		}
		for d := range sum {
			v[d] = float32(sum[d] / norm)
		}
		out[j] = v
	}
	return out, nil
}
