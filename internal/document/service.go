package document

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// Limits bound what one document may cost.
type Limits struct {
	MaxUploadSize int64
	MaxPages      int
	ChunkSize     int
	ChunkOverlap  int
	// DocTimeout bounds the reading of one document's text.
	DocTimeout time.Duration
	// OwnScratch says no other running process uses the store's scratch
	// folder (it is inside the data directory this process holds locked):
	// on PostgreSQL, Sweep then removes every partial upload there, as on
	// SQLite, not only those older than blob.SweepGrace.
	OwnScratch bool
}

// Service is the document service.
type Service struct {
	db    *sqlite.DB
	files blob.Store
	pdf   *pdftext.Extractor
	queue *river.Client[*sql.Tx]
	// afterStore runs in the transaction that stores passages; see AfterStore.
	afterStore func(ctx context.Context, tx *sql.Tx, d Document) error
	limits     Limits
	log        *slog.Logger
	now        func() time.Time
}

// NewService returns the document service; give it the queue with
// UseQueue once the queue (which needs this service's worker) exists.
func NewService(db *sqlite.DB, files blob.Store, pdf *pdftext.Extractor, l Limits, log *slog.Logger) *Service {
	if l.DocTimeout <= 0 {
		l.DocTimeout = 5 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, files: files, pdf: pdf, limits: l, log: log, now: time.Now}
}

// UseQueue sets the queue that ingestion jobs are inserted into.
func (s *Service) UseQueue(c *river.Client[*sql.Tx]) { s.queue = c }

// AfterStore sets a step run inside the transaction that stores a
// document's passages, so that what follows from them (embedding) is
// queued if and only if they are stored.
func (s *Service) AfterStore(f func(ctx context.Context, tx *sql.Tx, d Document) error) {
	s.afterStore = f
}

// Worker is the ingestion worker to register with the queue.
func (s *Service) Worker() river.Worker[IngestArgs] { return &ingestWorker{s: s} }

// Upload takes a PDF from a multipart body for a week. The caller's right to
// teach the week is checked before a byte of the body is read. The same
// bytes uploaded to the same week again return the existing document and
// created=false.
func (s *Service) Upload(ctx context.Context, u auth.User, weekID int64, body io.Reader, contentType string) (Document, bool, error) {
	if _, err := course.AuthorizeWeek(ctx, s.db.Read, u, weekID, course.Teach); err != nil {
		return Document{}, false, err
	}
	// Refused before a byte is read or written: on a full disk an upload
	// could only fail half-way, and would take the room turns need.
	if s.db.Disk.Full() {
		return Document{}, false, ErrDiskFull
	}
	r, err := receive(body, contentType, s.incoming(), s.limits.MaxUploadSize)
	if err != nil {
		return Document{}, false, s.diskFull(err)
	}
	d, created, err := s.accept(ctx, u, weekID, r)
	return d, created, s.diskFull(err)
}

// diskFull is err, or ErrDiskFull when err is a full disk's: the file or
// its row could not be written, and accept kept neither.
func (s *Service) diskFull(err error) error {
	if s.db.Disk.Saw(err) {
		return ErrDiskFull
	}
	return err
}

