package document

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/pdftext"
)

// IngestArgs is the job that turns an uploaded document into passages.
type IngestArgs struct {
	DocumentID int64 `json:"document_id"`
}

// Kind names the job in the queue.
func (IngestArgs) Kind() string { return "ingest_document" }

// InsertOpts: a few attempts for transient failures. Jobs are not unique
// by arguments: River completes jobs a moment after they finish, and a
// reprocess in that moment would be skipped as a duplicate of the finishing
// job. Instead the document's status guards against two jobs at once
// (Reprocess refuses a queued or processing document).
func (IngestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 4}
}

type ingestWorker struct {
	river.WorkerDefaults[IngestArgs]
	s *Service
}

func (w *ingestWorker) Work(ctx context.Context, job *river.Job[IngestArgs]) error {
	return w.s.Process(ctx, job.Args.DocumentID, job.Attempt >= job.MaxAttempts)
}

// Timeout leaves room after the document's own deadline to record how it
// ended.
func (w *ingestWorker) Timeout(*river.Job[IngestArgs]) time.Duration {
	return w.s.limits.DocTimeout + time.Minute
}

// minLetters: a document with fewer letters than this in all its pages has
// no text layer to speak of.
const minLetters = 40

// errPermanent marks a failure that another attempt cannot fix.
type errPermanent struct{ reason string }

func (e errPermanent) Error() string { return e.reason }

// Process reads a document's text, cleans it, cuts it into passages and
// stores them, replacing any earlier ones at once. A failure that another
// attempt cannot fix (encrypted, damaged, scanned, too big) marks the
// document failed with the reason and is not retried; others are retried
// by the queue, and the last attempt's failure is recorded.
func (s *Service) Process(ctx context.Context, id int64, lastAttempt bool) error {
	ok, err := startProcessing(ctx, s.db.Write, id)
	if err != nil {
		return err
	}
	if !ok {
		return nil // deleted while it waited
	}
	d, err := find(ctx, s.db.Read, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return s.failed(ctx, id, err, lastAttempt)
	}
	pages, chunks, err := s.read(ctx, d)
	if err != nil {
		return s.failed(ctx, id, err, lastAttempt)
	}
	// store's transaction is over (committed or rolled back) before failed
	// writes: both need the one write connection.
	if err := s.store(ctx, d, pages, chunks); err != nil {
		return s.failed(ctx, id, err, lastAttempt)
	}
	s.log.InfoContext(ctx, "document processed", "document_id", id, "pages", pages, "chunks", len(chunks))
	return nil
}

// store replaces the document's passages in one transaction, unless it was
// deleted (or requeued) while it was being read.
func (s *Service) store(ctx context.Context, d Document, pages int, chunks []Chunk) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store document %d: %w", d.ID, err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM documents WHERE id = ?`, d.ID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status != string(Processing)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store document %d: %w", d.ID, err)
	}
	if err := replaceChunks(ctx, tx, d, pages, chunks, s.now()); err != nil {
		return err
	}
	if s.afterStore != nil {
		if err := s.afterStore(ctx, tx, d); err != nil {
			return fmt.Errorf("store document %d: %w", d.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store document %d: %w", d.ID, err)
	}
	return nil
}

// read extracts, cleans and chunks the document's text.
func (s *Service) read(ctx context.Context, d Document) (int, []Chunk, error) {
	path, done, err := s.files.LocalPath(ctx, d.SHA256, s.incoming())
	var data []byte
	if err == nil {
		data, err = os.ReadFile(path)
		done()
	}
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, errPermanent{"the stored file is missing; upload it again"}
	}
	if err != nil {
		return 0, nil, err
	}
	if err := s.pdf.WaitReady(ctx); err != nil {
		return 0, nil, err // transient: retried
	}
	dctx, cancel := context.WithTimeout(ctx, s.limits.DocTimeout)
	defer cancel()
	last := time.Time{}
	progress := func(done, total int) {
		// A progress write per page would compete with real work for the
		// one write connection; a few a second is plenty to watch.
		if done < total && time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		if err := setProgress(dctx, s.db.Write, d.ID, done); err != nil {
			s.log.WarnContext(ctx, "document progress", "document_id", d.ID, "err", err)
		}
	}
	raw, err := s.pdf.Extract(dctx, data, s.limits.MaxPages, progress)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err() // the job was stopped (shutdown): not the file's fault
		}
		switch {
		case errors.Is(err, pdftext.ErrEncrypted), errors.Is(err, pdftext.ErrDamaged), errors.Is(err, pdftext.ErrTooComplex),
			errors.Is(err, pdftext.ErrTooMany), errors.Is(err, pdftext.ErrTimeout):
			return 0, nil, errPermanent{err.Error()}
		}
		return 0, nil, err
	}
	text, starts := Assemble(raw)
	if letters(text) < minLetters {
		return 0, nil, errPermanent{"this PDF has no extractable text — it looks scanned; run it through OCR (text recognition) and upload the result"}
	}
	chunks := Splitter{Size: s.limits.ChunkSize, Overlap: s.limits.ChunkOverlap}.Split(text, starts)
	return len(raw), chunks, nil
}

// Assemble cleans every page and joins them into one text, with the byte
// offset where each page starts. Pages are separated by a paragraph break.
func Assemble(raw []string) (string, []int) {
	pages := make([]string, len(raw))
	for i, p := range raw {
		pages[i] = pdftext.Normalize(p)
	}
	pages = stripBoilerplate(pages)
	var sb strings.Builder
	starts := make([]int, len(pages))
	for i, p := range pages {
		if i > 0 {
			sb.WriteString("\n\n")
		}
		starts[i] = sb.Len()
		sb.WriteString(p)
	}
	return sb.String(), starts
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
			if n >= minLetters {
				return n
			}
		}
	}
	return n
}

// failed records how an attempt ended and tells the queue what to do next.
func (s *Service) failed(ctx context.Context, id int64, err error, lastAttempt bool) error {
	var perm errPermanent
	switch {
	case errors.As(err, &perm):
		if ferr := setFailed(context.WithoutCancel(ctx), s.db.Write, id, perm.reason, s.now()); ferr != nil {
			return ferr // retried: the verdict must be recorded
		}
		s.log.InfoContext(ctx, "document failed", "document_id", id, "reason", perm.reason)
		return river.JobCancel(err)
	case errors.Is(ctx.Err(), context.Canceled):
		// Stopped by shutdown: the queue runs the job again after restart.
		// (A job that ran out of time is not this: it is a failed attempt.)
		_ = requeue(context.WithoutCancel(ctx), s.db.Write, id)
		return err
	case lastAttempt:
		s.log.ErrorContext(ctx, "document failed after retries", "document_id", id, "err", err)
		reason := "the server could not process this file after several attempts; try Reprocess, and tell your administrator if it fails again"
		if ferr := setFailed(context.WithoutCancel(ctx), s.db.Write, id, reason, s.now()); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	default:
		s.log.WarnContext(ctx, "document attempt failed; will retry", "document_id", id, "err", err)
		if rerr := requeue(context.WithoutCancel(ctx), s.db.Write, id); rerr != nil {
			return errors.Join(err, rerr)
		}
		return fmt.Errorf("process document %d: %w", id, err)
	}
}
