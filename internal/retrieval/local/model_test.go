package local

import (
	"context"
	"math"
	"path/filepath"
	"testing"
)

func openTiny(t testing.TB, o Options) *Model {
	t.Helper()
	m, err := Open(filepath.Join(modelsDir, "tiny-bert.onnx"), filepath.Join(modelsDir, "all-minilm-l6-v2-tokenizer.json"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// checkReference embeds the reference texts one by one and all in one
// padded batch, and compares each vector with the golden one.
func checkReference(t *testing.T, m *Model) {
	ref := loadReference(t)
	texts := make([]string, len(ref.Cases))
	for i, c := range ref.Cases {
		texts[i] = c.Text
	}
	batched, err := m.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range ref.Cases {
		alone, err := m.Embed(context.Background(), []string{c.Text})
		if err != nil {
			t.Fatal(err)
		}
		for how, got := range map[string][]float32{"alone": alone[0], "in a batch": batched[i]} {
			if len(got) != len(c.Embedding) {
				t.Fatalf("%.40q %s: dimension %d, want %d", c.Text, how, len(got), len(c.Embedding))
			}
			var dot, worst float64
			for d, want := range c.Embedding {
				dot += float64(got[d]) * want
				worst = max(worst, math.Abs(float64(got[d])-want))
			}
			if worst > 1e-4 || dot < 0.9999 {
				t.Errorf("%.40q %s: largest difference %.2g, cosine %.7f", c.Text, how, worst, dot)
			}
		}
	}
}

func TestGoBackendMatchesReference(t *testing.T) {
	m := openTiny(t, Options{Backend: BackendGo})
	if m.Backend() != BackendGo {
		t.Fatalf("backend %s", m.Backend())
	}
	checkReference(t, m)
}

func TestEmbedEmptyAndCancelled(t *testing.T) {
	m := openTiny(t, Options{Backend: BackendGo})
	if v, err := m.Embed(context.Background(), nil); err != nil || len(v) != 0 {
		t.Errorf("no texts: %v, %v", v, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Embed(ctx, []string{"a"}); err == nil {
		t.Error("a cancelled context embedded anyway")
	}
}

func TestOpenRefusesWhatItCannotRun(t *testing.T) {
	tok := filepath.Join(modelsDir, "all-minilm-l6-v2-tokenizer.json")
	if _, err := Open(filepath.Join(t.TempDir(), "missing.onnx"), tok, Options{Backend: BackendGo}); err == nil {
		t.Error("a missing model opened")
	}
	if _, err := Open(filepath.Join(modelsDir, "tiny-bert.onnx"), tok, Options{Backend: "tpu"}); err == nil {
		t.Error("an unknown backend was accepted")
	}
	if _, err := Open(filepath.Join(modelsDir, "tiny-bert.onnx"), tok, Options{Backend: BackendONNXRuntime, RuntimeLibrary: filepath.Join(t.TempDir(), "nope.so")}); err == nil {
		t.Error("ONNX Runtime was required and missing, yet the model opened")
	}
}
