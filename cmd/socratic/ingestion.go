package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/pdftext"
)

// docTimeout bounds the reading of one document's text. The longest corpus
// opinion (119 pages) takes under a second; five minutes leaves room for a
// slow machine without letting a hostile file hold a worker for long.
const docTimeout = 5 * time.Minute

// stopWait is how long a stop waits for running jobs before cancelling them.
const stopWait = 20 * time.Second

// ingestion is the document pipeline: PDFium, the document service and the
// queue that runs its jobs.
type ingestion struct {
	pdf       *pdftext.Extractor
	documents *document.Service
	queue     *jobs.Queue
}

// startIngestion starts PDFium (in the background: the server is ready at
// once, the first document waits for it), the document service and the
// job queue. Call it only while holding the data directory's lock.
func startIngestion(ctx context.Context, cfg config.Config, d *deps, log *slog.Logger) (*ingestion, error) {
	workers := max(1, min(2, runtime.NumCPU()))
	in := &ingestion{pdf: pdftext.New(pdftext.Options{
		CacheDir: filepath.Join(cfg.DataDir, "cache", "wazero"),
		// One sandbox more than jobs run at once: an upload's check never
		// waits behind two long documents.
		Workers:       workers + 1,
		MemoryLimitMB: 256,
	})}
	in.documents = document.NewService(d.db, d.files, in.pdf, document.Limits{
		MaxUploadSize: cfg.MaxUploadSize, MaxPages: cfg.MaxPDFPages,
		ChunkSize: cfg.ChunkSize, ChunkOverlap: cfg.ChunkOverlap, DocTimeout: docTimeout,
	}, log)
	ws := river.NewWorkers()
	river.AddWorker(ws, in.documents.Worker())
	q, err := jobs.New(d.db, jobs.Options{Workers: ws, MaxWorkers: workers, JobTimeout: docTimeout + 2*time.Minute, Logger: log})
	if err != nil {
		in.pdf.Close()
		return nil, err
	}
	in.queue = q
	in.documents.UseQueue(q.Client())
	if n, err := in.documents.Sweep(ctx); err != nil {
		log.Warn("sweeping the upload store", "err", err)
	} else if n > 0 {
		log.Info("removed files a stopped server left in the upload store", "files", n)
	}
	n, err := q.ResetOrphans(ctx)
	if err != nil {
		in.pdf.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("resuming jobs a stopped server left running", "jobs", n)
	}
	// The queue outlives the signal that stops HTTP: it is stopped after
	// the requests drain (stop).
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		in.pdf.Close()
		return nil, err
	}
	return in, nil
}

// stop waits up to stopWait for running jobs (even when ctx is already
// done: it is the signal that started the shutdown), then cancels them
// (they run again at the next start), and stops PDFium.
func (in *ingestion) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopWait)
	defer cancel()
	if err := errors.Join(in.queue.Stop(ctx), in.pdf.Close()); err != nil {
		return fmt.Errorf("stop ingestion: %w", err)
	}
	return nil
}
