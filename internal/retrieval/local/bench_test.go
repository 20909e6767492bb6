package local

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// benchTexts are BatchSize passages of legal prose that each fill the
// model's 256 tokens.
func benchTexts(t testing.TB, tok *Tokenizer) []string {
	base := "The court held that a promise made without consideration is unenforceable unless the promisee reasonably relied on it to her detriment; the dissent argued that the statute of frauds barred recovery. "
	texts := make([]string, BatchSize)
	for i := range texts {
		texts[i] = strings.Repeat(base, 12) + strings.Repeat("x", i)
		if n := len(tok.Encode(texts[i], 10*MaxTokens)); n < MaxTokens {
			t.Fatalf("bench text is %d tokens, not at least %d", n, MaxTokens)
		}
	}
	return texts
}

// benchmarkEmbed reports chunks/s of the full-size all-MiniLM-L6-v2
// architecture (random weights, made once into the user's cache folder by
// scripts/make-random-minilm's code) at 256 tokens, batch 32.
func benchmarkEmbed(b *testing.B, o Options) {
	m, err := Open(testenv.RandomMiniLM(b), filepath.Join(modelsDir, "all-minilm-l6-v2-tokenizer.json"), o)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	texts := benchTexts(b, m.Tokenizer())
	if _, err := m.Embed(context.Background(), texts); err != nil { // warm up (GoMLX compiles per shape)
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "chunks/s")
}

func BenchmarkEmbedGo(b *testing.B) { benchmarkEmbed(b, Options{Backend: BackendGo}) }

// benchmarkQuery reports the latency of embedding one spoken-length
// question (the part of a hybrid search before the index is asked).
func benchmarkQuery(b *testing.B, o Options) {
	m, err := Open(testenv.RandomMiniLM(b), filepath.Join(modelsDir, "all-minilm-l6-v2-tokenizer.json"), o)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	q := []string{"When may a promise be enforced without consideration, if the promisee relied on it?"}
	if _, err := m.Embed(context.Background(), q); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Embed(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueryGo(b *testing.B) { benchmarkQuery(b, Options{Backend: BackendGo}) }
