package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
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
// withEngine puts the run's database engine in the settings of a command
// on the data directory dir (testenv.DatabaseEnv: on PostgreSQL,
// DATABASE_URL naming the test's database for dir, the same for every
// command and restart on dir), unless env names a database itself.
func withEngine(t testing.TB, dir string, env []string) []string {
	t.Helper()
	return testenv.WithEngine(t, dir, env)
}

// engineURL is withEngine's DATABASE_URL for dir: "" on SQLite.
func engineURL(t testing.TB, dir string) string {
	t.Helper()
	u := ""
	for _, e := range withEngine(t, dir, nil) {
		u = strings.TrimPrefix(e, "DATABASE_URL=")
	}
	return u
}

func startServerEnv(t testing.TB, bin, dir string, env ...string) *server {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOST=127.0.0.1", "PORT=" + strconv.Itoa(port), "DATA_DIR=" + dir}, withEngine(t, dir, env)...)
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

// TestIngestionSurvivesKill lived here; it is part of the fault suite now:
// internal/e2e TestFaultCrash kills the server while the corpus is being
// ingested (and at random moments after) and keeps its checks.
