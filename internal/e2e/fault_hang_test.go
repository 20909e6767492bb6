package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/moderation"
)

// TestFaultModelHangs is scenario 5 for the language model: the provider
// accepts every connection, reads the request and never answers.
//
// First only the tutor's requests hang (the moderation classifier, on the
// fast model, still answers): each turn in flight must end with an SSE
// error event in words within LLM_TIMEOUT (plus a generous margin for a
// loaded CI machine, and not before it: it waited for the model), leave
// the student's turn stored unanswered with nothing of an answer, and let
// go of its request to the provider.
//
// Then every request hangs, the classifier's too: the turn must end
// within the classifier's wait (1.5 s) with the fail-closed reply asking to say it again
// (README, Moderation: a late verdict shows nothing of the answer) — never text
// the classifier did not clear — and again let go of its requests.
//
// Once the model answers again, the next turn of each same session is
// acknowledged, and no goroutine is left behind (go_goroutines from
// /metrics, before and after).
//
// Short: 8 students, LLM_TIMEOUT=2s. Long (SOCRATIC_FAULT_LONG=1): 50
// students and the default 60s; knobs SOCRATIC_FAULT_HANG_STUDENTS and
// SOCRATIC_FAULT_LLM_TIMEOUT.
func TestFaultModelHangs(t *testing.T) {
	students := Knob(t, "SOCRATIC_FAULT_HANG_STUDENTS", 8, 50)
	if students < 8 {
		t.Fatal("SOCRATIC_FAULT_HANG_STUDENTS must be at least 8: fewer hung turns cannot tell a leak from background goroutines")
	}
	timeout := DurationKnob(t, "SOCRATIC_FAULT_LLM_TIMEOUT", 2*time.Second, 60*time.Second)
	m := StartModel(t, 0, 0)
	// GOTRACEBACK=all: a leak found below ends the server with SIGQUIT
	// and shows its goroutines.
	s := StartServer(t, append(m.Env(), "LLM_TIMEOUT="+timeout.String(), "LLM_MAX_CONCURRENT=1000",
		"RATE_LIMIT_CONVERSATIONS_PER_WEEK=10", "GOTRACEBACK=all")...)
	c := s.Client()
	w := SetupCourse(t, s, c, SmallPDF)
	// The week's themes are asked of the model once the reading is in:
	// let that finish before the model hangs.
	waitThemes(t, c, w)

	type student struct {
		tok  string
		sess int64
	}
	ss := make([]student, students)
	for i := range ss {
		ss[i].tok = c.AddStudent(t, w, fmt.Sprintf("hang%03d", i))
		ss[i].sess = c.StartSession(t, ss[i].tok, w.WeekID).SessionID
		// One answered turn each, so every connection pool and cache the
		// turn path keeps exists before the baseline.
		if tr, err := c.StreamTurn(context.Background(), ss[i].tok, ss[i].sess, "What is the rule? [m:warm"+fmt.Sprint(i)+"]", ""); err != nil || !tr.Acknowledged() {
			t.Fatalf("warm-up turn %d: %v %+v", i, err, tr)
		}
	}
	dropIdle := func() {
		c.HC.CloseIdleConnections()
		m.DropIdle()
	}
	// The job queue's maintenance (a score of goroutines: rescuer,
	// cleaners, scheduler…) starts only once this instance is elected
	// its leader, some seconds after start: a baseline taken before
	// that counts them as a leak afterwards.
	db := s.DB(t)
	waitJobLeader(t, db)
	before := settledGoroutines(t, c, -1, dropIdle)
	t.Logf("server goroutines before: %.0f", before)

	// All students send a turn at once; returns what each saw.
	send := func(tag string) []Turn {
		turns := make([]Turn, students)
		errs := make([]error, students)
		var wg sync.WaitGroup
		for i := range ss {
			wg.Go(func() {
				turns[i], errs[i] = c.StreamTurn(context.Background(), ss[i].tok, ss[i].sess, fmt.Sprintf("Is notice required? [m:%s%d]", tag, i), fmt.Sprintf("%s-%d", tag, i))
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s: student %d: the turn broke instead of ending in an event: %v", tag, i, err)
			}
		}
		return turns
	}
	// The server lets go of its requests to the model (before the fake
	// lets go of anything).
	released := func(tag string) {
		deadline := time.Now().Add(10 * time.Second)
		for m.Counts().Hanging > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := m.Counts().Hanging; n > 0 {
			t.Errorf("%s: %d requests to the model still open after their turns ended", tag, n)
		}
	}
	stored := func(tag string, i int) (state string, answers int) {
		if err := db.QueryRow(`SELECT state FROM turns WHERE session_id = ? AND client_msg_id = ?`, ss[i].sess, fmt.Sprintf("%s-%d", tag, i)).Scan(&state); err != nil {
			t.Errorf("%s: student %d: the turn is not stored: %v", tag, i, err)
		}
		db.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ? AND role = 'assistant'`, ss[i].sess).Scan(&answers)
		return state, answers
	}

	// 1. The tutor's model hangs.
	m.HangTutor(true)
	hung := m.Counts().Hung
	turns := send("tutor")
	if n := m.Counts().Hung - hung; n < students {
		t.Fatalf("the fake model held %d tutor requests, want %d: the turns did not reach it", n, students)
	}
	limit := timeout + 10*time.Second + timeout/2
	var slowest time.Duration
	for i, tr := range turns {
		slowest = max(slowest, tr.Took)
		switch {
		case tr.Status != 200:
			t.Errorf("tutor hangs: student %d: status %d %s, want a stream ending in an error event", i, tr.Status, tr.Body)
		case tr.Done || tr.ErrorEvent == "":
			t.Errorf("tutor hangs: student %d: want an error event, got done=%v deltas %q", i, tr.Done, tr.Deltas)
		case tr.Took > limit:
			t.Errorf("tutor hangs: student %d: the error came after %s, LLM_TIMEOUT is %s", i, tr.Took, timeout)
		case tr.Took < timeout-100*time.Millisecond:
			t.Errorf("tutor hangs: student %d: the error came after %s, before LLM_TIMEOUT %s: %q", i, tr.Took, timeout, tr.ErrorEvent)
		}
		if strings.Contains(tr.ErrorEvent, "sk-ant") || strings.Contains(tr.ErrorEvent, "127.0.0.1") {
			t.Errorf("tutor hangs: student %d: the error event leaks provider details: %q", i, tr.ErrorEvent)
		}
		if state, answers := stored("tutor", i); state != "unanswered" || answers != 2 {
			t.Errorf("tutor hangs: student %d: the turn is %q with %d tutor turns stored, want unanswered and 2 (opening, warm-up)", i, state, answers)
		}
	}
	t.Logf("tutor model hanging: %d turns ended after at most %s (LLM_TIMEOUT %s) with the error event %q", students, slowest.Round(time.Millisecond), timeout, turns[0].ErrorEvent)
	released("tutor hangs")

	// 2. Every request hangs, the classifier's too.
	m.Hang(true)
	turns = send("all")
	slowest = 0
	for i, tr := range turns {
		slowest = max(slowest, tr.Took)
		switch {
		case tr.Status != 200:
			t.Errorf("all hang: student %d: status %d %s", i, tr.Status, tr.Body)
		case !tr.Acknowledged():
			t.Errorf("all hang: student %d: want the redirect acknowledged, got %+v", i, tr)
		case strings.Contains(tr.Deltas, ModelReply[:20]):
			t.Errorf("all hang: student %d: uncleared model text reached the student: %q", i, tr.Deltas)
		case tr.Deltas != moderation.UnverifiedReply:
			t.Errorf("all hang: student %d: got %q, want the reply asking to say it again (not the off-course redirect)", i, tr.Deltas)
		case tr.Took > 1500*time.Millisecond+10*time.Second:
			t.Errorf("all hang: student %d: the redirect came after %s", i, tr.Took)
		}
		var moderated bool
		var reply string
		db.QueryRow(`SELECT a.moderated, a.content FROM turns a JOIN turns q ON a.reply_to = q.id WHERE q.session_id = ? AND q.client_msg_id = ?`, ss[i].sess, fmt.Sprintf("all-%d", i)).Scan(&moderated, &reply)
		if state, _ := stored("all", i); state != "answered" || !moderated || reply != tr.Response {
			t.Errorf("all hang: student %d: the turn is %q, its answer moderated %v %q; want the redirect stored as a moderated answer", i, state, moderated, reply)
		}
	}
	t.Logf("whole provider hanging: %d turns ended after at most %s with the fail-closed reply %q", students, slowest.Round(time.Millisecond), turns[0].Deltas)
	released("all hang")

	// 3. The model answers again: the same sessions carry on.
	m.Hang(false)
	m.Release()
	for i := range ss {
		mk := fmt.Sprintf("again%d", i)
		tr, err := c.StreamTurn(context.Background(), ss[i].tok, ss[i].sess, "So is notice required? [m:"+mk+"]", mk)
		if err != nil || !tr.Acknowledged() || tr.Response != ModelReply {
			t.Errorf("student %d: the turn after the model came back: %v %+v", i, err, tr)
		}
	}
	// Idle keep-alive connections (the test's to the server, the server's
	// to the model) hold goroutines that are no leak: they are closed on
	// every reading, as before the baseline — once is not enough, as a
	// connection still finishing its last response when asked is not idle
	// yet and stays open (two goroutines each in the server). Background
	// work (job pollers, sweeps, PDFium's pool) moves the count by up to
	// about six on a loaded machine; a leak of even one goroutine per hung
	// turn is 2 × students more.
	after := settledGoroutines(t, c, before, dropIdle)
	t.Logf("server goroutines after: %.0f (before %.0f)", after, before)
	if after > before+float64(students) {
		// Fatal: the dump ends the server, so nothing after can run.
		t.Fatalf("goroutines: %.0f before the hang, %.0f after: a leak; the server's goroutines:\n%s", before, after, goroutineDump(t, s))
	}
	for i := range ss {
		// Opening, then warm-up, tutor-hang, all-hang and again questions,
		// with answers to all but the tutor-hang one.
		if n := c.EndSession(t, ss[i].tok, ss[i].sess); n != 8 {
			t.Errorf("student %d: the transcript has %d turns, want 8", i, n)
		}
	}
}

// waitThemes waits until the week has its themes (the model's job after
// the reading is processed).
func waitThemes(t testing.TB, c *Client, w Course) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var wk struct {
			Themes []string `json:"themes"`
		}
		c.Must(t, "GET", fmt.Sprintf("/api/weeks/%d", w.WeekID), w.ProfToken, nil, 200, &wk)
		if len(wk.Themes) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the week has no themes after a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitJobLeader waits (up to 30 s) until the server has been elected the
// job queue's leader, then 2 s more for its maintenance services to start.
func waitJobLeader(t testing.TB, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM river_leader`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			time.Sleep(2 * time.Second)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no job queue leader elected within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settledGoroutines reads go_goroutines until it holds still for three
// readings in a row (or, with target ≥ 0, reaches target) for up to 15 s,
// and returns the last value; drop (closing idle connections) runs before
// every reading.
func settledGoroutines(t testing.TB, c *Client, target float64, drop func()) float64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	drop()
	last := c.Metric(t, "go_goroutines")
	if last < 0 {
		t.Fatal("/metrics has no go_goroutines")
	}
	still := 0
	for time.Now().Before(deadline) {
		time.Sleep(300 * time.Millisecond)
		drop()
		n := c.Metric(t, "go_goroutines")
		if target >= 0 && n <= target {
			return n
		}
		if n == last {
			still++
		} else {
			still = 0
		}
		if target < 0 && still >= 2 {
			return n
		}
		last = n
	}
	return last
}

// goroutineDump ends the server with SIGQUIT (started with GOTRACEBACK=all)
// and returns the goroutines it printed.
func goroutineDump(t testing.TB, s *Server) string {
	t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case err := <-done:
		done <- err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
	}
	out := s.Logs.String()
	if i := strings.Index(out, "SIGQUIT"); i >= 0 {
		out = out[i:]
	}
	return out
}

// hangingServer accepts connections, reads whatever comes, and never
// writes a byte, until the test ends; it counts connections open.
type hangingServer struct {
	URL  string
	open atomic.Int64
	seen atomic.Int64
}

func startHangingServer(t testing.TB) *hangingServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hangingServer{URL: "http://" + ln.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			h.open.Add(1)
			h.seen.Add(1)
			go func() {
				buf := make([]byte, 4096)
				for {
					if _, err := conn.Read(buf); err != nil {
						h.open.Add(-1)
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return h
}

// TestFaultVoiceHangs is scenario 5 for the voice provider: ElevenLabs
// accepts the connection and never answers. Starting a voice session
// must answer 503 with Retry-After and words within ELEVENLABS_TIMEOUT
// (plus a margin), leave the week's quota unspent, and a text session
// must still start and be answered; the server lets go of its
// connections to the provider.
func TestFaultVoiceHangs(t *testing.T) {
	timeout := DurationKnob(t, "SOCRATIC_FAULT_VOICE_TIMEOUT", time.Second, 10*time.Second)
	m := StartModel(t, 0, 0)
	h := startHangingServer(t)
	s := StartServer(t, append(m.Env(), "VOICE_PROVIDER=elevenlabs", "ELEVENLABS_API_KEY=xi-e2e-fake-key",
		"ELEVENLABS_BASE_URL="+h.URL, "ELEVENLABS_TIMEOUT="+timeout.String())...)
	c := s.Client()
	w := SetupCourse(t, s, c, SmallPDF)
	tok := c.AddStudent(t, w, "voice")
	var quota struct {
		Remaining int `json:"remaining"`
	}
	c.Must(t, "GET", "/api/sessions/quota", tok, nil, 200, &quota)
	before := quota.Remaining

	seen := h.seen.Load()
	r, err := c.API(context.Background(), "POST", "/api/sessions/start", tok, map[string]any{"week_id": w.WeekID, "mode": "voice"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("voice start against a hanging ElevenLabs: %d after %s (ELEVENLABS_TIMEOUT %s): %s", r.Status, r.Took.Round(time.Millisecond), timeout, r.Body)
	if h.seen.Load() == seen {
		t.Fatal("the start never called the voice provider")
	}
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("voice start: %d (Retry-After %q, %s), want 503 problem+json with Retry-After", r.Status, r.Header.Get("Retry-After"), r.Header.Get("Content-Type"))
	}
	if limit := 3*timeout + 10*time.Second; r.Took > limit {
		t.Errorf("voice start answered after %s, ELEVENLABS_TIMEOUT is %s", r.Took, timeout)
	}
	if strings.Contains(string(r.Body), "xi-e2e-fake-key") {
		t.Error("the answer carries the ElevenLabs key")
	}
	c.Must(t, "GET", "/api/sessions/quota", tok, nil, 200, &quota)
	if quota.Remaining != before {
		t.Errorf("quota: %d remaining before, %d after a failed voice start", before, quota.Remaining)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := h.open.Load(); n > 0 {
		t.Errorf("%d connections to the voice provider still open after the start answered", n)
	}

	st := c.StartSession(t, tok, w.WeekID)
	if tr, err := c.StreamTurn(context.Background(), tok, st.SessionID, "What is the rule?", "v1"); err != nil || !tr.Acknowledged() {
		t.Errorf("a text session's turn with the voice provider hanging: %v %+v", err, tr)
	}
}
