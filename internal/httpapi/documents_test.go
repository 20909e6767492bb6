package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/testenv"
)

var corpusDir = testenv.Corpus()

// multipartBody builds a multipart body with one "file" part.
func multipartBody(field, filename string, data []byte) (string, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile(field, filename)
	part.Write(data)
	w.Close()
	return buf.String(), w.FormDataContentType()
}

func (w *world) upload(persona string, weekID int64, filename string, data []byte) response {
	body, ct := multipartBody("file", filename, data)
	return w.f.do(request{method: "POST", path: "/api/documents/upload?week_id=" + itoa(weekID), token: w.persona[persona], body: body, contentType: ct})
}

// waitDocuments polls until no document of the fixture is queued or
// processing, and returns id → status.
func (f *fixture) waitDocuments(t testing.TB, within time.Duration) map[int64]string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var busy int
		if err := f.db.Read.QueryRow(`SELECT count(*) FROM documents WHERE status IN ('queued', 'processing')`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d documents still queued or processing after %s", busy, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := map[int64]string{}
	rows, err := f.db.Read.Query(`SELECT id, status FROM documents`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s string
		rows.Scan(&id, &s)
		out[id] = s
	}
	return out
}

// uploadsOnDisk lists every file under the upload store.
func (f *fixture) uploadsOnDisk(t *testing.T) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(f.cfg.UploadDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(f.cfg.UploadDir, p)
			files = append(files, rel)
		}
		return nil
	})
	return files
}

var manifestPages = regexp.MustCompile("(?m)^### (\\S+\\.pdf)\\n(?:- .*\\n)*?- Pages: (\\d+)")

