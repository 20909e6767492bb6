package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// benchServer is the real socratic binary, serving a scratch data
// directory, with its log in a file.
type benchServer struct {
	cmd  *exec.Cmd
	base string
	log  *os.File
	done chan error
}

// startBenchServer creates the first admin with `socratic user create`
// (before serve takes the data directory's lock), then starts serve and
// waits until it is ready.
func startBenchServer(ctx context.Context, bin string, env []string, dataDir, logPath, password string) (*benchServer, error) {
	// PDFium's compiled WebAssembly is shared with the tests and bench
	// ingest, so the reading's processing does not start by compiling.
	linkScratchCompileCache(dataDir)
	create := exec.CommandContext(ctx, bin, "user", "create", "--role", "admin", "--email", "bench-admin@bench.example.edu", "--username", "bench-admin")
	create.Env, create.Dir = env, filepath.Dir(dataDir)
	create.Stdin = strings.NewReader(password + "\n")
	if out, err := create.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s user create: %w\n%s", bin, err, out)
	}
	return startBenchServe(ctx, bin, env, dataDir, logPath)
}

// startBenchServe starts serve on dataDir and waits until it is ready.
func startBenchServe(ctx context.Context, bin string, env []string, dataDir, logPath string) (*benchServer, error) {
	linkScratchCompileCache(dataDir)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	port := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PORT="); ok {
			port = v
		}
	}
	s := &benchServer{base: "http://127.0.0.1:" + port, log: logFile, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "serve")
	// Its own folder as the working directory: no stray ./.env is read.
	s.cmd.Env, s.cmd.Dir, s.cmd.Stdout, s.cmd.Stderr = env, filepath.Dir(dataDir), logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("the server exited before it was ready (%v); see %s", err, logPath)
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if res, err := http.Get(s.base + "/api/health/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("the server was not ready within a minute; see %s", logPath)
		}
	}
}

func (s *benchServer) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM and waits for an orderly exit.
func (s *benchServer) stop() error {
	defer s.log.Close()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			return fmt.Errorf("the server's exit after SIGTERM: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("the server did not exit within 30 s of SIGTERM; killed")
	}
}

// kill ends the server if it still runs (a failed run).
func (s *benchServer) kill() {
	select {
	case err := <-s.done:
		s.done <- err
	default:
		s.cmd.Process.Kill()
	}
}

// procSample is the server's memory and CPU at a moment.
type procSample struct {
	rssKB, hwmKB int64
	cpu          time.Duration
}

func (s *benchServer) sample() procSample {
	var p procSample
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid())); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				p.rssKB = n
			case "VmHWM":
				p.hwmKB = n
			}
		}
	}
	p.cpu = procCPU(s.pid())
	return p
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClient speaks JSON to the server, with enough idle connections for
// every student to keep theirs. dials counts the connections it opened.
type benchClient struct {
	base  string
	hc    *http.Client
	dials atomic.Int64
}

func newBenchClient(base string, students int) *benchClient {
	c := &benchClient{base: base}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c.dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        students + 16,
		MaxIdleConnsPerHost: students + 16,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	c.hc = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	return c
}

// call sends in as JSON (nil: no body) and decodes the answer into out,
// which must come with status want.
func (c *benchClient) call(ctx context.Context, method, path, token string, in, out any, want int) error {
	var body []byte
	ct := ""
	if in != nil {
		body, _ = json.Marshal(in)
		ct = "application/json"
	}
	return c.send(ctx, method, path, token, ct, body, out, want)
}

func (c *benchClient) send(ctx context.Context, method, path, token, contentType string, body []byte, out any, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %w", method, path, statusError(res))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: unreadable answer: %w", method, path, err)
	}
	// To the end, as a browser reads it, so the connection is reused.
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

func (c *benchClient) login(ctx context.Context, username, password string) (string, error) {
	var l struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, "POST", "/api/auth/login", "", map[string]string{"username": username, "password": password}, &l, http.StatusOK); err != nil {
		return "", err
	}
	return l.AccessToken, nil
}

// statusError names an unexpected status with the problem's detail.
func statusError(res *http.Response) error {
	var p struct {
		Detail string `json:"detail"`
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if json.Unmarshal(b, &p) != nil || p.Detail == "" {
		p.Detail = strings.TrimSpace(string(b))
	}
	return fmt.Errorf("status %d: %s", res.StatusCode, p.Detail)
}

// benchErrors counts failures by kind and message.
type benchErrors struct {
	mu     sync.Mutex
	total  int
	byText map[string]int
}

func (e *benchErrors) add(kind string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byText == nil {
		e.byText = map[string]int{}
	}
	e.total++
	e.byText[kind+": "+err.Error()]++
}

// parallel runs fn for 0..n-1, at most conc at a time, and returns the
// first error (the rest are not started).
func parallel(ctx context.Context, n, conc int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(conc, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

func freeLocalPort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 8000
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func getenv(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}
