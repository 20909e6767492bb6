package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
)

// fakeS3 serves an in-process S3 (gofakes3) with one bucket and returns
// its endpoint.
func fakeS3(t *testing.T, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

// stores runs fn on each Store implementation, each with its own inUse.
func stores(t *testing.T, fn func(t *testing.T, s Store, inUse *usage)) {
	t.Run("local", func(t *testing.T) {
		u := &usage{used: map[string]bool{}}
		fn(t, New(t.TempDir(), u.check), u)
	})
	t.Run("s3", func(t *testing.T) {
		u := &usage{used: map[string]bool{}}
		s, err := NewS3(S3Config{Bucket: "uploads", Prefix: "school/files", Endpoint: fakeS3(t, "uploads"), Region: "us-east-1", AccessKey: "test", SecretKey: "test-secret"}, u.check)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
		fn(t, s, u)
	})
}

// usage is a stand-in for the database rows naming files.
type usage struct {
	mu   sync.Mutex
	used map[string]bool
	fail error
}

func (u *usage) check(_ context.Context, sum string) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.used[sum], u.fail
}

func (u *usage) set(sum string, v bool) {
	u.mu.Lock()
	u.used[sum] = v
	u.mu.Unlock()
}

func sumOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func read(t *testing.T, s Store, sum string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), sum)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func list(t *testing.T, s Store) []string {
	t.Helper()
	l, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestStoreContract: both stores write, read, list, fetch to a local file,
// reuse a stored file without reading the new bytes, refuse bytes that do
// not match their name, and leave nothing behind a failed write.
func TestStoreContract(t *testing.T) {
	stores(t, func(t *testing.T, s Store, _ *usage) {
		ctx := context.Background()
		a, b := []byte("%PDF-1.4 a case brief"), []byte("another file")
		sa, sb := sumOf(a), sumOf(b)
		for _, f := range [][]byte{a, b} {
			if err := s.Put(ctx, sumOf(f), bytes.NewReader(f)); err != nil {
				t.Fatal(err)
			}
		}
		if got := read(t, s, sa); !bytes.Equal(got, a) {
			t.Fatalf("read %q", got)
		}
		want := []string{sa, sb}
		if sb < sa {
			want = []string{sb, sa}
		}
		if got := list(t, s); !slicesEqual(got, want) {
			t.Fatalf("List = %v, want %v", got, want)
		}
		if ok, err := s.Exists(ctx, sa); err != nil || !ok {
			t.Fatalf("Exists = %v, %v", ok, err)
		}
		p, done, err := s.LocalPath(ctx, sb, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("local copy %q, %v", got, err)
		}
		done()
		// A stored file is reused: the reader is not even read.
		if err := s.Put(ctx, sa, iotestErr{}); err != nil {
			t.Fatalf("reusing a stored file: %v", err)
		}
		missing := sumOf([]byte("never stored"))
		if _, err := s.Open(ctx, missing); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open of a missing file: %v", err)
		}
		if ok, err := s.Exists(ctx, missing); err != nil || ok {
			t.Fatalf("Exists of a missing file: %v, %v", ok, err)
		}
		if err := s.Put(ctx, "../../etc/passwd", bytes.NewReader(a)); !errors.Is(err, ErrBadSum) {
			t.Fatalf("Put under a made-up name: %v", err)
		}
		// Bytes that do not hash to their name, and a write that fails half
		// way, leave nothing.
		if err := s.Put(ctx, missing, bytes.NewReader(a)); !errors.Is(err, ErrSumMismatch) {
			t.Fatalf("Put of mismatched bytes: %v", err)
		}
		if err := s.Put(ctx, missing, io.MultiReader(strings.NewReader("half a file"), iotestErr{})); err == nil {
			t.Fatal("a failing reader's Put succeeded")
		}
		if got := list(t, s); !slicesEqual(got, want) {
			t.Fatalf("after failed writes List = %v, want %v", got, want)
		}
		if l, ok := s.(*Local); ok {
			if leftovers := walk(t, l.Dir()); len(leftovers) != 2 {
				t.Fatalf("files on disk after failed writes: %v", leftovers)
			}
		}
	})
}

