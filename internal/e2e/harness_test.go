// Package e2e is the fault suite (issue 19): the real socratic binary,
// started as a child process on a scratch data directory, driven over
// HTTP while it is loaded, killed, starved or fed by hostile clients,
// with only the paid providers faked by local servers that speak their
// wire format. Each scenario is one Test function that runs alone
// (go test ./internal/e2e -run TestFaultLoad); the short versions run
// under go test ./..., the long ones with SOCRATIC_FAULT_LONG=1 (see
// docs/operations.md, "Fault suite").
//
// This file is the harness: build the binary once, start, stop (SIGTERM),
// kill -9 and restart it on the same data directory, and call its API.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read a stopped server's database

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// ---- the binary -----------------------------------------------------------

var (
	binOnce         sync.Once
	binDir, binPath string
	binErr          error
)

// Binary builds cmd/socratic once per test process (Go's default cgo
// setting, as `go run ./cmd/socratic` does) into a folder TestMain
// removes, and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "socratic-e2e-bin-")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		bin := filepath.Join(dir, "socratic")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/socratic")
		cmd.Dir = testenv.Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Long reports whether the long versions run (SOCRATIC_FAULT_LONG=1).
func Long() bool { return os.Getenv("SOCRATIC_FAULT_LONG") == "1" }

// Knob is an integer setting of a scenario: the environment variable
// name if set, else long in the long version, else short.
func Knob(t testing.TB, name string, short, long int) int {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("%s=%q: want a whole number", name, v)
		}
		return n
	}
	if Long() {
		return long
	}
	return short
}

// DurationKnob is Knob for a duration (time.ParseDuration syntax).
func DurationKnob(t testing.TB, name string, short, long time.Duration) time.Duration {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			t.Fatalf("%s=%q: want a duration such as 90s or 5m", name, v)
		}
		return d
	}
	if Long() {
		return long
	}
	return short
}

// ---- the server -----------------------------------------------------------

// Server is `socratic serve` on a data directory, as a child process.
type Server struct {
	t    testing.TB
	Bin  string
	Dir  string   // DATA_DIR
	Env  []string // settings given at start ("NAME=value"), kept across restarts
	Base string   // http://127.0.0.1:port
	Port int
	Logs *Logs // this run's stdout and stderr

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
}

// Logs collects a process's output; safe for concurrent use.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// NewServer prepares (does not start) a server on a fresh data directory
// with PDFium's compile cache shared across tests. env adds settings.
func NewServer(t testing.TB, env ...string) *Server {
	t.Helper()
	dir := t.TempDir()
	ShareCompileCache(t, dir)
	return &Server{t: t, Bin: Binary(t), Dir: dir, Env: withEngine(t, dir, env)}
}

// withEngine puts the run's database engine in a server's settings
// (testenv.DatabaseEnv: on PostgreSQL, DATABASE_URL naming a database of
// the test's own for the data directory dir), unless env names one.
func withEngine(t testing.TB, dir string, env []string) []string {
	t.Helper()
	return testenv.WithEngine(t, dir, env)
}

// DatabaseURL is the server's DATABASE_URL: "" on SQLite.
func (s *Server) DatabaseURL() string {
	u := ""
	for _, e := range s.Env {
		if v, ok := strings.CutPrefix(e, "DATABASE_URL="); ok {
			u = v
		}
	}
	return u
}

// DB opens the server's database for the test's own reads, on either
// engine: SQLite's file read-only (OpenDB), or the PostgreSQL database
// through sqlite.OpenPostgres, so the tests' queries keep SQLite's ?
// placeholders.
func (s *Server) DB(t testing.TB) *sql.DB {
	t.Helper()
	u := s.DatabaseURL()
	if u == "" {
		return OpenDB(t, s.DBPath())
	}
	db, err := sqlite.OpenPostgres(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Read
}

// IntegrityCheck is IntegrityCheck on SQLite's file. On PostgreSQL there is
// no file of the server's to check (its pages are the database server's,
// which checksums and WAL-replays them itself); what the tests check there
// is the rows.
func (s *Server) IntegrityCheck(t testing.TB, db *sql.DB) {
	t.Helper()
	if s.DatabaseURL() == "" {
		IntegrityCheck(t, db)
	}
}

// StartServer is NewServer then Start.
func StartServer(t testing.TB, env ...string) *Server {
	t.Helper()
	s := NewServer(t, env...)
	s.Start()
	return s
}

// ShareCompileCache points dataDir/cache/wazero at the tests' shared
// PDFium compile cache, so PDFium is compiled once per machine.
func ShareCompileCache(t testing.TB, dataDir string) {
	t.Helper()
	shared := testenv.WazeroCache()
	if shared == "" {
		return
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "cache"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(shared, filepath.Join(dataDir, "cache", "wazero")); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatal(err)
	}
}

// baseEnv is what every start gets before s.Env: a local address, the
// data directory, a secret, turn pacing off and no embeddings download.
func (s *Server) baseEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"HOST=127.0.0.1",
		"PORT=" + strconv.Itoa(s.Port),
		"DATA_DIR=" + s.Dir,
		"SECRET_KEY=e2e-fault-suite-secret-key-0123456789abcdef",
		"SESSION_MIN_TURN_INTERVAL_SECONDS=0",
		"EMBEDDINGS_PROVIDER=none",
		"LOG_LEVEL=info",
	}
}

