package httpapi

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/config"
)

func TestUploadSameBytesTwiceAndFilenames(t *testing.T) {
	w := newWorld(t)
	data := textPDF("Palsgraf v. Long Island Railroad: proximate cause and the foreseeable plaintiff.")
	first := w.upload("teaching", w.week.ID, "../../etc/passwd.pdf", data)
	if first.status != 202 {
		t.Fatalf("first upload: %d %s", first.status, first.body)
	}
	id := first.json(t)["document_id"]
	again := w.upload("admin", w.week.ID, "copy.pdf", data)
	if again.status != 200 || again.json(t)["document_id"] != id {
		t.Fatalf("same bytes again: %d %s", again.status, again.body)
	}
	w.assertCount(t, "documents", 1)
	w.assertCount(t, "river_job", 1)
	// The client's name is shown, cleaned, and never used on disk.
	d := decode[Document](t, w.f.do(get("/api/documents/"+itoa(int64(id.(float64))), w.persona["teaching"])))
	if d.OriginalFilename != "passwd.pdf" {
		t.Errorf("filename = %q", d.OriginalFilename)
	}
	// A NUL breaks the multipart header itself: a clear refusal, nothing kept.
	if res := w.upload("teaching", w.week.ID, "a\x00b.pdf", textPDF("nul")); res.status != 422 || !strings.Contains(string(res.body), "multipart") {
		t.Errorf("NUL in the filename: %d %s", res.status, res.body)
	}
	w.assertCount(t, "documents", 1)
	for _, name := range []string{"b\u202eFDP.exe.pdf", strings.Repeat("x", 300) + ".pdf", "..", "\\..\\win.pdf"} {
		res := w.upload("teaching", w.week.ID, name, textPDF("another reading "+name[:1]))
		if res.status != 202 {
			t.Fatalf("%q: %d %s", name, res.status, res.body)
		}
		d := decode[Document](t, w.f.do(get("/api/documents/"+itoa(int64(res.json(t)["document_id"].(float64))), w.persona["teaching"])))
		if strings.ContainsAny(d.OriginalFilename, "\x00/\\\u202e") || len([]rune(d.OriginalFilename)) > 255 || d.OriginalFilename == "" || d.OriginalFilename == ".." {
			t.Errorf("%q stored as %q", name, d.OriginalFilename)
		}
	}
	for _, f := range w.f.uploadsOnDisk(t) {
		if len(filepath.Base(f)) != 64 || strings.Contains(f, "passwd") || strings.Contains(f, "xxx") {
			t.Errorf("file on disk not named by hash: %s", f)
		}
	}
}

func TestDocumentAccess(t *testing.T) {
	w := newWorld(t)
	res := w.upload("teaching", w.week.ID, "reading.pdf", textPDF("Duty of care."))
	if res.status != 202 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	doc := "/api/documents/" + itoa(int64(res.json(t)["document_id"].(float64)))
	week := itoa(w.week.ID)
	cases := []struct {
		who, method, path string
		want              int
	}{
		{"enrolled", "GET", "/api/documents?week_id=" + week, 200},
		{"enrolled", "GET", doc, 200},
		{"enrolled", "GET", doc + "/file", 200},
		{"enrolled", "GET", doc + "/chunks", 403},
		{"enrolled", "POST", doc + "/reprocess", 403},
		{"enrolled", "DELETE", doc, 403},
		{"not enrolled", "GET", "/api/documents?week_id=" + week, 404},
		{"not enrolled", "GET", doc, 404},
		{"not enrolled", "GET", doc + "/file", 404},
		{"not teaching", "GET", doc + "/chunks", 404},
		{"not teaching", "DELETE", doc, 404},
		{"anonymous", "GET", doc, 401},
		{"teaching", "GET", doc + "/chunks", 200},
		{"admin", "GET", "/api/documents/999999", 404},
		{"teaching", "POST", doc + "/reprocess", 409}, // still queued
	}
	for _, c := range cases {
		res := w.f.do(request{method: c.method, path: c.path, token: w.persona[c.who]})
		if res.status != c.want {
			t.Errorf("%s %s as %s: %d, want %d: %s", c.method, c.path, c.who, res.status, c.want, res.body)
		}
	}
	for _, who := range []string{"enrolled", "not enrolled", "not teaching"} {
		if res := w.upload(who, w.week.ID, "x.pdf", textPDF("x")); res.status != map[string]int{"enrolled": 403, "not enrolled": 404, "not teaching": 404}[who] {
			t.Errorf("upload as %s: %d", who, res.status)
		}
	}
	if res := w.upload("teaching", 999999, "x.pdf", textPDF("x")); res.status != 404 {
		t.Errorf("upload to an unknown week: %d", res.status)
	}
	file := w.f.do(get(doc+"/file", w.persona["enrolled"]))
	if file.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(file.header.Get("Content-Disposition"), "attachment") || !bytes.HasPrefix(file.body, []byte("%PDF-")) {
		t.Errorf("file: %v %q", file.header, file.body[:min(20, len(file.body))])
	}
}

