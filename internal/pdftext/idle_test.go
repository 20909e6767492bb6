package pdftext

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// waitStats polls e.Stats until ok accepts it or a generous deadline passes.
func waitStats(t *testing.T, e *Extractor, what string, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %+v after 30s", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleReaderStopsAndRestarts: nothing runs before the first document;
// PDFium starts for it, stops once it has been idle for IdleTimeout, and the
// next document starts it again and reads the same text.
func TestIdleReaderStopsAndRestarts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Corpus(), "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus PDFs: %v", err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{CacheDir: testenv.WazeroCache(), Workers: 2, IdleTimeout: 300 * time.Millisecond})
	defer e.Close()
	if st := e.Stats(); st.Running || st.Starts != 0 {
		t.Fatalf("a new extractor runs PDFium before any work: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first, err := e.Extract(ctx, data, 0, func(int, int) {
		// While a document is read, the reader is up and busy.
		if st := e.Stats(); !st.Running || st.Busy != 1 {
			t.Errorf("during a read: %+v", st)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Starts != 1 {
		t.Fatalf("after one document: %+v, want one start", st)
	}
	st := waitStats(t, e, "idle stop", func(s Stats) bool { return !s.Running })
	if st.Stops != 1 || st.Busy != 0 {
		t.Fatalf("after the idle stop: %+v", st)
	}
	if ready, err := e.Ready(); !ready || err != nil {
		t.Fatalf("a stopped reader must still say it can take work: %v %v", ready, err)
	}
	again, err := e.Extract(ctx, data, 0, nil)
	if err != nil {
		t.Fatalf("after an idle stop: %v", err)
	}
	if len(again) != len(first) || again[0] != first[0] {
		t.Fatalf("the restarted reader read %d pages, the first %d", len(again), len(first))
	}
	if st := e.Stats(); st.Starts != 2 {
		t.Fatalf("the second document did not restart PDFium: %+v", st)
	}
	waitStats(t, e, "second idle stop", func(s Stats) bool { return !s.Running && s.Stops == 2 })
}

// TestBusyReaderIsNotStopped: a read that lasts longer than IdleTimeout
// keeps PDFium up; the idle clock starts when the last user leaves.
func TestBusyReaderIsNotStopped(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Corpus(), "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus PDFs: %v", err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{CacheDir: testenv.WazeroCache(), Workers: 1, IdleTimeout: 100 * time.Millisecond})
	defer e.Close()
	ctx := context.Background()
	// Hold the reader across several idle periods: each page waits.
	pages, err := e.Extract(ctx, data, 0, func(done, total int) {
		if done <= 3 {
			time.Sleep(150 * time.Millisecond)
		}
	})
	if err != nil || len(pages) == 0 {
		t.Fatalf("extract: %d pages, %v", len(pages), err)
	}
	if st := e.Stats(); st.Stops != 0 || st.Starts != 1 {
		t.Fatalf("the reader was stopped while a document was read: %+v", st)
	}
	waitStats(t, e, "idle stop", func(s Stats) bool { return !s.Running && s.Stops == 1 })
}

// TestClosedReaderRefuses: after Close nothing starts again.
func TestClosedReaderRefuses(t *testing.T) {
	e := New(Options{CacheDir: testenv.WazeroCache(), Workers: 1})
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PageCount(context.Background(), []byte("%PDF-1.4")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a closed reader: %v, want ErrUnavailable", err)
	}
	if st := e.Stats(); st.Running || st.Starts != 0 {
		t.Fatalf("a closed reader started PDFium: %+v", st)
	}
}

// TestReaderAcrossIdleStops: callers arriving while PDFium stops and
// starts again (a very short idle period) all get their answer.
func TestReaderAcrossIdleStops(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Corpus(), "*.pdf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus PDFs: %v", err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{CacheDir: testenv.WazeroCache(), Workers: 2, IdleTimeout: 5 * time.Millisecond})
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want, err := e.PageCount(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	waitStats(t, e, "first idle stop", func(s Stats) bool { return !s.Running })
	errs := make(chan error, 24)
	for g := range 4 {
		go func() {
			for i := range 6 {
				time.Sleep(time.Duration((g*7+i*3)%12) * time.Millisecond)
				n, err := e.PageCount(ctx, data)
				if err == nil && n != want {
					err = fmt.Errorf("%d pages, want %d", n, want)
				}
				errs <- err
			}
		}()
	}
	for range 24 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st := waitStats(t, e, "final idle stop", func(s Stats) bool { return !s.Running })
	if st.Starts < 2 || st.Stops != st.Starts || st.Busy != 0 {
		t.Fatalf("after calls across idle stops: %+v (want several starts, each stopped)", st)
	}
}
