// Package localtest helps tests use the test models of testdata/models as a
// model folder, laid out as socratic models download lays out the real one.
package localtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// ModelsDir is the repository's testdata/models.
func ModelsDir(t testing.TB) string {
	t.Helper()
	return testenv.Models()
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
