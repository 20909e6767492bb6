package document

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
	"github.com/lawtutor/socratic/internal/tutor"
)

var (
	pdfOnce sync.Once
	pdf     *pdftext.Extractor
)

// sharedPDF is one PDFium for the test binary (compiled once, cached in
// the user's cache folder across runs).
func sharedPDF() *pdftext.Extractor {
	pdfOnce.Do(func() {
		pdf = pdftext.New(pdftext.Options{CacheDir: testenv.WazeroCache(), Workers: 1, MemoryLimitMB: 256})
	})
	return pdf
}

// TestUploadIsProcessedByAnyInstance: a reading added through one
// instance (whose queue only inserts) is stored with its ingestion job in
// one transaction, and processed by the other instance's worker on the
// same database and files: its passages are stored and it is marked
// processed, and the week's themes job its passages queue runs too. On
// PostgreSQL the job reaches the other instance through
// River's table (and its LISTEN/NOTIFY); on SQLite through the one file.
func TestUploadIsProcessedByAnyInstance(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, a, nil); err != nil {
			t.Fatal(err)
		}
		profID, weekID := aWeek(t, a)
		if _, err := a.Write.Exec(`INSERT INTO course_instructors (course_id, user_id, added_at) SELECT course_id, ?, '2026-01-01T00:00:00.000000Z' FROM weeks WHERE id = ?`, profID, weekID); err != nil {
			t.Fatal(err)
		}
		prof := auth.User{ID: profID, Role: auth.RoleProfessor, Username: "prof"}
		dir := t.TempDir()
		limits := Limits{MaxUploadSize: 50 << 20, MaxPages: 500, ChunkSize: 1500, ChunkOverlap: 200, DocTimeout: 2 * time.Minute}

		// Instance A: takes the upload, runs no jobs.
		docsA := NewService(a, blob.New(dir, FileInUse(a.Read)), sharedPDF(), limits, nil)
		qa, err := jobs.New(a, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { qa.Stop(context.Background()) })
		docsA.UseQueue(qa.Client())

		// Instance B: works the queue.
		docsB := NewService(b, blob.New(dir, FileInUse(b.Read)), sharedPDF(), limits, nil)
		workers := river.NewWorkers()
		river.AddWorker(workers, docsB.Worker())
		river.AddWorker(workers, tutor.NewThemer(b, nil, nil).Worker())
		qb, err := jobs.New(b, jobs.Options{Workers: workers, MaxWorkers: 1, JobTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		docsB.UseQueue(qb.Client())
		// As the server does: the week's themes are queued with the
		// passages that make them.
		docsB.AfterStore(func(ctx context.Context, tx *sql.Tx, d Document) error {
			return tutor.QueueAfterReadings(ctx, tx, qb.Client(), d.WeekID)
		})
		if err := qb.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			qb.Stop(stop)
		})

		d, created, err := docsA.AddFile(ctx, prof, weekID, filepath.Join("..", "..", "testdata", "themes", "contracts-reading.pdf"))
		if err != nil || !created || d.Status != Queued {
			t.Fatalf("add: %+v %v %v", d, created, err)
		}
		if again, created, err := docsA.AddFile(ctx, prof, weekID, filepath.Join("..", "..", "testdata", "themes", "contracts-reading.pdf")); err != nil || created || again.ID != d.ID {
			t.Errorf("the same file again: %+v %v %v", again, created, err)
		}
		deadline := time.Now().Add(3 * time.Minute)
		for {
			if d, err = find(ctx, a.Read, d.ID); err != nil {
				t.Fatal(err)
			}
			if d.Status == Processed || d.Status == Failed || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if d.Status != Processed || d.ChunkCount == 0 || d.ProcessedAt == nil || d.PageCount == nil || d.PagesDone != *d.PageCount {
			t.Fatalf("after processing: %+v", d)
		}
		stored, total, err := listChunks(ctx, a.Read, d.ID, 1000, 0)
		if err != nil || total != d.ChunkCount || len(stored) != total || stored[0].Content == "" {
			t.Errorf("%d chunks listed of %d, %d counted: %v", len(stored), total, d.ChunkCount, err)
		}
		// Then the themes job those passages queued, also on instance B.
		var themes string
		for {
			if err := a.Read.QueryRow(`SELECT themes FROM weeks WHERE id = ?`, weekID).Scan(&themes); err != nil {
				t.Fatal(err)
			}
			if themes != "[]" || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if themes == "[]" {
			t.Errorf("the week has no themes after its reading was processed")
		}
	})
}

// TestSameUploadAtOnceIsOneDocument: the same reading added to a week by
// eight requests at once, through two instances, is one document: one
// request creates it, the others are given it.
func TestSameUploadAtOnceIsOneDocument(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		ctx := context.Background()
		if err := jobs.Migrate(ctx, a, nil); err != nil {
			t.Fatal(err)
		}
		profID, weekID := aWeek(t, a)
		if _, err := a.Write.Exec(`INSERT INTO course_instructors (course_id, user_id, added_at) SELECT course_id, ?, '2026-01-01T00:00:00.000000Z' FROM weeks WHERE id = ?`, profID, weekID); err != nil {
			t.Fatal(err)
		}
		prof := auth.User{ID: profID, Role: auth.RoleProfessor, Username: "prof"}
		dir := t.TempDir()
		var svcs []*Service
		for _, db := range []*sqlite.DB{a, b} {
			s := NewService(db, blob.New(dir, FileInUse(db.Read)), sharedPDF(), Limits{MaxUploadSize: 50 << 20, MaxPages: 500}, nil)
			q, err := jobs.New(db, jobs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { q.Stop(context.Background()) })
			s.UseQueue(q.Client())
			svcs = append(svcs, s)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, ids := 0, map[int64]bool{}
		for i := range 8 {
			wg.Go(func() {
				d, made, err := svcs[i%2].AddFile(ctx, prof, weekID, filepath.Join("..", "..", "testdata", "themes", "contracts-reading.pdf"))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("add %d: %v", i, err)
					return
				}
				ids[d.ID] = true
				if made {
					created++
				}
			})
		}
		wg.Wait()
		var rows, jobRows int
		a.Read.QueryRow(`SELECT count(*) FROM documents`).Scan(&rows)
		a.Read.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'ingest_document'`).Scan(&jobRows)
		if created != 1 || len(ids) != 1 || rows != 1 || jobRows != 1 {
			t.Errorf("%d created, %d ids given, %d rows and %d jobs stored; want one of each", created, len(ids), rows, jobRows)
		}
	})
}
