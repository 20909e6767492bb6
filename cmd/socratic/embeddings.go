package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/retrieval/local"
)

// embeddings is the configured embedder and what /api/health says of it.
// emb is nil when embeddings are off: searches are then BM25 alone.
type embeddings struct {
	emb    retrieval.Embedder
	status retrieval.Status
	close  func() error
}

// openEmbeddings never fails the server: a missing model or library, or a
// broken one, leaves embeddings disabled (or in error) with the reason
// logged, and search runs on BM25.
func openEmbeddings(cfg config.Config, log *slog.Logger) *embeddings {
	e := &embeddings{close: func() error { return nil }}
	e.status.Provider = cfg.EmbeddingsProviderName()
	e.status.Model = cfg.EmbeddingsModel
	e.status.Status = "disabled"
	switch e.status.Provider {
	case "none":
		log.Info("embeddings are off (EMBEDDINGS_PROVIDER=none): search is BM25 alone")
	case "openai":
		o, err := retrieval.NewOpenAI(retrieval.OpenAIOptions{BaseURL: cfg.EmbeddingsBaseURL, APIKey: cfg.OpenAIAPIKey, Model: cfg.EmbeddingsModel,
			// A turn's search embeds its query: as many at once as turns
			// (LLM_MAX_CONCURRENT), besides ingestion's batches.
			HTTPClient: llm.PooledClient(idleConns(cfg.LLMMaxConcurrent))})
		if err != nil {
			e.status.Status = "error"
			log.Error("embeddings server", "err", err)
			return e
		}
		e.emb, e.status.Status = o, "ok"
		log.Info("embeddings from an OpenAI-compatible server", "model", cfg.EmbeddingsModel)
	case "local":
		dir := cfg.EmbeddingsModelDir()
		if _, _, err := local.Files(dir); err != nil {
			if cfg.EmbeddingsModelPath != "" {
				e.status.Status = "error"
				log.Error("EMBEDDINGS_MODEL_PATH has no usable model: search is BM25 alone", "err", err)
			} else {
				log.Info("no embedding model: search is BM25 alone (socratic models download fetches it)", "looked_in", dir)
			}
			return e
		}
		l, err := retrieval.OpenLocal(dir, cfg.EmbeddingsModel, local.Options{
			RuntimeLibrary: cfg.ONNXRuntimeLibPath,
			SearchDirs:     []string{runtimeDir(cfg)},
		})
		if err != nil {
			e.status.Status = "error"
			log.Error("the embedding model does not load: search is BM25 alone", "err", err)
			return e
		}
		e.emb, e.close, e.status.Status, e.status.Backend = l, l.Close, "ok", l.Backend()
		if l.Backend() == local.BackendGo {
			log.Warn("embeddings run on the pure-Go runtime, about ten times slower than ONNX Runtime (socratic models download fetches it)", "why", l.Detail())
		} else {
			log.Info("embeddings on ONNX Runtime", "version", l.Detail(), "model", l.Model())
		}
	}
	return e
}

// runtimeDir is where socratic models download puts ONNX Runtime.
func runtimeDir(cfg config.Config) string {
	return filepath.Join(cfg.ModelsDir(), "onnxruntime")
}

// startEmbedding queues a catch-up run: after a model change, or chunks
// stored while embeddings were off, every chunk lacking a vector of the
// current model is embedded in the background.
func (e *embeddings) startEmbedding(ctx context.Context, in *ingestion) error {
	if e.emb == nil {
		return nil
	}
	if _, err := in.queue.Client().Insert(ctx, retrieval.EmbedArgs{}, nil); err != nil {
		return fmt.Errorf("queue embedding: %w", err)
	}
	return nil
}
