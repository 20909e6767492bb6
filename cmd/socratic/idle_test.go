package main

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// gaugeOf reads one unlabelled series from the server's /metrics.
func (s *server) gaugeOf(name string) float64 {
	s.t.Helper()
	code, body := s.call("GET", "/metrics", "", "", nil)
	if code != 200 {
		s.t.Fatalf("/metrics: %d", code)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		s.t.Fatalf("/metrics has no %s", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

// rssKB is a process's VmRSS or VmHWM from /proc, in kB (0 off Linux).
func rssKB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestPDFiumRunsOnlyWhileThereIsWork: the real server starts with no
// PDFium (socratic_pdfium_running 0), starts it for an upload, reads the
// reading, and stops it PDF_IDLE_TIMEOUT after the last PDF; the next
// upload starts it again. Resident memory at each step is logged, not
// asserted (scripts/idle-rss measures it properly).
func TestPDFiumRunsOnlyWhileThereIsWork(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	create := exec.Command(bin, "user", "create", "--role", "professor", "--email", "kingsfield@law.example.edu", "--username", "kingsfield")
	create.Env = append([]string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + dir}, withEngine(t, dir, nil)...)
	create.Stdin = strings.NewReader("contracts are hard\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}
	s := startServerEnv(t, bin, dir, "PDF_IDLE_TIMEOUT=2s", "CACHE_DIR="+filepath.Dir(testenv.WazeroCache()))
	pid := s.cmd.Process.Pid
	if v := s.gaugeOf("socratic_pdfium_running"); v != 0 {
		t.Fatalf("PDFium runs at start with nothing to read: socratic_pdfium_running %v", v)
	}
	t.Logf("at start: VmRSS %d kB", rssKB(pid, "VmRSS"))
	var login struct {
		AccessToken string `json:"access_token"`
	}
	s.jsonCall("POST", "/api/auth/login", "", `{"username":"kingsfield","password":"contracts are hard"}`, &login)
	tok := login.AccessToken
	var course, week struct {
		ID int64 `json:"id"`
	}
	if code := s.jsonCall("POST", "/api/courses", tok, `{"code":"LAW 200","name":"Constitutional Law"}`, &course); code != 201 {
		t.Fatalf("course: %d", code)
	}
	if code := s.jsonCall("POST", fmt.Sprintf("/api/courses/%d/weeks", course.ID), tok, `{"week_number":1}`, &week); code != 201 {
		t.Fatalf("week: %d", code)
	}
	files, _ := filepath.Glob(filepath.Join(testenv.Corpus(), "*.pdf"))
	if len(files) < 2 {
		t.Fatalf("corpus: %d files", len(files))
	}
	upload := func(f string) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		part, _ := mw.CreateFormFile("file", filepath.Base(f))
		part.Write(data)
		mw.Close()
		if code, b := s.call("POST", fmt.Sprintf("/api/documents/upload?week_id=%d", week.ID), tok, mw.FormDataContentType(), body.Bytes()); code != 202 {
			t.Fatalf("upload %s: %d %s", f, code, b)
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 2 minutes", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	processed := func(n int) func() bool {
		return func() bool {
			done := 0
			for _, d := range s.documents(week.ID, tok) {
				if d.Status == "failed" {
					t.Fatalf("a reading failed: %+v", d)
				}
				if d.Status == "processed" {
					done++
				}
			}
			return done == n
		}
	}
	for round, f := range files[:2] {
		before := s.gaugeOf("socratic_pdfium_starts_total")
		upload(f)
		waitFor("the reading is read", processed(round+1))
		// One start per upload, or two if the check at upload and the
		// job's read were further apart than the idle period.
		if v := s.gaugeOf("socratic_pdfium_starts_total"); v <= before {
			t.Fatalf("upload %d was read with no PDFium start (%v starts before, %v after)", round+1, before, v)
		}
		t.Logf("upload %d read: VmRSS %d kB, VmHWM %d kB", round+1, rssKB(pid, "VmRSS"), rssKB(pid, "VmHWM"))
		waitFor("PDFium stops when idle", func() bool { return s.gaugeOf("socratic_pdfium_running") == 0 })
		t.Logf("PDFium stopped: VmRSS %d kB", rssKB(pid, "VmRSS"))
	}
}
