package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/models"
	"github.com/lawtutor/socratic/internal/retrieval/local"
)

// modelsCmd is `socratic models download`: the local embedder's files.
func modelsCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	const use = "usage: socratic models download [--no-runtime] [--hub URL] [--releases URL]"
	if len(args) == 0 || args[0] != "download" {
		return errors.New(use)
	}
	cfg, err := loadConfigAnyEngine(environ) // no database involved
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("models download", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hub := fs.String("hub", envOr(environ, "HF_ENDPOINT", models.DefaultHub), "Hugging Face hub (or mirror)")
	releases := fs.String("releases", models.DefaultReleases, "where ONNX Runtime's release archives are")
	noRuntime := fs.Bool("no-runtime", false, "fetch the model only, not ONNX Runtime")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	// The files go where the server will look for them.
	if cfg.EmbeddingsModel != models.ModelRepo {
		return fmt.Errorf("models download fetches %s, but EMBEDDINGS_MODEL is %q: unset it, or put that model's files in EMBEDDINGS_MODEL_PATH yourself", models.ModelRepo, cfg.EmbeddingsModel)
	}
	plan := downloadPlan{modelDir: cfg.EmbeddingsModelDir(), model: models.ModelFiles(*hub)}
	if !*noRuntime {
		f, err := models.RuntimeFile(*releases, runtime.GOOS, runtime.GOARCH)
		if err != nil {
			fmt.Fprintf(stdout, "ONNX Runtime: %v\n", err)
		} else {
			plan.runtime, plan.runtimeDir = &f, runtimeDir(cfg)
		}
	}
	return plan.run(ctx, cfg, stdout)
}

// downloadPlan is what models download fetches, and where to.
type downloadPlan struct {
	modelDir   string
	model      []models.File
	runtimeDir string
	runtime    *models.File // nil: none
}

func (p downloadPlan) run(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	client := &http.Client{Timeout: 30 * time.Minute}
	fetch := func(dir string, f models.File) error {
		start := time.Now()
		got, err := models.Fetch(ctx, client, f, dir)
		if err != nil {
			return err
		}
		if got {
			fmt.Fprintf(stdout, "fetched %s (sha256 checked) in %s\n", filepath.Join(dir, f.Dest), time.Since(start).Round(100*time.Millisecond))
		} else {
			fmt.Fprintf(stdout, "already here: %s\n", filepath.Join(dir, f.Dest))
		}
		return nil
	}
	for _, f := range p.model {
		if err := fetch(p.modelDir, f); err != nil {
			return err
		}
	}
	backend := "the pure-Go runtime (no ONNX Runtime fetched)"
	if p.runtime != nil {
		if err := fetch(p.runtimeDir, *p.runtime); err != nil {
			return err
		}
		backend = "ONNX Runtime"
	}
	// Load what was fetched, as the server will.
	onnxPath, tokPath, err := local.Files(p.modelDir)
	if err != nil {
		return err
	}
	o := local.Options{RuntimeLibrary: cfg.ONNXRuntimeLibPath, SearchDirs: []string{p.runtimeDir}}
	if p.runtime != nil {
		o.Backend = local.BackendONNXRuntime
	}
	m, err := local.Open(onnxPath, tokPath, o)
	if err != nil {
		return fmt.Errorf("the fetched model does not load: %w", err)
	}
	defer m.Close()
	if _, err := m.Embed(ctx, []string{"The Fourth Amendment protects against unreasonable searches."}); err != nil {
		return fmt.Errorf("the fetched model does not run: %w", err)
	}
	fmt.Fprintf(stdout, "the model loads and runs on %s (%s); restart the server to search with it\n", m.Backend(), backend)
	return nil
}

func envOr(environ []string, key, def string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key && v != "" {
			return v
		}
	}
	return def
}
