package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// server is the real binary serving a data directory.
type server struct {
	t    testing.TB
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan error
}

func startServer(t testing.TB, bin, dir string) *server {
	t.Helper()
	return startServerEnv(t, bin, dir)
}

// startServerEnv is startServer with more settings ("NAME=value").
func startServerEnv(t testing.TB, bin, dir string, env ...string) *server {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "DATA_DIR=" + dir}, env...)
	s := &server{t: t, cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	waitReady(t, s.base+"/api/health/ready", time.Now(), s.done, s.logs)
	return s
}

func (s *server) call(method, path, token, contentType string, body []byte) (int, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return res.StatusCode, buf.Bytes()
}

func (s *server) jsonCall(method, path, token, body string, into any) int {
	s.t.Helper()
	code, b := s.call(method, path, token, "application/json", []byte(body))
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
	}
	return code
}

type docStatus struct {
	ID     int64   `json:"id"`
	Status string  `json:"status"`
	Error  *string `json:"error"`
}

func (s *server) documents(weekID int64, token string) []docStatus {
	var l struct {
		Items []docStatus `json:"items"`
	}
	if code := s.jsonCall("GET", "/api/documents?week_id="+strconv.FormatInt(weekID, 10), token, "", &l); code != 200 {
		s.t.Fatalf("list documents: %d", code)
	}
	return l.Items
}

// TestIngestionSurvivesKill uploads readings, kills the real server with
// SIGKILL while it is processing them, starts it again on the same data
// directory, and sees every document end processed.
func TestIngestionSurvivesKill(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	create := exec.Command(bin, "user", "create", "--role", "professor", "--email", "kingsfield@law.example.edu", "--username", "kingsfield")
	create.Env = []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + dir}
	create.Stdin = strings.NewReader("contracts are hard\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}

	s := startServer(t, bin, dir)
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
	if len(files) < 10 {
		t.Fatalf("corpus: %d files", len(files))
	}
	for _, f := range files {
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
	// Kill as soon as a document is being processed and not all are done.
	deadline := time.Now().Add(time.Minute)
	for {
		docs := s.documents(week.ID, tok)
		processing, done := 0, 0
		for _, d := range docs {
			switch d.Status {
			case "processing":
				processing++
			case "processed", "failed":
				done++
			}
		}
		if processing > 0 && done < len(docs) {
			t.Logf("killing the server with %d processing, %d done of %d", processing, done, len(docs))
			break
		}
		if done == len(docs) {
			t.Fatal("every document was processed before the kill could interrupt one")
		}
		if time.Now().After(deadline) {
			t.Fatal("no document started processing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done

	s = startServer(t, bin, dir)
	deadline = time.Now().Add(3 * time.Minute)
	for {
		docs := s.documents(week.ID, tok)
		processed := 0
		for _, d := range docs {
			if d.Status == "failed" {
				t.Fatalf("document %d failed after the restart: %v", d.ID, *d.Error)
			}
			if d.Status == "processed" {
				processed++
			}
		}
		if processed == len(files) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart only %d of %d documents were processed:\n%s", processed, len(files), s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.logs.String(), "resuming jobs a stopped server left running") {
		t.Errorf("the restarted server did not say it resumed jobs:\n%s", s.logs.String())
	}
}
