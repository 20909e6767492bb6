package blob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// namedStores runs fn on each Named implementation; the S3 one shares a
// bucket with an upload store, as serve's do. age makes the store's clock
// run ahead (S3's sweep grace); Local ignores it.
func namedStores(t *testing.T, fn func(t *testing.T, s Named, scratch string, age func(time.Duration))) {
	t.Run("local", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, NewNamed(dir), filepath.Join(dir, "tmp"), func(time.Duration) {})
	})
	t.Run("s3", func(t *testing.T) {
		s3, err := NewS3(S3Config{Bucket: "files", Prefix: "school", Endpoint: fakeS3(t, "files"), Region: "us-east-1", AccessKey: "test", SecretKey: "test-secret"}, func(context.Context, string) (bool, error) { return false, nil })
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s3.Named("recordings"), t.TempDir(), func(d time.Duration) { s3.now = func() time.Time { return time.Now().Add(d) } })
	})
}

func scratchFile(t *testing.T, dir, body string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "audio-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

func TestNamedKeepOpenRemove(t *testing.T) {
	namedStores(t, func(t *testing.T, s Named, scratch string, age func(time.Duration)) {
		ctx := context.Background()
		src := scratchFile(t, scratch, "OggS a recording")
		if _, err := s.Keep(ctx, "session-7-00aa.ogg", src); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(src); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the scratch file is still there after Keep: %v", err)
		}
		r, err := s.Open(ctx, "session-7-00aa.ogg")
		if err != nil {
			t.Fatal(err)
		}
		// Downloads serve ranges: seek into the file.
		if _, err := r.Seek(5, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(b) != "a recording" {
			t.Fatalf("read %q, %v after seeking to 5", b, err)
		}
		age(SweepGrace + time.Minute)
		if got, err := s.Sweepable(ctx); err != nil || !slices.Equal(got, []string{"session-7-00aa.ogg"}) {
			t.Fatalf("Sweepable = %v, %v", got, err)
		}
		if err := s.Remove(ctx, "session-7-00aa.ogg"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ctx, "session-7-00aa.ogg"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open after Remove: %v, want fs.ErrNotExist", err)
		}
		if err := s.Remove(ctx, "session-7-00aa.ogg"); err != nil {
			t.Fatalf("removing a missing file: %v", err)
		}
		if got, _ := s.Sweepable(ctx); len(got) != 0 {
			t.Fatalf("Sweepable after Remove = %v", got)
		}
	})
}

// A failed Keep stores nothing and leaves the scratch file to its caller;
// undo removes a kept file.
func TestNamedNoOrphan(t *testing.T) {
	namedStores(t, func(t *testing.T, s Named, scratch string, age func(time.Duration)) {
		ctx := context.Background()
		age(SweepGrace + time.Minute)
		if _, err := s.Keep(ctx, "session-1-ab.ogg", filepath.Join(scratch, "gone")); err == nil {
			t.Fatal("Keep of a missing file succeeded")
		}
		src := scratchFile(t, scratch, "OggS")
		for _, bad := range []string{"../session-1.ogg", "a/b", "", ".hidden", "Session-1.OGG"} {
			if _, err := s.Keep(ctx, bad, src); !errors.Is(err, ErrBadName) {
				t.Errorf("Keep(%q) = %v, want ErrBadName", bad, err)
			}
		}
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("a refused Keep removed the scratch file: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Keep(cctx, "session-1-cd.ogg", src); err == nil {
			if _, ok := s.(*LocalNamed); !ok {
				t.Fatal("Keep with a cancelled context succeeded on S3")
			}
		} else if _, err := os.Stat(src); err != nil {
			t.Fatalf("a failed Keep removed the scratch file: %v", err)
		}
		want := []string(nil) // a local rename does not look at the context
		if _, ok := s.(*LocalNamed); ok {
			want = []string{"session-1-cd.ogg"}
		}
		if got, _ := s.Sweepable(ctx); !slices.Equal(got, want) {
			t.Fatalf("after failed Keeps: %v, want %v", got, want)
		}
		src = scratchFile(t, scratch, "OggS again")
		undo, err := s.Keep(ctx, "session-1-ef.ogg", src)
		if err != nil {
			t.Fatal(err)
		}
		undo()
		if _, err := s.Open(ctx, "session-1-ef.ogg"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open after undo: %v", err)
		}
		got, _ := s.Sweepable(ctx)
		if slices.Contains(got, "session-1-ab.ogg") || slices.Contains(got, "session-1-ef.ogg") {
			t.Fatalf("left behind: %v", got)
		}
	})
}

// Recordings and uploads share the bucket without meeting: the upload
// store lists no recording, and the recordings live under prefix/recordings/.
func TestNamedBesideUploads(t *testing.T) {
	ctx := context.Background()
	endpoint := fakeS3(t, "files")
	s3, err := NewS3(S3Config{Bucket: "files", Prefix: "school", Endpoint: endpoint, Region: "us-east-1", AccessKey: "test", SecretKey: "test-secret"}, func(context.Context, string) (bool, error) { return false, nil })
	if err != nil {
		t.Fatal(err)
	}
	rec := s3.Named("recordings")
	if _, err := rec.Keep(ctx, "session-3-99.wav", scratchFile(t, t.TempDir(), "RIFF")); err != nil {
		t.Fatal(err)
	}
	if got, err := s3.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("the upload store lists %v, %v", got, err)
	}
	if _, err := s3.client.StatObject(ctx, "files", "school/recordings/session-3-99.wav", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("the recording is not at school/recordings/: %v", err)
	}
}
