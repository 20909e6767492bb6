// Package localtest helps tests use the shared test models as a model
// folder, laid out as socratic models download lays out the real one.
package localtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ModelsDir is ../shared/models, beside the repository.
func ModelsDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "..", "shared", "models"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TinyModelDir is a temporary model folder holding the tiny BERT (random
// weights, the real export's interface) as model.onnx and the real
// all-MiniLM-L6-v2 tokenizer as tokenizer.json.
func TinyModelDir(t testing.TB) string {
	t.Helper()
	models, dir := ModelsDir(t), t.TempDir()
	for from, to := range map[string]string{"tiny-bert.onnx": "model.onnx", "all-minilm-l6-v2-tokenizer.json": "tokenizer.json"} {
		if err := os.Symlink(filepath.Join(models, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
