package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe to read while run writes logs to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

func waitForAddr(t *testing.T, logs *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before listening: %v\n%s", err, logs.String())
		case <-deadline:
			t.Fatalf("server never listened:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func postJSON(t *testing.T, url, body, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestServeSignUpLoginAndSIGTERM runs the real run in-process on a random
// port, signs up and logs in over HTTP, then sends the process SIGTERM and
// expects an orderly, error-free exit.
func TestServeSignUpLoginAndSIGTERM(t *testing.T) {
	dir := t.TempDir()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	env := withEngine(t, dir, []string{"DATA_DIR=" + dir, "HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=info"})
	shareCompileCache(t, dir)
	// A professor comes from the command line, as the README says.
	if err := run(context.Background(), []string{"user", "create", "--role", "professor", "--email", "kingsfield@law.example.edu", "--username", "kingsfield"}, env, strings.NewReader("contracts are hard\n"), &syncBuffer{}, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	go func() { done <- run(context.Background(), []string{"serve"}, env, nil, &syncBuffer{}, logs) }()
	base := "http://" + waitForAddr(t, logs, done)

	if code, m := postJSON(t, base+"/api/auth/register", `{"email":"ada@law.example.edu","username":"ada","password":"a fine long password"}`, ""); code != 201 || m["role"] != "student" {
		t.Fatalf("register: %d %v", code, m)
	}
	code, m := postJSON(t, base+"/api/auth/login", `{"username":"ada","password":"a fine long password"}`, "")
	if code != 200 {
		t.Fatalf("login: %d %v", code, m)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+m["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("me: %v %v", res, err)
	}
	res.Body.Close()

	// The professor makes a course with a week; the student joins with its code.
	studentToken := m["access_token"].(string)
	_, pm := postJSON(t, base+"/api/auth/login", `{"username":"kingsfield","password":"contracts are hard"}`, "")
	profToken, _ := pm["access_token"].(string)
	code, course := postJSON(t, base+"/api/courses", `{"code":"LAW 110","name":"Contracts"}`, profToken)
	if code != 201 || course["join_code"] == nil {
		t.Fatalf("create course: %d %v", code, course)
	}
	courseURL := base + "/api/courses/" + strconv.Itoa(int(course["id"].(float64)))
	if code, m := postJSON(t, courseURL+"/weeks", `{"week_number":1,"title":"Consideration"}`, profToken); code != 201 {
		t.Fatalf("create week: %d %v", code, m)
	}
	if code, m := postJSON(t, base+"/api/courses/join", `{"join_code":"`+course["join_code"].(string)+`"}`, studentToken); code != 200 || m["join_code"] != nil {
		t.Fatalf("join: %d %v", code, m)
	}
	req, _ = http.NewRequest(http.MethodGet, courseURL, nil)
	req.Header.Set("Authorization", "Bearer "+studentToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var detail struct {
		Weeks []struct {
			Title string `json:"title"`
		} `json:"weeks"`
	}
	json.NewDecoder(res.Body).Decode(&detail)
	res.Body.Close()
	if res.StatusCode != 200 || len(detail.Weeks) != 1 || detail.Weeks[0].Title != "Consideration" {
		t.Fatalf("student's course: %d %+v", res.StatusCode, detail)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after SIGTERM")
	}
	for _, want := range []string{"shutting down", "msg=stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "a fine long password") {
		t.Error("a password reached the log")
	}
}

func TestServeRefusesProductionWithoutSecret(t *testing.T) {
	for _, key := range []string{"", "your-secret-key-change-in-production", "short-key"} {
		t.Run(fmt.Sprintf("key=%q", key), func(t *testing.T) {
			env := []string{"DATA_DIR=" + t.TempDir(), "ENV=production", "SECRET_KEY=" + key, "PORT=0"}
			err := run(context.Background(), []string{"serve"}, env, nil, &syncBuffer{}, &syncBuffer{})
			if err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
				t.Fatalf("err = %v, want a SECRET_KEY refusal", err)
			}
		})
	}
}

func TestUserCreateAndMigrateCommands(t *testing.T) {
	dir := t.TempDir()
	env := withEngine(t, dir, []string{"DATA_DIR=" + dir})
	ctx := context.Background()
	out := &syncBuffer{}
	stdin := strings.NewReader("an admin passphrase\n")
	if err := run(ctx, []string{"user", "create", "--role", "admin", "--email", "Root@Law.example.edu", "--username", "root"}, env, stdin, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created admin root") {
		t.Errorf("output = %q", out.String())
	}
	// Duplicate and weak input are refused with a reason.
	err := run(ctx, []string{"user", "create", "--role", "professor", "--email", "root@law.example.edu", "--username", "prof"}, env, strings.NewReader("another passphrase\n"), out, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "email is already registered") {
		t.Errorf("duplicate: %v", err)
	}
	err = run(ctx, []string{"user", "create", "--role", "professor", "--email", "p@law.example.edu", "--username", "prof"}, env, strings.NewReader("short\n"), out, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("weak password: %v", err)
	}
	err = run(ctx, []string{"user", "create", "--role", "root", "--email", "p@law.example.edu", "--username", "prof"}, env, strings.NewReader("a fine passphrase\n"), out, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "--role") {
		t.Errorf("bad role: %v", err)
	}
	err = run(ctx, []string{"user", "create", "--role", "student", "--email", "s@law.example.edu", "--username", "stu"}, env, strings.NewReader(""), out, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("empty stdin: %v", err)
	}

	status := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "status"}, env, nil, status, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(status.String(), "applied") < 2 {
		t.Errorf("status:\n%s", status.String())
	}
	down := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "down"}, env, nil, down, &syncBuffer{}); err != nil || !strings.Contains(down.String(), "00012_throttles.sql") {
		t.Fatalf("down: %v %s", err, down.String())
	}
	up := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "up"}, env, nil, up, &syncBuffer{}); err != nil || !strings.Contains(up.String(), "00012_throttles.sql") {
		t.Fatalf("up: %v %s", err, up.String())
	}
	if err := run(ctx, []string{"migrate", "sideways"}, env, nil, up, &syncBuffer{}); err == nil {
		t.Error("migrate sideways accepted")
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	out := &syncBuffer{}
	if err := run(context.Background(), []string{"version"}, nil, nil, out, &syncBuffer{}); err != nil || !strings.HasPrefix(out.String(), "socratic 0.1.0") {
		t.Errorf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, nil, out, &syncBuffer{}); err == nil {
		t.Error("unknown command accepted")
	}
	if err := run(context.Background(), nil, nil, nil, out, &syncBuffer{}); err == nil {
		t.Error("no command accepted")
	}
}

// shareCompileCache points a test's DATA_DIR/cache/wazero at one cache for
// all tests, so PDFium is compiled once per machine, not once per test
// (under the race detector a compile takes half a minute).
func shareCompileCache(t testing.TB, dataDir string) {
	t.Helper()
	shared := testenv.WazeroCache()
	if shared == "" {
		return // no user cache folder: each test compiles PDFium itself
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "cache"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shared, filepath.Join(dataDir, "cache", "wazero")); err != nil {
		t.Fatal(err)
	}
}