// TestUploadEveryCorpusPDF uploads the whole corpus through the
// router and checks that every file ends processed with its real page count,
// and that a phrase pdftotext finds on a middle page is in a chunk that
// starts on that page or the one before.
func TestUploadEveryCorpusPDF(t *testing.T) {
	testenv.Pdftotext(t)
	w := newWorldWith(t, newIngestingFixture(t))
	manifest, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	wantPages := map[string]int{}
	for _, m := range manifestPages.FindAllStringSubmatch(string(manifest), -1) {
		var n int
		fmt.Sscan(m[2], &n)
		wantPages[m[1]] = n
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.pdf"))
	if len(files) < 10 || len(wantPages) != len(files) {
		t.Fatalf("corpus: %d files, %d in the manifest", len(files), len(wantPages))
	}
	ids := map[string]int64{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res := w.upload("teaching", w.week.ID, filepath.Base(path), data)
		if res.status != 202 {
			t.Fatalf("upload %s: %d %s", filepath.Base(path), res.status, res.body)
		}
		m := res.json(t)
		if m["status"] != "queued" || m["message"] != "Document uploaded successfully" {
			t.Errorf("upload answer %s", res.body)
		}
		ids[filepath.Base(path)] = int64(m["document_id"].(float64))
	}
	statuses := w.f.waitDocuments(t, 5*time.Minute)
	for name, id := range ids {
		res := w.f.do(get("/api/documents/"+itoa(id), w.persona["enrolled"]))
		var d Document
		json.Unmarshal(res.body, &d)
		if statuses[id] != "processed" || d.Status != "processed" {
			t.Errorf("%s: %s (%v)", name, statuses[id], d.Error)
			continue
		}
		if d.PageCount == nil || *d.PageCount != wantPages[name] || d.PagesDone != *d.PageCount || d.ChunkCount < *d.PageCount/2 || d.ProcessedAt == nil {
			t.Errorf("%s: pages %v (manifest %d), chunks %d", name, d.PageCount, wantPages[name], d.ChunkCount)
		}
		w.checkPagePhrase(t, name, id, (wantPages[name]+1)/2)
	}
	// The week counts what it holds.
	wk := decode[WeekDetail](t, w.f.do(get("/api/weeks/"+itoa(w.week.ID), w.persona["enrolled"])))
	if wk.DocumentCount != len(files) || wk.ProcessedDocumentCount != len(files) || len(wk.Documents) != len(files) {
		t.Errorf("week counts %d/%d", wk.DocumentCount, wk.ProcessedDocumentCount)
	}
}

var wordRun = regexp.MustCompile(`[A-Za-z]{4,}(?: [A-Za-z]{4,}){3}`)

// checkPagePhrase takes four long words in a row from pdftotext's text of
// one page and expects a chunk that contains them to start on that page or
// the one before.
func (w *world) checkPagePhrase(t *testing.T, name string, id int64, page int) {
	t.Helper()
	out, err := exec.Command(testenv.Pdftotext(t), "-f", itoa(int64(page)), "-l", itoa(int64(page)), filepath.Join(corpusDir, name), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (install poppler-utils)", err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	phrases := wordRun.FindAllString(text, -1)
	if len(phrases) == 0 {
		return // a page of numbers or citations only
	}
	phrase := phrases[len(phrases)/2]
	rows, err := w.f.db.Read.Query(`SELECT page, content FROM chunks WHERE document_id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var pages []int
	for rows.Next() {
		var p int
		var content string
		rows.Scan(&p, &content)
		if strings.Contains(strings.Join(strings.Fields(content), " "), phrase) {
			pages = append(pages, p)
		}
	}
	for _, p := range pages {
		if p == page || p == page-1 {
			return
		}
	}
	t.Errorf("%s: %q from page %d is in chunks starting on pages %v", name, phrase, page, pages)
}

func newWorldWith(t *testing.T, f *fixture) *world {
	t.Helper()
	return buildWorld(t, f)
}

// TestUploadRefusals: each bad upload gets a clear answer and leaves no row,
// no job and no file behind.
func TestUploadRefusals(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(corpusDir, "us-constitution-1787.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)
	cases := []struct {
		name     string
		filename string
		data     func(t *testing.T) []byte
		want     int
		detail   string
	}{
		{"empty", "empty.pdf", func(*testing.T) []byte { return nil }, 415, "the file is empty"},
		{"text-renamed", "notes.pdf", func(*testing.T) []byte { return []byte("Lecture notes on negligence, not a PDF at all.\n") }, 415, "it is a text file"},
		{"png", "scan.pdf", func(*testing.T) []byte { return png }, 415, "it is an image (png)"},
		{"truncated", "cut.pdf", func(*testing.T) []byte { return good[:len(good)/3] }, 415, "the file is damaged"},
		{"encrypted", "locked.pdf", encrypted(good), 422, "the file is encrypted"},
		{"twice-the-limit", "big.pdf", func(*testing.T) []byte {
			return append(append([]byte{}, good...), bytes.Repeat([]byte(" "), 2<<20-len(good))...)
		}, 413, "larger than the 1 MB limit"},
		{"ten-thousand-pages", "blank.pdf", func(*testing.T) []byte { return blankPDF(10_000) }, 413, "the PDF has 10000 pages; the limit is 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorldWith(t, newFixture(t, func(c *config.Config) {
				if tc.name == "twice-the-limit" {
					c.MaxUploadSize = 1 << 20
				}
			}))
			res := w.upload("teaching", w.week.ID, tc.filename, tc.data(t))
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			assertProblem(t, res)
			if d, _ := res.json(t)["detail"].(string); !strings.Contains(d, tc.detail) {
				t.Errorf("detail %q does not say %q", d, tc.detail)
			}
			w.assertCount(t, "documents", 0)
			w.assertCount(t, "river_job", 0)
			if files := w.f.uploadsOnDisk(t); len(files) != 0 {
				t.Errorf("files left behind: %v", files)
			}
		})
	}
}

func encrypted(plain []byte) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		qpdf := testenv.QPDF(t)
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
		os.WriteFile(in, plain, 0o600)
		if b, err := exec.Command(qpdf, "--encrypt", "student-pw", "owner-pw", "256", "--", in, out).CombinedOutput(); err != nil {
			t.Fatalf("qpdf (install qpdf): %v %s", err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
}