// AddFile is Upload for a file on the server's disk (socratic ingest).
func (s *Service) AddFile(ctx context.Context, u auth.User, weekID int64, path string) (Document, bool, error) {
	if _, err := course.AuthorizeWeek(ctx, s.db.Read, u, weekID, course.Teach); err != nil {
		return Document{}, false, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Document{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	r, err := receiveReader(f, filepath.Base(path), s.incoming(), s.limits.MaxUploadSize)
	if err != nil {
		return Document{}, false, s.diskFull(err)
	}
	d, created, err := s.accept(ctx, u, weekID, r)
	return d, created, s.diskFull(err)
}

// incoming is where uploads are written before they are accepted: inside the
// store's scratch directory (the local store's own, so accepting one is a
// rename on the same file system).
func (s *Service) incoming() string { return filepath.Join(s.files.Scratch(), ".incoming") }

// accept checks a received file with PDFium, moves it into the store and
// records it with its job; on any refusal nothing is kept.
func (s *Service) accept(ctx context.Context, u auth.User, weekID int64, r received) (Document, bool, error) {
	defer r.discard() // a no-op once the file has been moved into place
	pages, err := s.inspect(ctx, r.tmp)
	if err != nil {
		return Document{}, false, err
	}
	var doc Document
	created := false
	err = s.files.WithLock(func() error {
		existed, undo, err := s.files.Adopt(ctx, r.sum, r.tmp)
		if err != nil {
			return err
		}
		doc, created, err = s.record(ctx, u, weekID, r, pages)
		if err != nil && !existed {
			// Nothing half-written: the row did not commit, so neither
			// does the file (no other document can name it: it was new).
			undo()
		}
		return err
	})
	return doc, created, err
}

// inspect opens the upload with PDFium: a file that does not open as a PDF
// is refused now, not queued to fail later.
func (s *Service) inspect(ctx context.Context, path string) (int, error) {
	// A cold start of PDFium is the server's delay, not the file's: wait for
	// it (as long as the client does) before the file's own clock starts.
	if err := s.pdf.WaitReady(ctx); err != nil {
		return s.judge(0, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("inspect upload: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pages, err := s.judge(s.pdf.PageCount(ictx, data))
	if err != nil || len(data) > trialReadMax {
		return pages, err
	}
	// A small file is read whole now, within the same limits: a tiny file
	// that inflates to gigabytes (a "zip bomb") is refused here with
	// nothing kept, instead of becoming a failed document. Ordinary small
	// readings take milliseconds; larger files are judged in the background.
	if _, err := s.pdf.Extract(ictx, data, s.limits.MaxPages, nil); err != nil {
		return s.judge(0, err)
	}
	return pages, nil
}

// trialReadMax is the largest upload read in full before it is accepted.
// Bombs are tiny by nature (the one in the tests is 17 KB); reading a
// 531 KB, 119-page opinion whole at upload took 0.3 s, so real readings
// above this size are judged in the background instead.
const trialReadMax = 128 << 10

// judge turns PDFium's verdict on an upload into the answer for the client.
func (s *Service) judge(n int, err error) (int, error) {
	switch {
	case errors.Is(err, pdftext.ErrDamaged):
		return 0, errs.New(errs.Unsupported, "this file cannot be used: "+err.Error())
	case errors.Is(err, pdftext.ErrBusy), errors.Is(err, pdftext.ErrUnavailable):
		return 0, &errs.Error{Code: errs.Unavailable, Message: pdftext.ErrBusy.Error(), RetryAfter: 30 * time.Second}
	case errors.Is(err, pdftext.ErrEncrypted), errors.Is(err, pdftext.ErrTooComplex), errors.Is(err, pdftext.ErrTimeout):
		return 0, errs.New(errs.Invalid, err.Error())
	case err != nil:
		return 0, err
	case n < 1:
		return 0, errs.New(errs.Invalid, "the PDF has no pages")
	case s.limits.MaxPages > 0 && n > s.limits.MaxPages:
		return 0, errs.New(errs.TooLarge, fmt.Sprintf("the PDF has %d pages; the limit is %d", n, s.limits.MaxPages))
	}
	return n, nil
}

// record inserts the document and its ingestion job in one transaction, or
// finds the same bytes already in the week.
func (s *Service) record(ctx context.Context, u auth.User, weekID int64, r received, pages int) (Document, bool, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return Document{}, false, fmt.Errorf("record upload: %w", err)
	}
	defer tx.Rollback()
	// Again inside the write: the week (or the right to teach it) may have
	// gone while the file arrived.
	if _, err := course.AuthorizeWeek(ctx, tx, u, weekID, course.Teach); err != nil {
		return Document{}, false, err
	}
	if d, ok, err := findBySum(ctx, tx, weekID, r.sum); err != nil || ok {
		return d, false, err
	}
	d := Document{WeekID: weekID, OriginalFilename: r.filename, SHA256: r.sum, FileSize: r.size, PageCount: &pages, Status: Queued, UploadedAt: s.now()}
	if err := insert(ctx, tx, &d, u.ID); err != nil {
		if sqlite.IsUniqueViolation(err) {
			// The same bytes, uploaded to the week at the same moment
			// through another instance (on PostgreSQL, where writers do
			// not queue): that upload is the document.
			tx.Rollback()
			if d, ok, ferr := findBySum(ctx, s.db.Read, weekID, r.sum); ferr == nil && ok {
				return d, false, nil
			}
		}
		return Document{}, false, err
	}
	if err := s.enqueue(ctx, tx, d.ID); err != nil {
		return Document{}, false, err
	}
	if err := tx.Commit(); err != nil {
		return Document{}, false, fmt.Errorf("record upload: %w", err)
	}
	return d, true, nil
}

func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, id int64) error {
	if s.queue == nil {
		return errors.New("document service has no job queue")
	}
	if _, err := s.queue.InsertTx(ctx, tx, IngestArgs{DocumentID: id}, nil); err != nil {
		return fmt.Errorf("queue document %d: %w", id, err)
	}
	return nil
}

// authorize loads a document and checks u may do a to its week; a document
// u may not see is not found.
func authorize(ctx context.Context, ex sqlite.Execer, u auth.User, id int64, a course.Action) (Document, error) {
	d, err := find(ctx, ex, id)
	if err != nil {
		return Document{}, err
	}
	if _, err := course.AuthorizeWeek(ctx, ex, u, d.WeekID, a); err != nil {
		if errors.Is(err, course.ErrWeekNotFound) {
			return Document{}, ErrNotFound
		}
		return Document{}, err
	}
	return d, nil
}

// Get returns a document u may see; its warnings only for the week's
// instructors.
func (s *Service) Get(ctx context.Context, u auth.User, id int64) (Document, error) {
	d, err := find(ctx, s.db.Read, id)
	if err != nil {
		return Document{}, err
	}
	teacher, err := teaches(ctx, s.db.Read, u, d.WeekID)
	if errors.Is(err, course.ErrWeekNotFound) {
		return Document{}, ErrNotFound
	}
	if err != nil {
		return Document{}, err
	}
	if !teacher {
		d.Warnings = nil
	}
	return d, nil
}

// List returns the documents of a week u may see; warnings only for its
// instructors.
func (s *Service) List(ctx context.Context, u auth.User, weekID int64) ([]Document, error) {
	teacher, err := teaches(ctx, s.db.Read, u, weekID)
	if err != nil {
		return nil, err
	}
	docs, err := ListByWeek(ctx, s.db.Read, weekID)
	if err != nil {
		return nil, err
	}
	if !teacher {
		for i := range docs {
			docs[i].Warnings = nil
		}
	}
	return docs, nil
}

// teaches answers, in one check, whether u may see a week at all (else the
// error: ErrWeekNotFound) and whether they teach it.
func teaches(ctx context.Context, ex sqlite.Execer, u auth.User, weekID int64) (bool, error) {
	_, err := course.AuthorizeWeek(ctx, ex, u, weekID, course.Teach)
	if errors.Is(err, course.ErrNotInstructor) {
		return false, nil // a viewer who does not teach it
	}
	return err == nil, err
}

// Open returns the stored PDF of a document u may see.
func (s *Service) Open(ctx context.Context, u auth.User, id int64) (Document, *os.File, error) {
	d, err := authorize(ctx, s.db.Read, u, id, course.View)
	if err != nil {
		return Document{}, nil, err
	}
	// The local store's file itself; another store's copy is removed once
	// open (the open file stays readable until closed).
	p, done, err := s.files.LocalPath(ctx, d.SHA256, s.incoming())
	if err != nil {
		return Document{}, nil, fmt.Errorf("open document %d file: %w", id, err)
	}
	defer done()
	f, err := os.Open(p)
	if err != nil {
		return Document{}, nil, fmt.Errorf("open document %d file: %w", id, err)
	}
	return d, f, nil
}

// Chunks lists a document's passages (instructors and admins).
func (s *Service) Chunks(ctx context.Context, u auth.User, id int64, limit, offset int) ([]StoredChunk, int, error) {
	if _, err := authorize(ctx, s.db.Read, u, id, course.Teach); err != nil {
		return nil, 0, err
	}
	return listChunks(ctx, s.db.Read, id, limit, offset)
}

// ErrBusy is a reprocess request for a document still being processed.
var ErrBusy = errs.New(errs.Conflict, "the document is waiting or being processed; try again when it is done")

// Reprocess queues a processed or failed document to be read again.
func (s *Service) Reprocess(ctx context.Context, u auth.User, id int64) (Document, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return Document{}, fmt.Errorf("reprocess: %w", err)
	}
	defer tx.Rollback()
	d, err := authorize(ctx, tx, u, id, course.Teach)
	if err != nil {
		return Document{}, err
	}
	if d.Status == Queued || d.Status == Processing {
		live, err := liveJob(ctx, tx, s.db.Engine, id)
		if err != nil {
			return Document{}, err
		}
		if live {
			return Document{}, ErrBusy
		}
	}
	if err := requeue(ctx, tx, id); err != nil {
		return Document{}, err
	}
	if err := s.enqueue(ctx, tx, id); err != nil {
		return Document{}, err
	}
	if err := tx.Commit(); err != nil {
		return Document{}, fmt.Errorf("reprocess: %w", err)
	}
	d.Status, d.Error, d.PagesDone = Queued, "", 0
	return d, nil
}

// Delete removes a document with its chunks (and their index entries) and,
// unless another document has the same bytes, its file.
func (s *Service) Delete(ctx context.Context, u auth.User, id int64) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	defer tx.Rollback()
	d, err := authorize(ctx, tx, u, id, course.Teach)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM documents WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete document %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete document: %w", err)
	}
	if _, err := s.files.Release(context.WithoutCancel(ctx), []string{d.SHA256}); err != nil {
		s.log.ErrorContext(ctx, "remove document file", "document_id", id, "err", err)
	}
	return nil
}

