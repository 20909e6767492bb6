package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/models"
	"github.com/lawtutor/socratic/internal/testenv"
)

// TestModelsDownloadRefusesUnpinnedBytes: a hub that serves anything but
// the pinned files gets the download refused, with nothing left in
// DATA_DIR/models that the server could pick up.
func TestModelsDownloadRefusesUnpinnedBytes(t *testing.T) {
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not the model"))
	}))
	defer hub.Close()
	data := t.TempDir()
	err := run(context.Background(), []string{"models", "download", "--no-runtime", "--hub", hub.URL}, []string{"DATA_DIR=" + data}, nil, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "expected") {
		t.Fatalf("download from a wrong hub: %v", err)
	}
	var left []string
	filepath.WalkDir(filepath.Join(data, "models"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestModelsDownloadFetchesAndLoads: the command's plan, with the tiny
// BERT standing in for the real model (pinned to its own hash), fetches
// the files to where the server looks, loads and runs them, and finds them
// there the second time.
func TestModelsDownloadFetchesAndLoads(t *testing.T) {
	onnx, err := os.ReadFile(testenv.Path("models", "tiny-bert.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(testenv.Path("models", "all-minilm-l6-v2-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/onnx/model.onnx"):
			w.Write(onnx)
		case strings.HasSuffix(r.URL.Path, "/tokenizer.json"):
			w.Write(tok)
		default:
			http.NotFound(w, r)
		}
	}))
	defer hub.Close()
	files := models.ModelFiles(hub.URL)
	for i, b := range [][]byte{onnx, tok} {
		h := sha256.Sum256(b)
		files[i].SHA256, files[i].Size = hex.EncodeToString(h[:]), int64(len(b))
	}
	cfg := config.Config{DataDir: t.TempDir(), EmbeddingsModel: "sentence-transformers/all-MiniLM-L6-v2"}
	plan := downloadPlan{modelDir: cfg.EmbeddingsModelDir(), model: files}
	out := &syncBuffer{}
	if err := plan.run(context.Background(), cfg, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "loads and runs") {
		t.Errorf("output:\n%s", out.String())
	}
	if e := openEmbeddings(cfg, slog.New(slog.DiscardHandler)); e.status.Status != "ok" || e.emb == nil {
		t.Errorf("the server does not find the fetched model: %+v", e.status)
	} else {
		e.close()
	}
	again := &syncBuffer{}
	if err := plan.run(context.Background(), cfg, again); err != nil || strings.Count(again.String(), "already here") != 2 {
		t.Errorf("second run: %v\n%s", err, again.String())
	}
}

// TestModelsDownloadRefusesAnotherModelName: the files fetched are
// all-MiniLM-L6-v2's, so with EMBEDDINGS_MODEL naming another model they
// would sit where the server does not look, labelled wrongly.
func TestModelsDownloadRefusesAnotherModelName(t *testing.T) {
	err := run(context.Background(), []string{"models", "download", "--no-runtime", "--hub", "http://127.0.0.1:1"},
		[]string{"DATA_DIR=" + t.TempDir(), "EMBEDDINGS_MODEL=BAAI/bge-small-en"}, nil, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "EMBEDDINGS_MODEL") {
		t.Errorf("another model's name: %v", err)
	}
}