// Start starts serve (on the port of the previous run, if any) and waits
// until /api/health/ready answers 200.
func (s *Server) Start() {
	s.t.Helper()
	if s.Port == 0 {
		s.Port = FreePort(s.t)
		s.Base = "http://127.0.0.1:" + strconv.Itoa(s.Port)
	}
	cmd := exec.Command(s.Bin, "serve")
	cmd.Dir = s.Dir
	cmd.Env = append(s.baseEnv(), s.Env...)
	logs := &Logs{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	s.mu.Lock()
	s.cmd, s.done, s.Logs = cmd, done, logs
	s.mu.Unlock()
	s.t.Cleanup(func() { cmd.Process.Kill() })
	start := time.Now()
	for {
		select {
		case err := <-done:
			done <- err
			s.t.Fatalf("the server exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		if res, err := http.Get(s.Base + "/api/health/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Since(start) > time.Minute {
			s.t.Fatalf("the server was not ready within a minute:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PID is the running server's process id.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// Stop sends SIGTERM and fails the test unless the server exits cleanly
// within 30 s.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			s.t.Fatalf("the server's exit after SIGTERM: %v\n%s", err, s.Logs.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		s.t.Fatalf("the server did not exit within 30 s of SIGTERM:\n%s", s.Logs.String())
	}
}

// Kill ends the server with SIGKILL (kill -9) and waits for it to be gone.
func (s *Server) Kill() {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	cmd.Process.Kill()
	err := <-done
	done <- err
}

// Restart is Start again on the same data directory and port.
func (s *Server) Restart() { s.t.Helper(); s.Start() }

// PeakRSSKB is the running server's VmHWM (peak resident set) in KB.
func (s *Server) PeakRSSKB() int64 { return procStatusKB(s.PID(), "VmHWM") }

// RSSKB is the running server's VmRSS in KB.
func (s *Server) RSSKB() int64 { return procStatusKB(s.PID(), "VmRSS") }

func procStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// DBPath is the server's database file.
func (s *Server) DBPath() string { return filepath.Join(s.Dir, "socratic.db") }

// CLI runs another socratic command on the same data directory (user
// create works while serve runs) with stdin, and returns its output.
func (s *Server) CLI(stdin string, args ...string) (string, error) {
	cmd := exec.Command(s.Bin, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(s.baseEnv(), s.Env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// CreateUser makes an account with `socratic user create`, as IT staff do.
func (s *Server) CreateUser(role, username, password string) {
	s.t.Helper()
	if out, err := s.CLI(password+"\n", "user", "create", "--role", role, "--email", username+"@law.example.edu", "--username", username); err != nil {
		s.t.Fatalf("user create %s: %v\n%s", username, err, out)
	}
}

// FreePort is a TCP port free on 127.0.0.1 a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// OpenDB opens a database file read-only (for a stopped or running
// server: WAL readers do not block the writer).
func OpenDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// IntegrityCheck runs PRAGMA integrity_check and fails t unless it is "ok".
func IntegrityCheck(t testing.TB, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`PRAGMA integrity_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if len(got) != 1 || got[0] != "ok" {
		t.Fatalf("PRAGMA integrity_check: %q", got)
	}
}

// ---- the API --------------------------------------------------------------

// Client calls the server's API. Its HTTP client keeps many idle
// connections, for load.
type Client struct {
	Base string
	HC   *http.Client
}

// Client is a client of s (its address survives restarts).
func (s *Server) Client() *Client {
	return &Client{Base: s.Base, HC: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}}}
}

// Response is an answer: status, body, and how long it took.
type Response struct {
	Status int
	Body   []byte
	Took   time.Duration
	Header http.Header
}

// JSON decodes the body into v.
func (r Response) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Do sends a request; err is a transport error (no answer).
func (c *Client) Do(ctx context.Context, method, path, token, contentType string, body io.Reader) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return Response{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := c.HC.Do(req)
	if err != nil {
		return Response{Took: time.Since(start)}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Body: b, Took: time.Since(start), Header: res.Header}, err
}

// API sends in (nil for none) as JSON and returns the answer.
func (c *Client) API(ctx context.Context, method, path, token string, in any) (Response, error) {
	var body io.Reader
	ct := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return Response{}, err
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	return c.Do(ctx, method, path, token, ct, body)
}

// Must calls API and fails t unless the status is want; the answer is
// decoded into out (if not nil).
func (c *Client) Must(t testing.TB, method, path, token string, in any, want int, out any) Response {
	t.Helper()
	r, err := c.API(context.Background(), method, path, token, in)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if out != nil {
		if err := r.JSON(out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, r.Body)
		}
	}
	return r
}

// Login returns an access token.
func (c *Client) Login(t testing.TB, username, password string) string {
	t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	c.Must(t, "POST", "/api/auth/login", "", map[string]string{"username": username, "password": password}, 200, &out)
	return out.AccessToken
}

// Course is a course with one week, as set up by SetupCourse.
type Course struct {
	ProfToken string
	CourseID  int64
	JoinCode  string
	WeekID    int64
	DocID     int64 // the week's reading, processed (0 when none was uploaded)
}

// SmallPDF is the corpus's smallest reading (quick to ingest).
const SmallPDF = "casebook-gowder-14th-amendment-reader-procedural-due-process-excerpt.pdf"

// SetupCourse makes a professor (CLI), a course with week 1, and, unless
// pdf is "", uploads that corpus PDF to the week and waits until it is
// processed.
func SetupCourse(t testing.TB, s *Server, c *Client, pdf string) Course {
	t.Helper()
	s.CreateUser("professor", "kingsfield", "contracts are hard")
	var w Course
	w.ProfToken = c.Login(t, "kingsfield", "contracts are hard")
	var course struct {
		ID       int64  `json:"id"`
		JoinCode string `json:"join_code"`
	}
	c.Must(t, "POST", "/api/courses", w.ProfToken, map[string]string{"code": "LAW 200", "name": "Constitutional Law"}, 201, &course)
	w.CourseID, w.JoinCode = course.ID, course.JoinCode
	var week struct {
		ID int64 `json:"id"`
	}
	c.Must(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", w.CourseID), w.ProfToken, map[string]any{"week_number": 1, "title": "Procedural due process"}, 201, &week)
	w.WeekID = week.ID
	if pdf != "" {
		w.DocID = c.UploadPDF(t, w.ProfToken, w.WeekID, testenv.CorpusPDF(pdf))
		c.WaitDocument(t, w.ProfToken, w.DocID, 3*time.Minute, "processed")
	}
	return w
}

// AddStudent registers a student enrolled with the course's join code and
// returns their token.
func (c *Client) AddStudent(t testing.TB, w Course, username string) string {
	t.Helper()
	password := "a long enough password"
	c.Must(t, "POST", "/api/auth/register", "", map[string]string{"email": username + "@law.example.edu", "username": username, "password": password, "full_name": username, "join_code": w.JoinCode}, 201, nil)
	return c.Login(t, username, password)
}

// UploadForm is a multipart body with one field "file" holding a file.
func UploadForm(t testing.TB, path string) ([]byte, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", filepath.Base(path))
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// UploadPDF uploads a PDF to a week (202) and returns the document's id.
func (c *Client) UploadPDF(t testing.TB, token string, weekID int64, path string) int64 {
	t.Helper()
	body, ct := UploadForm(t, path)
	r, err := c.Do(context.Background(), "POST", fmt.Sprintf("/api/documents/upload?week_id=%d", weekID), token, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("upload %s: %v", path, err)
	}
	var out struct {
		DocumentID int64 `json:"document_id"`
	}
	if r.Status != 202 || r.JSON(&out) != nil || out.DocumentID == 0 {
		t.Fatalf("upload %s: %d %s", path, r.Status, r.Body)
	}
	return out.DocumentID
}

// Document is a document's status.
type Document struct {
	ID     int64   `json:"id"`
	Status string  `json:"status"`
	Error  *string `json:"error"`
}

// Documents lists a week's documents.
func (c *Client) Documents(t testing.TB, token string, weekID int64) []Document {
	t.Helper()
	var l struct {
		Items []Document `json:"items"`
	}
	c.Must(t, "GET", fmt.Sprintf("/api/documents?week_id=%d", weekID), token, nil, 200, &l)
	return l.Items
}

// WaitDocument waits until the document's status is one of want and
// returns it; it fails t after within.
func (c *Client) WaitDocument(t testing.TB, token string, id int64, within time.Duration, want ...string) Document {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var d Document
		c.Must(t, "GET", fmt.Sprintf("/api/documents/%d", id), token, nil, 200, &d)
		for _, w := range want {
			if d.Status == w {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %d is still %s after %s, want %v", id, d.Status, within, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Started is the answer to POST /api/sessions/start.
type Started struct {
	SessionID      int64  `json:"session_id"`
	OpeningMessage string `json:"opening_message"`
}

// StartSession starts a text session on the week (201).
func (c *Client) StartSession(t testing.TB, token string, weekID int64) Started {
	t.Helper()
	var s Started
	c.Must(t, "POST", "/api/sessions/start", token, map[string]any{"week_id": weekID, "mode": "text"}, 201, &s)
	return s
}

// EndSession ends a session (200) and returns its transcript's length.
func (c *Client) EndSession(t testing.TB, token string, sessionID int64) int {
	t.Helper()
	var out struct {
		Transcript []json.RawMessage `json:"transcript"`
	}
	c.Must(t, "POST", fmt.Sprintf("/api/sessions/%d/end", sessionID), token, nil, 200, &out)
	return len(out.Transcript)
}

// Turn is what a client saw of one streamed turn.
type Turn struct {
	Status     int           // the HTTP status (200 for a stream)
	Body       []byte        // the body when it was not a stream
	Deltas     string        // the delta events' text, joined
	Response   string        // done.response ("" without a done event)
	Done       bool          // a done event arrived
	ErrorEvent string        // an error event's detail
	FirstDelta time.Duration // from send to the first delta
	Took       time.Duration // from send to the end of the stream
}

// Acknowledged reports whether the server acknowledged the turn: a done
// event whose response the deltas add up to.
func (tr Turn) Acknowledged() bool {
	return tr.Status == 200 && tr.Done && tr.Response != "" && strings.TrimSpace(tr.Deltas) == tr.Response
}

// StreamTurn sends one message on the stream route and reads the events
// to the end; err is a transport error (the connection failed or broke).
func (c *Client) StreamTurn(ctx context.Context, token string, sessionID int64, message, clientMsgID string) (Turn, error) {
	var tr Turn
	in := map[string]string{"message": message}
	if clientMsgID != "" {
		in["client_msg_id"] = clientMsgID
	}
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/sessions/%d/message/stream", c.Base, sessionID), bytes.NewReader(b))
	if err != nil {
		return tr, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	res, err := c.HC.Do(req)
	if err != nil {
		return tr, err
	}
	defer res.Body.Close()
	tr.Status = res.StatusCode
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		tr.Body, err = io.ReadAll(res.Body)
		tr.Took = time.Since(start)
		return tr, err
	}
	var deltas strings.Builder
	err = ReadSSE(res.Body, func(event string, data []byte) bool {
		switch event {
		case "delta":
			if deltas.Len() == 0 {
				tr.FirstDelta = time.Since(start)
			}
			var d struct {
				Text string `json:"text"`
			}
			json.Unmarshal(data, &d)
			deltas.WriteString(d.Text)
		case "done":
			var d struct {
				Response string `json:"response"`
			}
			json.Unmarshal(data, &d)
			tr.Done, tr.Response = true, d.Response
			return false
		case "error":
			var d struct {
				Detail string `json:"detail"`
			}
			json.Unmarshal(data, &d)
			tr.ErrorEvent = d.Detail
			if tr.ErrorEvent == "" {
				tr.ErrorEvent = "(an error event without a detail) " + string(data)
			}
			return false
		}
		return true
	})
	tr.Deltas = deltas.String()
	tr.Took = time.Since(start)
	return tr, err
}

// ReadSSE calls fn for each server-sent event until fn returns false or
// the body ends.
func ReadSSE(body io.Reader, fn func(event string, data []byte) bool) error {
	br := bufio.NewReader(body)
	var event string
	var data []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if event != "" || data != nil {
				if !fn(event, data) {
					return nil
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
}

// Metric reads one unlabelled (or first-matching labelled) value from
// /metrics: name may include labels as they are printed, e.g.
// `go_goroutines` or `socratic_turns_total{outcome="ok"}`. It returns -1
// when the line is absent.
func (c *Client) Metric(t testing.TB, name string) float64 {
	t.Helper()
	r, err := c.API(context.Background(), "GET", "/metrics", "", nil)
	if err != nil || r.Status != 200 {
		t.Fatalf("GET /metrics: %v %d %s", err, r.Status, r.Body)
	}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}
