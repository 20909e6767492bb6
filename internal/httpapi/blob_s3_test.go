package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lawtutor/socratic/internal/config"
)

// withFakeS3 points the fixture's upload store at an in-process S3
// (gofakes3) bucket, as BLOB_URL=s3://uploads/school would, and returns the
// fake's backend to look into.
func withFakeS3(t *testing.T) (fixtureOption, *s3mem.Backend) {
	backend := s3mem.New()
	if err := backend.CreateBucket("uploads"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return func(c *config.Config) {
		c.BlobURL, c.BlobBucket, c.BlobPrefix = "s3://uploads/school", "uploads", "school"
		c.AWSEndpointURL, c.AWSRegion, c.AWSAccessKeyID, c.AWSSecretAccessKey = srv.URL, "us-east-1", "test", "test-secret"
	}, backend
}

// TestUploadsOnS3: with the S3 store an upload lands in the bucket under
// its content address (nothing stays in UPLOAD_DIR but the empty incoming
// folder), PDFium processes it from a fetched copy, the file downloads with
// its bytes, and deleting the document removes the object.
func TestUploadsOnS3(t *testing.T) {
	opt, backend := withFakeS3(t)
	w := newWorldWith(t, newIngestingFixture(t, opt))
	data, err := os.ReadFile(filepath.Join(corpusDir, "ca3-travelers-indemnity-v-dammann-2010.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	res := w.upload("teaching", w.week.ID, "dammann.pdf", data)
	if res.status != 202 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	id := int64(res.json(t)["document_id"].(float64))
	if st := w.f.waitDocuments(t, 2*time.Minute); st[id] != "processed" {
		t.Fatalf("document %d: %s", id, st[id])
	}
	key := "school/" + sum[:2] + "/" + sum
	obj, err := backend.GetObject("uploads", key, nil)
	if err != nil {
		t.Fatalf("object %s: %v", key, err)
	}
	stored, _ := io.ReadAll(obj.Contents)
	obj.Contents.Close()
	if !bytes.Equal(stored, data) {
		t.Fatalf("the bucket holds %d bytes, want the upload's %d", len(stored), len(data))
	}
	if files := w.f.uploadsOnDisk(t); len(files) != 0 {
		t.Fatalf("UPLOAD_DIR keeps %v", files)
	}
	got := w.f.do(get("/api/documents/"+itoa(id)+"/file", w.persona["enrolled"]))
	if got.status != 200 || !bytes.Equal(got.body, data) {
		t.Fatalf("download: %d, %d bytes", got.status, len(got.body))
	}
	if files := w.f.uploadsOnDisk(t); len(files) != 0 {
		t.Fatalf("the download left %v in UPLOAD_DIR", files)
	}
	if res := w.f.do(request{method: "DELETE", path: "/api/documents/" + itoa(id), token: w.persona["teaching"]}); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if _, err := backend.HeadObject("uploads", key); err == nil {
		t.Fatalf("object %s kept after its only document was deleted", key)
	}
}

// TestRecordingsOnS3: with BLOB_URL a session's recording lands in the
// bucket under prefix/recordings/ with the server's name for it (SESSION_DIR
// keeps nothing), and downloads from there (http.ServeContent seeks the
// object to its end for its size).
func TestRecordingsOnS3(t *testing.T) {
	opt, backend := withFakeS3(t)
	w := newSessionWorld(t, nil, opt)
	data := wav(4 << 10)
	id := w.startAs(t, "enrolled")
	body, ct := multipartBody("audio", "../../etc/passwd", data)
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: body, contentType: ct}); res.status != 200 {
		t.Fatalf("end: %d %s", res.status, res.body)
	}
	var name string
	if err := w.f.db.Read.QueryRow(`SELECT audio_name FROM sessions WHERE id = ?`, id).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, "session-"+itoa(id)+"-") || strings.Contains(name, "passwd") {
		t.Fatalf("stored as %q", name)
	}
	obj, err := backend.GetObject("uploads", "school/recordings/"+name, nil)
	if err != nil {
		t.Fatalf("the recording is not in the bucket: %v", err)
	}
	stored, _ := io.ReadAll(obj.Contents)
	obj.Contents.Close()
	if !bytes.Equal(stored, data) {
		t.Fatalf("the bucket holds %d bytes, want %d", len(stored), len(data))
	}
	entries, _ := os.ReadDir(w.f.cfg.SessionDir)
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("SESSION_DIR keeps %s", e.Name())
		}
	}
	got := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id) + "/audio", token: w.persona["teaching"]})
	if got.status != 200 || !bytes.Equal(got.body, data) {
		t.Fatalf("download: %d, %d bytes", got.status, len(got.body))
	}
}
