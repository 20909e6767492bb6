package retrieval

import (
	"context"

	"github.com/lawtutor/socratic/internal/models"
	"github.com/lawtutor/socratic/internal/retrieval/local"
)

// Local is the in-process embedder: a sentence-transformers model's ONNX
// export on ONNX Runtime, or on the pure-Go runtime where ONNX Runtime is
// absent.
type Local struct {
	m  *local.Model
	id string
}

// OpenLocal loads the model in dir (model.onnx or onnx/model.onnx, and
// tokenizer.json). Its vectors are labelled name@<first 12 hex digits of
// the ONNX file's sha256>, so that replacing the files under the same name
// still re-embeds everything.
func OpenLocal(dir, name string, o local.Options) (*Local, error) {
	onnxPath, tokPath, err := local.Files(dir)
	if err != nil {
		return nil, err
	}
	sum, err := models.FileSHA256(onnxPath)
	if err != nil {
		return nil, err
	}
	m, err := local.Open(onnxPath, tokPath, o)
	if err != nil {
		return nil, err
	}
	return &Local{m: m, id: name + "@" + sum[:12]}, nil
}

// Embed returns unit vectors, one per text.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return l.m.Embed(ctx, texts)
}

// Model identifies the vectors.
func (l *Local) Model() string { return l.id }

// Backend is local.BackendONNXRuntime or local.BackendGo.
func (l *Local) Backend() string { return l.m.Backend() }

// Detail is the ONNX Runtime version, or why ONNX Runtime is not used.
func (l *Local) Detail() string { return l.m.Detail() }

// Close releases the runtime.
func (l *Local) Close() error { return l.m.Close() }
