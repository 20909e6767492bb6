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
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
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
	// An upload left by a crash, and one in progress: on PostgreSQL another
	// instance may be receiving it, so only a file older than the grace
	// period goes; on SQLite the one process is sweeping at its start, so
	// both go.
	stale := filepath.Join(s.incoming(), "upload-123")
	write(stale)
	old := time.Now().Add(-2 * blob.SweepGrace)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(s.incoming(), "upload-456")
	write(fresh)
	want := 3
	if db.Engine == sqlite.Postgres {
		want = 2
	}
	n, err := s.Sweep(ctx)
	if err != nil || n != want {
		t.Fatalf("Sweep on %s = %d, %v; want %d removed", db.Engine, n, err, want)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale upload was kept: %v", err)
	}
	if _, err := os.Stat(fresh); (db.Engine == sqlite.Postgres) != (err == nil) {
		t.Errorf("an upload in progress on %s: %v", db.Engine, err)
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
	db := sqlitetest.OpenMigrated(t)
	now := sqlite.FormatTime(time.Now())
	// The first row of each table in a new database is id 1 on both
	// engines (PostgreSQL refuses an explicit id for an identity column).
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES ('C', 'C', 'J', ?, ?) RETURNING id`, []any{now, now}},
		{`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (1, 1, ?, ?) RETURNING id`, []any{now, now}},
		{`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (1, 'a.pdf', ?, 1, ?, ?) RETURNING id`, []any{sum, status, now}},
	} {
		var id int64
		if err := db.Write.QueryRow(q.sql, q.args...).Scan(&id); err != nil || id != 1 {
			t.Fatalf("%s: id %d, %v", q.sql, id, err)
		}
	}
	return db
}
