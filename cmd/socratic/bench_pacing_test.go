package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// TestBenchPacingAfterTooSoon: a student in bench sessions whose message
// the server found too soon (429) waits Retry-After, sends it again, and
// paces the next message from that retry, as a client should; so one slow
// store costs one 429, not one for every later turn of the session. The
// fake server stores the first message 500 ms late, as a loaded server
// does, and keeps the real server's rule: a message less than
// SESSION_MIN_TURN_INTERVAL_SECONDS after the last stored one is refused.
func TestBenchPacingAfterTooSoon(t *testing.T) {
	var mu sync.Mutex
	var lastStored time.Time
	stored, refused := 0, 0
	interval := time.Duration(benchTurnInterval) * time.Second
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/sessions/start":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"session_id": 1, "opening_message": "Shall we begin?"}`)
		case "/api/sessions/1/message/stream":
			mu.Lock()
			if stored == 0 {
				time.Sleep(500 * time.Millisecond) // the first store is late
			}
			now := time.Now()
			if since := now.Sub(lastStored); !lastStored.IsZero() && since < interval {
				refused++
				mu.Unlock()
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil((interval - since).Seconds()))))
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"title": "Too Many Requests", "status": 429, "detail": "Wait a moment before your next message."}`)
				return
			}
			stored++
			lastStored = now
			mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: delta\ndata: {\"text\": \"Why?\"}\n\nevent: done\ndata: {\"response\": \"Why?\"}\n\n")
		case "/api/sessions/1/end":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"transcript": [{}, {}, {}, {}, {}, {}, {}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := &sessionsBench{
		o: sessionsBenchOptions{turns: 3}, c: newBenchClient(srv.URL, 1), tokens: []string{"token"}, weekID: 1, nonce: "0123",
		audioBody: []byte("--x--\r\n"), audioType: "multipart/form-data; boundary=x",
	}
	r := b.student(context.Background(), 0)
	if b.errs.total != 0 {
		t.Fatalf("errors: %v", b.errs.byText)
	}
	for i, tr := range r.turns {
		if !tr.ok {
			t.Errorf("turn %d not answered", i+1)
		}
	}
	if len(r.turns) != 3 || !r.ended {
		t.Fatalf("%d turns, ended %v; want 3 and ended", len(r.turns), r.ended)
	}
	if stored != 3 || refused != 1 || b.paced.Load() != 1 {
		t.Errorf("the server stored %d and refused %d as too soon, the bench counted %d retries; want 3 stored and 1 refused, retried once", stored, refused, b.paced.Load())
	}
	// Every response, the refusal's problem too, is read to its end: the
	// student kept one connection throughout.
	if n := b.c.dials.Load(); n != 1 {
		t.Errorf("the student opened %d connections, want 1", n)
	}
}

// TestScanServerLogLockErrorsByEngine: the report's lock-error count is the
// engine's own: SQLite's "database is locked", PostgreSQL's deadlocks,
// serialization failures, lock timeouts and exhausted connections; the
// server's own "busy" refusals count on both.
func TestScanServerLogLockErrorsByEngine(t *testing.T) {
	log := filepath.Join(t.TempDir(), "server.log")
	os.WriteFile(log, []byte(strings.Join([]string{
		`time=… level=ERROR msg="send message" err="database is locked (5) (SQLITE_BUSY)"`,
		`time=… level=ERROR msg="send message" err="ERROR: deadlock detected (SQLSTATE 40P01)"`,
		`time=… level=ERROR msg="end session" err="ERROR: could not serialize access due to concurrent update (SQLSTATE 40001)"`,
		`time=… level=ERROR msg="open" err="FATAL: sorry, too many clients already (SQLSTATE 53300)"`,
		`time=… level=WARN msg=login err="the server is busy signing people in; try again in a moment"`,
		`time=… level=INFO msg=request route=/api/sessions/start status=201`,
	}, "\n")+"\n"), 0o600)
	for _, tc := range []struct {
		postgres bool
		want     int
		label    string
	}{
		{false, 2, "SQLite busy errors"},
		{true, 4, "PostgreSQL lock errors"},
	} {
		s, err := scanServerLog(log, tc.postgres)
		if err != nil {
			t.Fatal(err)
		}
		if s.busy != tc.want || !strings.HasPrefix(s.lockLabel(), tc.label) {
			t.Errorf("postgres=%v: %d lines counted as %q, want %d as %q…", tc.postgres, s.busy, s.lockLabel(), tc.want, tc.label)
		}
	}
}

// TestReadSSEReadsToTheEnd: the bench's students read a stream to its end
// after the event they stop at, as the web client does, even when the rest
// comes in small pieces: a response closed before its end costs its
// connection, and the server would be measured accepting a new one for
// every turn.
func TestReadSSEReadsToTheEnd(t *testing.T) {
	const stream = "event: delta\ndata: {\"text\":\"Why?\"}\n\nevent: done\ndata: {\"response\":\"Why?\"}\n\n: the end\n\n"
	body := strings.NewReader(stream)
	var events []string
	err := readSSE(iotest.OneByteReader(body), func(event string, data []byte) bool {
		events = append(events, event)
		return event != "done"
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(events, " ") != "delta done" {
		t.Errorf("events %q, want delta then done", events)
	}
	if body.Len() != 0 {
		t.Errorf("%d bytes of the stream were left unread after done", body.Len())
	}
}