// TestDeleteAndReprocess: a processed document is searchable; reprocessing
// replaces its passages; deleting it removes the file and the rows, so no
// search finds its text again.
func TestDeleteAndReprocess(t *testing.T) {
	w := newWorldWith(t, newIngestingFixture(t))
	data, err := os.ReadFile(filepath.Join(corpusDir, "ca7-lopez-v-thurmer-2010.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	res := w.upload("teaching", w.week.ID, "lopez.pdf", data)
	if res.status != 202 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	doc := "/api/documents/" + itoa(int64(res.json(t)["document_id"].(float64)))
	w.f.waitDocuments(t, time.Minute)
	hits := func() int {
		res := w.f.do(post("/api/weeks/"+itoa(w.week.ID)+"/search", w.persona["teaching"], `{"query":"habeas","k":20}`))
		if res.status != 200 {
			t.Fatalf("search: %d %s", res.status, res.body)
		}
		return len(res.json(t)["items"].([]any))
	}
	before := hits()
	if before == 0 {
		t.Fatal("a processed habeas opinion has no passage matching 'habeas'")
	}
	if res := w.f.do(request{method: "POST", path: doc + "/reprocess", token: w.persona["teaching"]}); res.status != 202 || res.json(t)["status"] != "queued" {
		t.Fatalf("reprocess: %d %s", res.status, res.body)
	}
	w.f.waitDocuments(t, time.Minute)
	var chunks, distinct int
	w.f.db.Read.QueryRow(`SELECT count(*), count(DISTINCT chunk_index) FROM chunks`).Scan(&chunks, &distinct)
	if hits() != before || chunks != distinct {
		t.Errorf("after reprocess: %d matches (was %d), %d chunks for %d indexes", hits(), before, chunks, distinct)
	}
	if res := w.f.do(request{method: "DELETE", path: doc, token: w.persona["teaching"]}); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	w.assertCount(t, "documents", 0)
	w.assertCount(t, "chunks", 0)
	if n := hits(); n != 0 {
		t.Errorf("search still finds %d deleted passages", n)
	}
	if files := w.f.uploadsOnDisk(t); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
	if res := w.f.do(get(doc, w.persona["teaching"])); res.status != 404 {
		t.Errorf("deleted document: %d", res.status)
	}
}

// TestHostileDocumentsFailCleanly: a 17 KB PDF whose one content stream
// inflates to 2 GiB is refused at upload with nothing kept, and the server
// goes on; a PDF with no text at all ends failed with a reason a professor
// understands.
func TestHostileDocumentsFailCleanly(t *testing.T) {
	w := newWorldWith(t, newIngestingFixture(t))
	bomb := bombPDF(2 << 30)
	if len(bomb) > 64<<10 {
		t.Fatalf("the bomb is %d bytes, not tiny", len(bomb))
	}
	res := w.upload("teaching", w.week.ID, "bomb.pdf", bomb)
	if res.status != 422 {
		t.Fatalf("bomb: %d %s", res.status, res.body)
	}
	assertProblem(t, res)
	if d, _ := res.json(t)["detail"].(string); !strings.Contains(d, "needs more memory") && !strings.Contains(d, "took longer") {
		t.Errorf("bomb refused with %q", d)
	}
	w.assertCount(t, "documents", 0)
	w.assertCount(t, "river_job", 0)
	if files := w.f.uploadsOnDisk(t); len(files) != 0 {
		t.Errorf("files left behind: %v", files)
	}

	ids := map[string]int64{}
	for name, data := range map[string][]byte{"blank.pdf": blankPDF(3), "fine.pdf": textPDF("Negligence per se: violation of a statute as breach of duty.")} {
		res := w.upload("teaching", w.week.ID, name, data)
		if res.status != 202 {
			t.Fatalf("%s: %d %s", name, res.status, res.body)
		}
		ids[name] = int64(res.json(t)["document_id"].(float64))
	}
	w.f.waitDocuments(t, 2*time.Minute)
	fine := decode[Document](t, w.f.do(get("/api/documents/"+itoa(ids["fine.pdf"]), w.persona["teaching"])))
	if fine.Status != "processed" {
		t.Errorf("fine.pdf after the bomb: %s %v", fine.Status, strPtr(fine.Error))
	}
	blank := decode[Document](t, w.f.do(get("/api/documents/"+itoa(ids["blank.pdf"]), w.persona["teaching"])))
	if blank.Status != "failed" || blank.Error == nil || !strings.Contains(*blank.Error, "looks scanned") || blank.ChunkCount != 0 {
		t.Errorf("blank.pdf: %s %v", blank.Status, strPtr(blank.Error))
	}
}

func strPtr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// countingReader is an endless upload that counts what the server read.
type countingReader struct {
	head []byte
	n    int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		k := copy(p, c.head)
		c.head = c.head[k:]
		c.n += int64(k)
		return k, nil
	}
	for i := range p {
		p[i] = 'x'
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestUploadStopsReadingAtTheLimit: a file over MAX_UPLOAD_SIZE is refused
// as soon as it passes the limit, not after the server has read it all.
func TestUploadStopsReadingAtTheLimit(t *testing.T) {
	w := newWorldWith(t, newFixture(t, func(c *config.Config) { c.MaxUploadSize = 1 << 20 }))
	head := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"endless.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n"
	body := &countingReader{head: []byte(head)}
	r := httptest.NewRequest("POST", "/api/documents/upload?week_id="+itoa(w.week.ID), body)
	r.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	r.Header.Set("Authorization", "Bearer "+w.persona["teaching"])
	rec := httptest.NewRecorder()
	w.f.srv.Handler().ServeHTTP(rec, r)
	if rec.Code != 413 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if body.n > 1<<20+256<<10 {
		t.Errorf("read %d bytes of an endless upload with a 1 MB limit", body.n)
	}
	if files := w.f.uploadsOnDisk(t); len(files) != 0 {
		t.Errorf("files left: %v", files)
	}
}

// TestReprocessRecoversALostJob: a document left queued with no job to run
// it (something went wrong) can be reprocessed; one with a live job cannot.
func TestReprocessRecoversALostJob(t *testing.T) {
	w := newWorld(t)
	res := w.upload("teaching", w.week.ID, "reading.pdf", textPDF("Res ipsa loquitur."))
	doc := "/api/documents/" + itoa(int64(res.json(t)["document_id"].(float64)))
	if res := w.f.do(request{method: "POST", path: doc + "/reprocess", token: w.persona["teaching"]}); res.status != 409 {
		t.Fatalf("reprocess with a live job: %d", res.status)
	}
	if _, err := w.f.db.Write.Exec(`DELETE FROM river_job`); err != nil {
		t.Fatal(err)
	}
	if res := w.f.do(request{method: "POST", path: doc + "/reprocess", token: w.persona["teaching"]}); res.status != 202 {
		t.Fatalf("reprocess with the job lost: %d %s", res.status, res.body)
	}
	w.assertCount(t, "river_job", 1)
}

func TestUploadNeedsMultipart(t *testing.T) {
	w := newWorld(t)
	res := w.f.do(request{method: "POST", path: "/api/documents/upload?week_id=" + itoa(w.week.ID), token: w.persona["teaching"], body: "%PDF-1.7 raw bytes", contentType: "application/pdf"})
	if res.status != 415 || !strings.Contains(string(res.body), "multipart/form-data") {
		t.Errorf("raw PDF body: %d %s", res.status, res.body)
	}
	body, ct := multipartBody("document", "x.pdf", textPDF("wrong field"))
	if res := w.f.do(request{method: "POST", path: "/api/documents/upload?week_id=" + itoa(w.week.ID), token: w.persona["teaching"], body: body, contentType: ct}); res.status != 422 || !strings.Contains(string(res.body), `"location":"body.file"`) {
		t.Errorf("no file field: %d %s", res.status, res.body)
	}
	w.assertCount(t, "documents", 0)
}