// TestS3KeysAreTheLocalLayout: the S3 store names objects
// prefix/ab/abcdef…, as Local names files dir/ab/abcdef….
func TestS3KeysAreTheLocalLayout(t *testing.T) {
	ctx := context.Background()
	s, err := NewS3(S3Config{Bucket: "uploads", Prefix: "/school/", Endpoint: fakeS3(t, "uploads"), Region: "us-east-1", AccessKey: "k", SecretKey: "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("bytes")
	sum := sumOf(b)
	if err := s.Put(ctx, sum, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for o := range s.client.ListObjects(ctx, "uploads", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if want := "school/" + sum[:2] + "/" + sum; len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys %v, want [%s]", keys, want)
	}
}

// TestStoreReleaseContract: Release removes only files nothing names,
// ignores missing ones, keeps a file whose check failed and reports it.
func TestStoreReleaseContract(t *testing.T) {
	stores(t, func(t *testing.T, s Store, u *usage) {
		ctx := context.Background()
		used, unused := []byte("used"), []byte("unused")
		for _, f := range [][]byte{used, unused} {
			if err := s.Put(ctx, sumOf(f), bytes.NewReader(f)); err != nil {
				t.Fatal(err)
			}
		}
		u.set(sumOf(used), true)
		missing := sumOf([]byte("missing"))
		if n, err := s.Release(ctx, []string{sumOf(used), sumOf(unused), sumOf(unused), missing}); err != nil || n != 1 {
			t.Fatalf("Release = %d, %v; want 1 removed", n, err)
		}
		if got := list(t, s); !slicesEqual(got, []string{sumOf(used)}) {
			t.Fatalf("after Release: %v", got)
		}
		u.set(sumOf(used), false)
		u.fail = errors.New("db down")
		if _, err := s.Release(ctx, []string{sumOf(used)}); !errors.Is(err, u.fail) {
			t.Fatalf("Release with a failing check: %v", err)
		}
		if got := list(t, s); len(got) != 1 {
			t.Fatalf("a file was removed after a failed check: %v", got)
		}
	})
}

// TestReleaseRacingReuse: a writer that reuses a stored file inside
// WithLock (Put, then the row naming it) and a Release of the same file at
// the same time never end with the row naming a missing file.
func TestReleaseRacingReuse(t *testing.T) {
	stores(t, func(t *testing.T, s Store, u *usage) {
		ctx := context.Background()
		b := []byte("shared by two weeks")
		sum := sumOf(b)
		var lost atomic.Int32
		for range 30 {
			u.set(sum, false)
			if err := s.Put(ctx, sum, bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				if _, err := s.Release(ctx, []string{sum}); err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				err := s.WithLock(func() error {
					if err := s.Put(ctx, sum, bytes.NewReader(b)); err != nil {
						return err
					}
					u.set(sum, true) // the row naming it
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
			wg.Wait()
			if ok, err := s.Exists(ctx, sum); err != nil || !ok {
				lost.Add(1)
			}
		}
		if n := lost.Load(); n > 0 {
			t.Fatalf("%d of 30 rounds left a row naming a removed file", n)
		}
	})
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("the client went away") }

func slicesEqual(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func walk(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestSweepableSparesFreshObjectsOnS3: a start-up sweep on S3 is offered
// only objects older than SweepGrace, so it cannot release a file another
// instance stored a moment ago and has not yet named in a row; the local
// store offers every file.
func TestSweepableSparesFreshObjectsOnS3(t *testing.T) {
	stores(t, func(t *testing.T, s Store, _ *usage) {
		ctx := context.Background()
		b := []byte("just stored")
		if err := s.Put(ctx, sumOf(b), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Sweepable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s3, onS3 := s.(*S3)
		if onS3 && len(got) != 0 || !onS3 && !slicesEqual(got, []string{sumOf(b)}) {
			t.Fatalf("sweepable just after the write: %v", got)
		}
		if !onS3 {
			return
		}
		s3.now = func() time.Time { return time.Now().Add(SweepGrace + time.Minute) }
		if got, err := s.Sweepable(ctx); err != nil || !slicesEqual(got, []string{sumOf(b)}) {
			t.Fatalf("sweepable past the grace: %v, %v", got, err)
		}
	})
}

// TestAdoptContract: Adopt stores a local file under its sum (the local
// store moves it, S3 uploads it), says when the file was stored already,
// and its undo removes a file it stored.
func TestAdoptContract(t *testing.T) {
	stores(t, func(t *testing.T, s Store, _ *usage) {
		ctx := context.Background()
		b := []byte("an upload")
		sum := sumOf(b)
		src := filepath.Join(t.TempDir(), "in")
		if err := os.WriteFile(src, b, 0o600); err != nil {
			t.Fatal(err)
		}
		existed, undo, err := s.Adopt(ctx, sum, src)
		if err != nil || existed {
			t.Fatalf("Adopt = %v, %v", existed, err)
		}
		if got := read(t, s, sum); !bytes.Equal(got, b) {
			t.Fatalf("read %q", got)
		}
		if err := os.WriteFile(src, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if again, _, err := s.Adopt(ctx, sum, src); err != nil || !again {
			t.Fatalf("second Adopt = %v, %v; want it found stored", again, err)
		}
		undo()
		if got := list(t, s); len(got) != 0 {
			t.Fatalf("after undo: %v", got)
		}
	})
}
