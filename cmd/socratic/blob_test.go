package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/config"
)

// TestBlobURLChoosesTheS3Store: with BLOB_URL the server's upload store is
// the bucket, checked at start — a bucket that does not exist stops the
// start naming BLOB_URL and the bucket — and files put through it land
// in the bucket under prefix/ab/sum; without BLOB_URL it is UPLOAD_DIR.
func TestBlobURLChoosesTheS3Store(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("law-uploads"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	open := func(env ...string) (*deps, error) {
		t.Helper()
		dir := t.TempDir()
		cfg, err := config.Load(append(withEngine(t, dir, []string{"DATA_DIR=" + dir, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test-secret",
			"AWS_ENDPOINT_URL=" + srv.URL, "AWS_REGION=us-east-1"}), env...), "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := openDeps(ctx, cfg, log)
		if err == nil {
			t.Cleanup(func() { d.close() })
		}
		return d, err
	}
	if _, err := open("BLOB_URL=s3://no-such-bucket/x"); err == nil || !strings.Contains(err.Error(), "BLOB_URL") || !strings.Contains(err.Error(), "no-such-bucket does not exist") {
		t.Fatalf("a missing bucket: %v", err)
	}
	d, err := open("BLOB_URL=s3://law-uploads/school")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.files.(*blob.S3); !ok {
		t.Fatalf("store %T, want the S3 store", d.files)
	}
	if _, ok := d.recordings.(*blob.S3Named); !ok {
		t.Fatalf("recordings in %T, want the bucket's", d.recordings)
	}
	data := []byte("%PDF-1.4 stored in the bucket")
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	if err := d.files.Put(ctx, sum, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	obj, err := backend.GetObject("law-uploads", "school/"+sum[:2]+"/"+sum, nil)
	if err != nil {
		t.Fatalf("the object is not in the bucket: %v", err)
	}
	got, _ := io.ReadAll(obj.Contents)
	obj.Contents.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("bucket holds %q", got)
	}
	if d, err := open(); err != nil {
		t.Fatal(err)
	} else if _, ok := d.files.(*blob.Local); !ok || d.recordings != nil {
		t.Fatalf("without BLOB_URL the store is %T and recordings go to %T (want SESSION_DIR's default)", d.files, d.recordings)
	}
}