// Sweep removes what a crash can leave in the upload store: partial uploads
// in the incoming folder, and stored files no document names (a crash
// between storing a file and committing its row, or after a delete and
// before its file went). Run it only while holding the data directory's
// lock, before serving. On PostgreSQL the incoming folder may be shared
// with other instances receiving uploads now (unless Limits.OwnScratch):
// only partial uploads older than blob.SweepGrace are a stopped server's.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	removed := 0
	entries, err := os.ReadDir(s.incoming())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("sweep uploads: %w", err)
	}
	cutoff := time.Now().Add(-blob.SweepGrace)
	for _, e := range entries {
		if s.db.Engine == sqlite.Postgres && !s.limits.OwnScratch && !olderThan(e, cutoff) {
			continue
		}
		if os.Remove(filepath.Join(s.incoming(), e.Name())) == nil {
			removed++
		}
	}
	sums, err := s.files.Sweepable(ctx)
	if err != nil {
		return removed, fmt.Errorf("sweep uploads: %w", err)
	}
	orphans, err := s.files.Release(ctx, sums)
	return removed + orphans, err
}

// olderThan reports whether a directory entry was last changed before
// cutoff; one that cannot be asked is spared.
func olderThan(e os.DirEntry, cutoff time.Time) bool {
	info, err := e.Info()
	return err == nil && info.ModTime().Before(cutoff)
}
