package main

import (
	"context"
	"database/sql"
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
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/retrieval/local"
	"github.com/lawtutor/socratic/internal/tutor"
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
	emb       *embeddings
	indexer   *retrieval.Indexer // nil when embeddings are off
	search    *retrieval.Searcher
	llm       llm.Provider // nil: the offline tutor
	llmStatus string       // "ok" for /api/health: a provider that cannot be made stops the start
}

// startIngestion starts PDFium (in the background: the server is ready at
// once, the first document waits for it), the document service and the
// job queue. Call it only while holding the data directory's lock.
func startIngestion(ctx context.Context, cfg config.Config, d *deps, log *slog.Logger) (*ingestion, error) {
	model, err := openLLM(cfg, log)
	if err != nil {
		return nil, err
	}
	workers := max(1, min(2, runtime.NumCPU()))
	in := &ingestion{pdf: pdftext.New(pdftext.Options{
		CacheDir: filepath.Join(cfg.CacheDir, "wazero"),
		// One sandbox more than jobs run at once: an upload's check never
		// waits behind two long documents.
		Workers:       workers + 1,
		MemoryLimitMB: 256,
		IdleTimeout:   cfg.PDFIdleTimeout,
	})}
	in.documents = document.NewService(d.db, d.files, in.pdf, document.Limits{
		MaxUploadSize: cfg.MaxUploadSize, MaxPages: cfg.MaxPDFPages,
		ChunkSize: cfg.ChunkSize, ChunkOverlap: cfg.ChunkOverlap, DocTimeout: docTimeout,
		OwnScratch: cfg.InDataDir(d.files.Scratch()),
	}, log)
	in.emb = openEmbeddings(cfg, log)
	in.search = retrieval.NewSearcher(in.emb.emb, 0, log)
	in.llm, in.llmStatus = model, "ok"
	ws := river.NewWorkers()
	river.AddWorker(ws, in.documents.Worker())
	river.AddWorker(ws, tutor.NewThemer(d.db, in.llm, log).Worker())
	if in.emb.emb != nil {
		in.indexer = retrieval.NewIndexer(d.db, in.emb.emb, embedBatch, log)
		river.AddWorker(ws, in.indexer.Worker())
	}
	q, err := jobs.New(d.db, jobs.Options{
		Workers: ws, MaxWorkers: workers,
		// Embedding runs one job at a time beside ingestion, never in
		// its place.
		Queues:     map[string]int{retrieval.EmbedQueue: 1},
		JobTimeout: docTimeout + 2*time.Minute, Logger: log, ID: d.instance,
	})
	if err != nil {
		in.close()
		return nil, err
	}
	in.queue = q
	in.documents.UseQueue(q.Client())
	// What follows from a document's passages is queued in the transaction
	// that stores them: its embedding, and the week's themes once its last
	// document is read.
	in.documents.AfterStore(func(ctx context.Context, tx *sql.Tx, doc document.Document) error {
		if in.emb.emb != nil {
			if _, err := q.Client().InsertTx(ctx, tx, retrieval.EmbedArgs{}, nil); err != nil {
				return err
			}
		}
		return tutor.QueueAfterReadings(ctx, tx, q.Client(), doc.WeekID)
	})
	if n, err := in.documents.Sweep(ctx); err != nil {
		log.Warn("sweeping the upload store", "err", err)
	} else if n > 0 {
		log.Info("removed files a stopped server left in the upload store", "files", n)
	}
	n, err := q.ResetOrphans(ctx)
	if err != nil {
		in.close()
		return nil, err
	}
	if n > 0 {
		log.Info("resuming jobs a stopped server left running", "jobs", n)
	}
	// The queue outlives the signal that stops HTTP: it is stopped after
	// the requests drain (stop).
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		in.close()
		return nil, err
	}
	if err := in.emb.startEmbedding(ctx, in); err != nil {
		log.Warn("queueing the embedding of pending chunks", "err", err)
	}
	return in, nil
}

// stop waits up to stopWait for running jobs (even when ctx is already
// done: it is the signal that started the shutdown), then cancels them
// (they run again at the next start), and stops PDFium.
func (in *ingestion) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopWait)
	defer cancel()
	if err := errors.Join(in.queue.Stop(ctx), in.close()); err != nil {
		return fmt.Errorf("stop ingestion: %w", err)
	}
	return nil
}

// close releases PDFium and the embedding runtime (after the queue stops).
func (in *ingestion) close() error {
	return errors.Join(in.pdf.Close(), in.emb.close())
}

// embedBatch is how many chunks the embedding job embeds and commits at a
// time: the local model's batch.
const embedBatch = local.BatchSize
