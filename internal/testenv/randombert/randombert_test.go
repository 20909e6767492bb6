package randombert_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lawtutor/socratic/internal/retrieval/local"
	"github.com/lawtutor/socratic/internal/testenv"
	"github.com/lawtutor/socratic/internal/testenv/randombert"
)

// tiny is the architecture of testdata/models/tiny-bert.onnx: quick to
// make and run, the same graph as the full size.
var tiny = randombert.Config{Layers: 2, Hidden: 32, Heads: 4, Intermediate: 64, Vocab: 30522, MaxPositions: 512, TypeVocab: 2, Seed: 7}

var texts = []string{
	"The court held that a promise made without consideration is unenforceable unless the promisee relied on it.",
	"Short.",
	"",
}

func writeTiny(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := randombert.WriteFile(path, tiny); err != nil {
		t.Fatal(err)
	}
	return path
}

func embed(t *testing.T, model string, o local.Options) [][]float32 {
	t.Helper()
	m, err := local.Open(model, testenv.Path("models", "all-minilm-l6-v2-tokenizer.json"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v, err := m.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPureGoRuns: the pure-Go runtime loads the model and gives one unit
// vector of the hidden size per text, different for different texts.
func TestPureGoRuns(t *testing.T) {
	v := embed(t, writeTiny(t), local.Options{Backend: local.BackendGo})
	if len(v) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(v), len(texts))
	}
	for i, x := range v {
		if len(x) != tiny.Hidden {
			t.Fatalf("vector %d has %d dimensions, want %d", i, len(x), tiny.Hidden)
		}
		var n float64
		for _, f := range x {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				t.Fatalf("vector %d holds %v", i, f)
			}
			n += float64(f) * float64(f)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Errorf("vector %d has norm² %v", i, n)
		}
	}
	if dot(v[0], v[1]) > 0.9999 {
		t.Errorf("two different texts give the same vector")
	}
}

// TestSameSeedSameFile: the weights come from the seed alone.
func TestSameSeedSameFile(t *testing.T) {
	a, err := randombert.Marshal(tiny)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := randombert.Marshal(tiny)
	other := tiny
	other.Seed++
	c, _ := randombert.Marshal(other)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) || len(a) != len(c) {
		t.Errorf("seeded output: same seed equal %v, other seed equal %v", bytes.Equal(a, b), bytes.Equal(a, c))
	}
	// Almost all of the file is the weights, 4 bytes each.
	if w := 4 * tiny.Parameters(); len(a) < w || len(a) > w+200_000 {
		t.Errorf("%d bytes for %d parameters", len(a), tiny.Parameters())
	}
}

// TestMiniLML6Size: all-MiniLM-L6-v2 counts 22,713,216 parameters with the
// pooler, which the export (and so this model) leaves out.
func TestMiniLML6Size(t *testing.T) {
	c := randombert.MiniLML6
	pooler := c.Hidden*c.Hidden + c.Hidden
	if got := c.Parameters() + pooler; got != 22_713_216 {
		t.Errorf("%d parameters with the pooler, want 22,713,216", got)
	}
}

func TestRefusesBadSizes(t *testing.T) {
	bad := tiny
	bad.Heads = 5
	if _, err := randombert.Marshal(bad); err == nil {
		t.Error("hidden 32 over 5 heads accepted")
	}
	dir := t.TempDir()
	if err := randombert.WriteFile(filepath.Join(dir, "m.onnx"), randombert.Config{}); err == nil {
		t.Error("zero sizes accepted")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
