package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lawtutor/socratic/internal/roundrobin"
	"github.com/lawtutor/socratic/internal/testenv"
)

// postgresEnv is a fresh PostgreSQL database (SOCRATIC_TEST_POSTGRES; the
// test skips without it, fails under SOCRATIC_REQUIRE_TOOLS=1) and one S3
// bucket (gofakes3, in this process) as the settings of a server, with
// the database's URL for the test's own queries.
func postgresEnv(t testing.TB) (env []string, dbURL string) {
	t.Helper()
	testenv.OnlyPostgres(t)
	dbURL = testenv.Postgres(t)
	backend := s3mem.New()
	if err := backend.CreateBucket("law-uploads"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3.Close)
	return []string{"DATABASE_URL=" + dbURL, "BLOB_URL=s3://law-uploads/school", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test-secret",
		"AWS_ENDPOINT_URL=" + s3.URL, "AWS_REGION=us-east-1"}, dbURL
}

func openPostgres(t testing.TB, u string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestServeOnPostgres: the real binary serves on PostgreSQL (with its
// uploads in an S3 bucket): an admin made by `socratic user create`, a
// professor's course, a real PDF uploaded and processed, a student who
// signs up with the join code, starts a session, has a streamed turn
// answered and ends it — the turns are PostgreSQL's rows.
func TestServeOnPostgres(t *testing.T) {
	env, dbURL := postgresEnv(t)
	m := StartModel(t, 0, 0)
	s := StartServer(t, append(m.Env(), env...)...)
	c := s.Client()
	s.CreateUser("admin", "admin", "an admin password")
	c.Login(t, "admin", "an admin password")
	w := SetupCourse(t, s, c, SmallPDF)
	tok := c.AddStudent(t, w, "ada")
	st := c.StartSession(t, tok, w.WeekID)
	if st.OpeningMessage == "" {
		t.Fatal("no opening message")
	}
	tr, err := c.StreamTurn(context.Background(), tok, st.SessionID, "Is notice the rule? [m:pg-1]", "pg-1")
	if err != nil || !tr.Acknowledged() {
		t.Fatalf("turn: %v %+v\n%s", err, tr, s.Logs.String())
	}
	if n := c.EndSession(t, tok, st.SessionID); n != 3 {
		t.Errorf("transcript: %d turns, want 3", n)
	}
	var turns, passages int
	db := openPostgres(t, dbURL)
	if err := db.QueryRow(`SELECT count(*) FROM turns WHERE session_id = $1`, st.SessionID).Scan(&turns); err != nil || turns != 3 {
		t.Errorf("turns in PostgreSQL: %d %v, want 3", turns, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM chunks WHERE document_id = $1`, w.DocID).Scan(&passages); err != nil || passages == 0 {
		t.Errorf("passages in PostgreSQL: %d %v", passages, err)
	}
	s.Stop()
	if strings.Contains(s.Logs.String(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", s.Logs.String())
	}
}

// alternating is a reverse proxy that sends each request to the next of
// its backends in turn, as a round-robin load balancer does
// (internal/roundrobin).
func alternating(t testing.TB, backends ...*Server) *Client {
	t.Helper()
	var bases []string
	for _, b := range backends {
		bases = append(bases, b.Base)
	}
	rr, err := roundrobin.New(bases, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rr)
	t.Cleanup(srv.Close)
	return &Client{Base: srv.URL, HC: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}}}
}

// TestTwoInstancesOnPostgres: two `socratic serve` on one PostgreSQL
// database and one S3 bucket, behind a proxy that alternates requests
// between them — issue 20's acceptance.
func TestTwoInstancesOnPostgres(t *testing.T) {
	env, dbURL := postgresEnv(t)
	m := StartModel(t, 0, 0)
	a := StartServer(t, append(m.Env(), env...)...)
	b := StartServer(t, append(m.Env(), env...)...)
	ac, bc, pc := a.Client(), b.Client(), alternating(t, a, b)
	db := openPostgres(t, dbURL)
	w := SetupCourse(t, a, pc, "")

	// A reading uploaded through a is processed by whichever instance's
	// worker takes it, and b's search finds it within a second of the
	// status saying processed.
	doc := ac.UploadPDF(t, w.ProfToken, w.WeekID, testenv.CorpusPDF(SmallPDF))
	ac.WaitDocument(t, w.ProfToken, doc, 3*time.Minute, "processed")
	processed := time.Now()
	for {
		var hits struct {
			Items []struct {
				DocumentID int64 `json:"document_id"`
			} `json:"items"`
		}
		bc.Must(t, "POST", fmt.Sprintf("/api/weeks/%d/search", w.WeekID), w.ProfToken, map[string]any{"query": "due process notice and hearing", "k": 5}, 200, &hits)
		if len(hits.Items) > 0 {
			for _, h := range hits.Items {
				if h.DocumentID != doc {
					t.Errorf("a hit from document %d, want %d", h.DocumentID, doc)
				}
			}
			break
		}
		if time.Since(processed) > time.Second {
			t.Fatalf("b's search found nothing a second after a said the reading was processed")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A student signs in on a and has turns answered through b.
	tok := ac.AddStudent(t, w, "ada")
	st := bc.StartSession(t, tok, w.WeekID)
	for i := range 2 {
		mk := fmt.Sprintf("two-%d", i)
		tr, err := bc.StreamTurn(context.Background(), tok, st.SessionID, "Is notice the rule? [m:"+mk+"]", mk)
		if err != nil || !tr.Acknowledged() {
			t.Fatalf("turn %d through b: %v %+v\n%s", i, err, tr, b.Logs.String())
		}
	}
	if n := ac.EndSession(t, tok, st.SessionID); n != 5 {
		t.Errorf("the transcript read through a: %d turns, want 5", n)
	}

	// 50 starts at once, alternating between the instances, give exactly
	// the week's quota of 3 sessions, one of them open.
	ben := pc.AddStudent(t, w, "ben")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 50 {
		wg.Go(func() {
			r, err := pc.API(context.Background(), "POST", "/api/sessions/start", ben, map[string]any{"week_id": w.WeekID, "mode": "text"})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("start: %v", err)
				return
			}
			statuses[r.Status]++
		})
	}
	wg.Wait()
	if statuses[201] != 3 || statuses[429] != 47 {
		t.Errorf("50 starts through both instances: %v, want 3 started (201) and 47 refused (429)", statuses)
	}
	var sessions, open int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE s.status = 'active') FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'ben'`).Scan(&sessions, &open); err != nil || sessions != 3 || open != 1 {
		t.Errorf("ben's sessions in the database: %d (%d open) %v, want 3 (1 open)", sessions, open, err)
	}

	// The sign-in throttle counts failures made through either instance.
	for i := range 5 {
		if r, err := pc.API(context.Background(), "POST", "/api/auth/login", "", map[string]string{"username": "ada", "password": "a wrong guess"}); err != nil || r.Status != 401 {
			t.Fatalf("wrong guess %d: %v %d %s", i+1, err, r.Status, r.Body)
		}
	}
	for name, c := range map[string]*Client{"a": ac, "b": bc} {
		r, err := c.API(context.Background(), "POST", "/api/auth/login", "", map[string]string{"username": "ada", "password": "a long enough password"})
		if err != nil || r.Status != 429 {
			t.Errorf("the right password through %s after five failures split across both: %v %d %s, want 429", name, err, r.Status, r.Body)
		}
	}

	// SIGKILL of an instance with a turn in flight loses no turn either
	// instance acknowledged.
	cara := pc.AddStudent(t, w, "cara")
	sc := pc.StartSession(t, cara, w.WeekID)
	var acked []string
	for i := range 4 {
		mk := fmt.Sprintf("kill-%d", i)
		tr, err := pc.StreamTurn(context.Background(), cara, sc.SessionID, "Is notice the rule? [m:"+mk+"]", mk)
		if err != nil || !tr.Acknowledged() {
			t.Fatalf("turn %d through the proxy: %v %+v\na's log:\n%s\nb's log:\n%s", i, err, tr, tail(a.Logs.String(), 3000), tail(b.Logs.String(), 3000))
		}
		acked = append(acked, mk)
	}
	m.HangTutor(true)
	inflight := make(chan Turn, 1)
	go func() {
		tr, _ := ac.StreamTurn(context.Background(), cara, sc.SessionID, "And the hearing? [m:kill-inflight]", "kill-inflight")
		inflight <- tr
	}()
	for deadline := time.Now().Add(time.Minute); m.Counts().Hanging == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the turn sent to a never reached the model:\n%s", a.Logs.String())
		}
	}
	a.Kill()
	if tr := <-inflight; tr.Acknowledged() {
		t.Fatalf("the turn in flight was acknowledged by a killed instance: %+v", tr)
	}
	m.HangTutor(false)
	m.Release()
	for _, mk := range acked {
		var user int64
		var answers int
		if err := db.QueryRow(`SELECT id FROM turns WHERE session_id = $1 AND role = 'user' AND client_msg_id = $2 AND state = 'answered'`, sc.SessionID, mk).Scan(&user); err != nil {
			t.Errorf("acknowledged turn %s after the kill: its answered message: %v", mk, err)
			continue
		}
		if err := db.QueryRow(`SELECT count(*) FROM turns WHERE reply_to = $1 AND role = 'assistant'`, user).Scan(&answers); err != nil || answers != 1 {
			t.Errorf("acknowledged turn %s after the kill: %d answers (%v), want 1", mk, answers, err)
		}
	}
	// b serves on: a new student's session and turn.
	dan := bc.AddStudent(t, w, "dan")
	sd := bc.StartSession(t, dan, w.WeekID)
	if tr, err := bc.StreamTurn(context.Background(), dan, sd.SessionID, "Is notice the rule? [m:after-kill]", "after-kill"); err != nil || !tr.Acknowledged() {
		t.Fatalf("a turn on b after a was killed: %v %+v\n%s", err, tr, b.Logs.String())
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string { return s[max(0, len(s)-n):] }
