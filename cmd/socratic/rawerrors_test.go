package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawExchange writes raw bytes to the server and reads every answer it
// gives on that connection until it closes.
func rawExchange(t *testing.T, addr, raw string, answers int) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for range answers {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d to %q: %v", len(out)+1, raw[:min(len(raw), 60)], err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, res)
	}
	return out
}

// TestEveryRefusalIsProblemJSON runs the real server and sends it bytes
// net/http refuses before any handler runs, and requests the router
// refuses: each answer is problem+json with status, title and detail.
func TestEveryRefusalIsProblemJSON(t *testing.T) {
	dir := t.TempDir()
	shareCompileCache(t, dir)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	env := withEngine(t, dir, []string{"DATA_DIR=" + dir, "HOST=127.0.0.1", "PORT=0", "LOG_LEVEL=info"})
	go func() {
		done <- run(ctx, []string{"serve"}, env, nil, &syncBuffer{}, logs)
	}()
	addr := waitForAddr(t, logs, done)
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	cases := []struct {
		name, raw string
		want      int
		detail    string
	}{
		{"garbage-request-line", "HELLO THERE\r\n\r\n", 400, "malformed request"},
		{"missing-host", "GET /api/health HTTP/1.1\r\n\r\n", 400, "missing required Host header"},
		{"header-without-colon", "GET /api/health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400, "malformed request"},
		{"invalid-header-name", "GET /api/health HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400, "invalid header name"},
		{"headers-too-large", "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", 431, "headers are larger"},
		{"unknown-transfer-encoding", "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: rot13\r\n\r\n", 501, "transfer encoding"},
		{"http-version", "GET /api/health HTTP/4.0\r\nHost: x\r\n\r\n", 505, "protocol version"},
		{"unknown-route", "GET /no/such/route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404, "no such route"},
		{"wrong-method", "DELETE /api/auth/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "method not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := rawExchange(t, addr, tc.raw, 1)[0]
			assertRawProblem(t, res, tc.want, tc.detail)
		})
	}

	// On a kept-alive connection, a good request is answered as usual and
	// a malformed one after it as problem+json.
	t.Run("after-a-good-request", func(t *testing.T) {
		res := rawExchange(t, addr, "GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /api/health HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 2)
		if res[0].StatusCode != 200 {
			t.Errorf("the good request: %d", res[0].StatusCode)
		}
		assertRawProblem(t, res[1], 400, "invalid header name")
	})
	res, err := http.Get("http://" + addr + "/api/health/live")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("the server after the malformed requests: %v %v", res, err)
	}
	res.Body.Close()
}

func assertRawProblem(t *testing.T, res *http.Response, status int, detail string) {
	t.Helper()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q: %s", ct, body)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Status != status || p.Title != http.StatusText(status) || !strings.Contains(p.Detail, detail) {
		t.Errorf("problem %+v (%v), want status %d and a detail saying %q: %s", p, err, status, detail, body)
	}
}
