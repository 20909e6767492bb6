package document

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// TestFailureClassification: a failure another attempt may fix leaves the
// document queued and is returned for the queue to retry; the last attempt's
// failure, and any permanent one, mark it failed with a reason, and only the
// permanent one is cancelled (not retried).
func TestFailureClassification(t *testing.T) {
	ctx := context.Background()
	db := oneDocument(t, strings.Repeat("a", 64), "processing")
	s := NewService(db, blob.New(t.TempDir(), FileInUse(db.Read)), nil, Limits{}, nil)
	status := func() (string, string) {
		var st, reason string
		db.Read.QueryRow(`SELECT status, error FROM documents WHERE id = 1`).Scan(&st, &reason)
		return st, reason
	}
	transient := errors.New("database is locked")
	err := s.failed(ctx, 1, transient, false)
	var cancel *river.JobCancelError
	if !errors.Is(err, transient) || errors.As(err, &cancel) {
		t.Errorf("transient: %v", err)
	}
	if st, _ := status(); st != "queued" {
		t.Errorf("after a transient failure: %s", st)
	}
	err = s.failed(ctx, 1, transient, true)
	if st, reason := status(); st != "failed" || !strings.Contains(reason, "several attempts") || errors.As(err, &cancel) {
		t.Errorf("last attempt: %s %q %v", st, reason, err)
	}
	err = s.failed(ctx, 1, errPermanent{"the file is encrypted"}, false)
	if st, reason := status(); st != "failed" || reason != "the file is encrypted" || !errors.As(err, &cancel) {
		t.Errorf("permanent: %s %q %v", st, reason, err)
	}
}

func TestStripBoilerplate(t *testing.T) {
	var pages []string
	for i := 1; i <= 6; i++ {
		lines := []string{"Case: 20-1507 Document: 00117684624 Page: " + itoa(i) + " Date Filed: 12/22/2020 Entry ID: 6390010"}
		for j := range 8 {
			lines = append(lines, "Body text that differs "+strings.Repeat("x", i+j))
		}
		// The same sentence on every page, but inside the page: text.
		lines = append(lines[:4], append([]string{"The court considered the question of standing on page " + itoa(i) + "."}, lines[4:]...)...)
		pages = append(pages, strings.Join(append(lines, itoa(i)), "\n"))
	}
	out := stripBoilerplate(pages)
	for i, p := range out {
		if strings.Contains(p, "Entry ID") || strings.HasSuffix(p, "\n"+itoa(i+1)) {
			t.Errorf("page %d kept boilerplate:\n%s", i+1, p)
		}
		if !strings.Contains(p, "standing on page") || !strings.Contains(p, "Body text") {
			t.Errorf("page %d lost its text:\n%s", i+1, p)
		}
	}
	// Too few pages to tell a running head from text: only page numbers go.
	short := stripBoilerplate([]string{"Heading\nText one\n1", "Heading\nText two\n2"})
	if short[0] != "Heading\nText one" || short[1] != "Heading\nText two" {
		t.Errorf("short document: %q", short)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSweepRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	used, orphan := strings.Repeat("a", 64), strings.Repeat("b", 64)
	db := oneDocument(t, used, "processed")
	store := blob.New(t.TempDir(), FileInUse(db.Read))
	s := NewService(db, store, nil, Limits{}, nil)
	write := func(p string) {
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pu, _ := store.Path(used)
	po, _ := store.Path(orphan)
	write(pu)
	write(po)
	write(filepath.Join(s.incoming(), "upload-123"))
	n, err := s.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 removed", n, err)
	}
	if _, err := os.Stat(pu); err != nil {
		t.Errorf("a file a document names was removed: %v", err)
	}
	if _, err := os.Stat(po); !os.IsNotExist(err) {
		t.Errorf("orphan kept: %v", err)
	}
}

// oneDocument is a migrated database holding one course, one week and one
// document (id 1) with the given content hash and status.
func oneDocument(t *testing.T, sum, status string) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := sqlite.FormatTime(time.Now())
	for _, q := range []string{
		`INSERT INTO courses (id, code, name, join_code, created_at, updated_at) VALUES (1, 'C', 'C', 'J', ?1, ?1)`,
		`INSERT INTO weeks (id, course_id, week_number, created_at, updated_at) VALUES (1, 1, 1, ?1, ?1)`,
		`INSERT INTO documents (id, week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (1, 1, 'a.pdf', ?2, 1, ?3, ?1)`,
	} {
		if _, err := db.Write.Exec(q, now, sum, status); err != nil {
			t.Fatal(err)
		}
	}
	return db
}
