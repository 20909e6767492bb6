package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/retrieval/local/localtest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// TestModelChangeReembedsAtStart: readings embedded under one model are
// embedded again, in the background, when the server next starts with
// another; the old model's vectors are gone once it is done, and searches
// are hybrid throughout.
func TestModelChangeReembedsAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	model := localtest.TinyModelDir(t)
	env := func(name string) []string {
		return []string{"EMBEDDINGS_MODEL_PATH=" + model, "EMBEDDINGS_MODEL=" + name}
	}
	// On the run's engine: re-embedding at start is the server's.
	sw, err := openScratchWeekOn(ctx, dir, env("first-model"), engineURL(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.ingest(ctx, []string{testenv.CorpusPDF("ca7-lopez-v-thurmer-2010.pdf")}); err != nil {
		t.Fatal(err)
	}
	first := sw.in.emb.emb.Model()
	waitVectors(t, sw, first)
	week := sw.week.ID
	sw.close(ctx)

	// The same data directory, another model.
	cfg, err := loadConfigAnyEngine(append(withEngine(t, dir, env("second-model")), "DATA_DIR="+dir, "LOG_LEVEL=error"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDeps(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	in, err := startIngestion(ctx, cfg, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		d.close()
		t.Fatal(err)
	}
	sw2 := &scratchWeek{d: d, in: in}
	defer sw2.close(ctx)
	second := in.emb.emb.Model()
	if second == first {
		t.Fatalf("both models are labelled %s", first)
	}
	waitVectors(t, sw2, second)
	if old, _, _ := retrieval.VectorCounts(ctx, d.db.Read, first); old != 0 {
		t.Errorf("%d vectors of the first model remain", old)
	}
	if !in.search.Hybrid() {
		t.Fatal("the search is not hybrid")
	}
	hits, err := in.search.Search(ctx, d.db.Read, week, "habeas corpus petition", 5)
	if err != nil || len(hits) == 0 {
		t.Errorf("search after the change: %d hits, %v", len(hits), err)
	}
}

// waitVectors waits until every passage has a vector of the model.
func waitVectors(t *testing.T, sw *scratchWeek, model string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		done, all, err := retrieval.VectorCounts(context.Background(), sw.d.db.Read, model)
		if err != nil {
			t.Fatal(err)
		}
		if all > 0 && done == all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d passages embedded with %s", done, all, model)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEmbeddingsWithoutAModel: no model where the server looks leaves
// embeddings disabled (search is BM25 alone) and the server starting; a
// model folder named explicitly but unusable is an error health reports.
func TestEmbeddingsWithoutAModel(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		env        []string
		status     string
		provider   string
		hasEmbeder bool
	}{
		{nil, "disabled", "local", false},
		{[]string{"EMBEDDINGS_MODEL_PATH=" + t.TempDir()}, "error", "local", false},
		{[]string{"EMBEDDINGS_PROVIDER=none", "EMBEDDINGS_MODEL_PATH=" + localtest.TinyModelDir(t)}, "disabled", "none", false},
		{[]string{"EMBEDDINGS_MODEL_PATH=" + localtest.TinyModelDir(t)}, "ok", "local", true},
	} {
		cfg, err := loadConfig(append(c.env, "DATA_DIR="+t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		e := openEmbeddings(cfg, log)
		if e.status.Status != c.status || e.status.Provider != c.provider || (e.emb != nil) != c.hasEmbeder {
			t.Errorf("%v: %+v, embedder %v", c.env, e.status, e.emb != nil)
		}
		e.close()
	}
}
