package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/tutor"
)

// testClock is a settable clock for the session service.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sessionWorld is LAW 101 (see world) whose week 1 holds a real corpus
// opinion, read by PDFium, with a classmate enrolled beside the student,
// served by a session service whose tutor answers through model (nil: the
// offline tutor) on a clock the test moves.
type sessionWorld struct {
	*world
	svc   *session.Service
	clock *testClock
}

func newSessionWorld(t testing.TB, model llm.Provider, opts ...fixtureOption) *sessionWorld {
	t.Helper()
	f := newIngestingFixture(t, opts...)
	w := buildWorld(t, f)
	classmate := f.addUser("classmate", auth.RoleStudent)
	if _, err := f.courses.Join(context.Background(), f.users[classmate], w.course.JoinCode); err != nil {
		t.Fatal(err)
	}
	w.persona["classmate"] = f.tokenOf[classmate]
	pdf, err := os.ReadFile(filepath.Join(corpusDir, "ca7-lopez-v-thurmer-2010.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if res := w.upload("teaching", w.week.ID, "lopez-v-thurmer.pdf", pdf); res.status != 202 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	for id, status := range f.waitDocuments(t, time.Minute) {
		if status != "processed" {
			t.Fatalf("document %d is %s", id, status)
		}
	}
	sw := &sessionWorld{world: w, clock: &testClock{t: time.Now().Truncate(time.Second)}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := SessionOptions(f.cfg, tutor.New(retrieval.NewSearcher(nil, 0, log), model).WithClassifier(nil, 0), log)
	o.Now = sw.clock.Now
	o.Recordings = f.recordings
	sw.svc = session.NewService(f.db, o)
	f.srv = New(Deps{Config: f.cfg, DB: f.db, Auth: f.auth, Courses: f.courses, Documents: f.docs, PDF: sharedPDF(),
		Jobs: f.queue.Client(), Sessions: sw.svc, Logger: log})
	return sw
}

// startAs starts a session over HTTP and returns its id.
func (w *sessionWorld) startAs(t testing.TB, persona string) int64 {
	t.Helper()
	res := w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.persona[persona], body: `{"week_id":` + itoa(w.week.ID) + `}`})
	if res.status != 201 {
		t.Fatalf("start as %s: %d %s", persona, res.status, res.body)
	}
	return int64(res.json(t)["session_id"].(float64))
}

// sessionState is everything about sessions a refused request must not
// change.
func (f *fixture) sessionState() string {
	f.t.Helper()
	var s string
	err := f.db.Read.QueryRow(`SELECT
		(SELECT coalesce(string_agg(id||status||coalesce(ended_at,'')||coalesce(audio_name,''), ';' ORDER BY id), '') FROM sessions) || '|' ||
		(SELECT coalesce(string_agg(id||role||state||content, ';' ORDER BY id), '') FROM turns)`).Scan(&s)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// sessionMatrix is who gets what on every session route, called on an
// active session of the enrolled student ("owner") — for the recording, an
// ended session that has one. Other students and professors of other
// courses are told it does not exist; the course's professor and admins
// may read it but not speak in it.
var sessionMatrix = []struct {
	route                                                                  string
	anonymous, owner, classmate, notEnrolled, teaching, notTeaching, admin int
}{
	//                                                  anon owner classmate not-enrolled teaching not-teaching admin
	{"POST /api/sessions/start" /*                     */, 401, 201, 201, 404, 201, 404, 201},
	{"GET /api/sessions/quota" /*                      */, 401, 200, 200, 200, 200, 200, 200},
	{"POST /api/sessions/{session_id}/message" /*      */, 401, 200, 404, 404, 403, 404, 403},
	{"POST /api/sessions/{session_id}/message/stream" /**/, 401, 200, 404, 404, 403, 404, 403},
	{"POST /api/sessions/{session_id}/end" /*          */, 401, 200, 404, 404, 403, 404, 403},
	{"GET /api/sessions" /*                            */, 401, 200, 200, 200, 200, 200, 200},
	{"GET /api/sessions/{session_id}" /*               */, 401, 200, 404, 404, 200, 404, 200},
	{"GET /api/sessions/{session_id}/audio" /*         */, 401, 200, 404, 404, 200, 404, 200},
	{"GET /api/courses/{course_id}/sessions.csv" /*    */, 401, 403, 403, 404, 200, 404, 200},
	// Browser voice mode: the owner is told the server does not speak.
	{"POST /api/sessions/{session_id}/speech" /*       */, 401, 501, 404, 404, 403, 404, 403},
}

var sessionBodies = map[string]string{
	"POST /api/sessions/start":                       `{"week_id":{week_id}}`,
	"POST /api/sessions/{session_id}/message":        `{"message":"Was the search reasonable?"}`,
	"POST /api/sessions/{session_id}/message/stream": `{"message":"Was the search reasonable?"}`,
}

func TestSessionAccessMatrix(t *testing.T) {
	w := newSessionWorld(t, nil, func(c *cfgT) { c.RateLimitConversationsPerWeek = 1000 })
	wavBytes := wav(2048)
	columns := []string{"anonymous", "enrolled", "classmate", "not enrolled", "teaching", "not teaching", "admin"}
	for _, row := range sessionMatrix {
		want := []int{row.anonymous, row.owner, row.classmate, row.notEnrolled, row.teaching, row.notTeaching, row.admin}
		for i, who := range columns {
			t.Run(fmt.Sprintf("%s/%s", row.route, who), func(t *testing.T) {
				id := w.startAs(t, "enrolled")
				if strings.HasSuffix(row.route, "/audio") {
					body, ct := multipartBody("audio", "talk.wav", wavBytes)
					if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: body, contentType: ct}); res.status != 200 {
						t.Fatalf("end with audio: %d %s", res.status, res.body)
					}
				}
				method, path, _ := strings.Cut(row.route, " ")
				fill := strings.NewReplacer("{session_id}", itoa(id), "{course_id}", itoa(w.course.ID), "{week_id}", itoa(w.week.ID))
				req := request{method: method, path: fill.Replace(path), token: w.persona[who]}
				if b, ok := sessionBodies[row.route]; ok {
					req.body = fill.Replace(b)
				}
				before := w.f.sessionState()
				res := w.f.do(req)
				if res.status != want[i] {
					t.Fatalf("%s as %s: %d, want %d: %s", row.route, who, res.status, want[i], res.body)
				}
				if res.status >= 400 {
					assertProblem(t, res)
					if after := w.f.sessionState(); after != before {
						t.Errorf("a refused request changed sessions:\nbefore %s\nafter  %s", before, after)
					}
				}
			})
		}
	}
}

// TestSessionMatrixCoversTheContract fails when API.md gains a session
// route that the matrix does not judge.
func TestSessionMatrixCoversTheContract(t *testing.T) {
	judged := map[string]bool{}
	for _, row := range sessionMatrix {
		judged[row.route] = true
	}
	assertJudged(t, "Tutoring", 8, judged)
}

// TestStartAnswersTheContract: the fields of a start, the refusal of a
// week with nothing to read, and the fourth start of a week.
func TestStartAnswersTheContract(t *testing.T) {
	w := newSessionWorld(t, nil)
	res := w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.persona["enrolled"], body: `{"week_id":` + itoa(w.week.ID) + `,"voice_id":"rachel"}`})
	if res.status != 201 {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	m := res.json(t)
	voice, _ := m["voice"].(map[string]any)
	if m["session_id"] == nil || m["opening_message"] == "" || m["max_duration"] != 300.0 || m["remaining_this_week"] != 2.0 ||
		m["voice_token"] != nil || voice["provider"] != "browser" || voice["voice_id"] != "rachel" || voice["token"] != nil {
		t.Errorf("start answer: %s", res.body)
	}
	if _, ok := m["initial_theme"].(string); !ok {
		t.Errorf("initial_theme: %s", res.body)
	}
	expires, err := time.Parse(time.RFC3339, m["expires_at"].(string))
	if err != nil || expires.Sub(w.clock.Now()).Round(time.Second) != 5*time.Minute {
		t.Errorf("expires_at %v (%v)", m["expires_at"], err)
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(int64(m["session_id"].(float64))), token: w.persona["enrolled"]}).json(t)
	tr := detail["transcript"].([]any)
	if len(tr) != 1 || tr[0].(map[string]any)["content"] != m["opening_message"] || tr[0].(map[string]any)["role"] != "assistant" {
		t.Errorf("transcript after start: %v", tr)
	}

	empty := w.f.do(request{method: "POST", path: "/api/courses/" + itoa(w.course.ID) + "/weeks", token: w.persona["teaching"], body: `{"week_number":2}`}).json(t)
	res = w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.persona["enrolled"], body: `{"week_id":` + strconv.Itoa(int(empty["id"].(float64))) + `}`})
	if res.status != 409 {
		t.Errorf("a week with no processed reading: %d %s", res.status, res.body)
	}
	assertProblem(t, res)

	w.startAs(t, "enrolled")
	w.startAs(t, "enrolled")
	res = w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.persona["enrolled"], body: `{"week_id":` + itoa(w.week.ID) + `}`})
	if res.status != 429 || res.json(t)["detail"] != "Exceeded maximum conversations per week" {
		t.Fatalf("fourth start: %d %s", res.status, res.body)
	}
	assertProblem(t, res)
	chicago, _ := time.LoadLocation("America/Chicago")
	now := w.clock.Now().In(chicago)
	y, mo, d := now.Date()
	monday := time.Date(y, mo, d-(int(now.Weekday())+6)%7+7, 0, 0, 0, 0, chicago)
	want := int(monday.Sub(w.clock.Now()).Seconds())
	if got, _ := strconv.Atoi(res.header.Get("Retry-After")); got < want || got > want+1 {
		t.Errorf("Retry-After %q, want %d (until %v)", res.header.Get("Retry-After"), want, monday)
	}
	q := w.f.do(request{method: "GET", path: "/api/sessions/quota", token: w.persona["enrolled"]}).json(t)
	if q["limit"] != 3.0 || q["used"] != 3.0 || q["remaining"] != 0.0 || q["resets_at"] != monday.UTC().Format(time.RFC3339) {
		t.Errorf("quota %v, want reset at %s", q, monday.UTC().Format(time.RFC3339))
	}
}

// TestMessageRules: the JSON and query forms, the length rules, a repeated
// client_msg_id, and the clock.
func TestMessageRules(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	path := "/api/sessions/" + itoa(id) + "/message"
	say := func(body, query string) response {
		return w.f.do(request{method: "POST", path: path + query, token: w.persona["enrolled"], body: body})
	}
	res := say(`{"message":"Was the officer's search of the house reasonable?","client_msg_id":"c-1"}`, "")
	if res.status != 200 {
		t.Fatalf("message: %d %s", res.status, res.body)
	}
	first := res.json(t)
	if r, _ := first["response"].(string); !strings.HasSuffix(r, "?") || len(first["sources"].([]any)) == 0 || first["moderated"] != false || first["remaining_seconds"] != 300.0 {
		t.Errorf("answer %s", res.body)
	}
	again := say(`{"message":"Was the officer's search of the house reasonable?","client_msg_id":"c-1"}`, "").json(t)
	if again["response"] != first["response"] {
		t.Errorf("a repeated client_msg_id answered %q, first %q", again["response"], first["response"])
	}
	w.clock.Add(w.turnInterval())
	if res := say("", "?message="+strings.ReplaceAll("What did the court decide?", " ", "+")); res.status != 200 {
		t.Errorf("query form: %d %s", res.status, res.body)
	}
	for name, body := range map[string]string{
		"empty":     `{"message":""}`,
		"blank":     `{"message":"   "}`,
		"too long":  `{"message":"` + strings.Repeat("a", 4001) + `"}`,
		"no text":   `{}`,
		"malformed": `{"message":`,
	} {
		res := say(body, "")
		if res.status != 422 && res.status != 400 {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
		assertProblem(t, res)
	}
	if res := say("", ""); res.status != 422 {
		t.Errorf("no body and no query: %d %s", res.status, res.body)
	}
	var turns int
	w.f.db.Read.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ?`, id).Scan(&turns)
	if turns != 5 {
		t.Errorf("%d turns stored, want the opening and two exchanges", turns)
	}
	w.clock.Add(301 * time.Second)
	res = say(`{"message":"One more thing?"}`, "")
	if res.status != 409 {
		t.Fatalf("past the clock: %d %s", res.status, res.body)
	}
	assertProblem(t, res)
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	if detail["status"] != "ended" || detail["duration_seconds"] != 300.0 {
		t.Errorf("after the clock: %v %v", detail["status"], detail["duration_seconds"])
	}
}

// TestSessionsOutliveTheirCourse: deleting a course keeps its sessions
// and transcripts for the student and admins.
func TestSessionsOutliveTheirCourse(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":"Was the search reasonable?"}`}); res.status != 200 {
		t.Fatalf("message: %d %s", res.status, res.body)
	}
	if res := w.f.do(request{method: "DELETE", path: "/api/courses/" + itoa(w.course.ID), token: w.persona["teaching"]}); res.status != 204 {
		t.Fatalf("delete course: %d %s", res.status, res.body)
	}
	for who, want := range map[string]int{"enrolled": 200, "admin": 200, "teaching": 404} {
		res := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona[who]})
		if res.status != want {
			t.Errorf("%s reads the session: %d", who, res.status)
		}
		if want == 200 {
			m := res.json(t)
			if len(m["transcript"].([]any)) != 3 || m["course_name"] != "Torts" {
				t.Errorf("%s sees %s", who, res.body)
			}
		}
	}
	// SQLite gives the deleted course's id to the next course: its
	// instructor must not see the old course's sessions.
	res0 := w.f.do(request{method: "POST", path: "/api/courses", token: w.persona["not teaching"], body: `{"code":"LAW 909","name":"Evidence"}`})
	if res0.status != 201 {
		t.Fatalf("new course: %d %s", res0.status, res0.body)
	}
	newCourse := int64(res0.json(t)["id"].(float64))
	if newCourse != w.course.ID {
		t.Logf("the new course got id %d, not the old %d: the reuse case is not exercised", newCourse, w.course.ID)
	}
	if res := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["not teaching"]}); res.status != 404 {
		t.Errorf("the new course's professor reads the old session: %d", res.status)
	}
	if list := w.f.do(request{method: "GET", path: "/api/sessions?course_id=" + itoa(newCourse), token: w.persona["not teaching"]}).json(t); list["total"] != 0.0 {
		t.Errorf("the new course's professor lists old sessions: %v", list)
	}
	if csv := w.f.do(request{method: "GET", path: "/api/courses/" + itoa(newCourse) + "/sessions.csv", token: w.persona["not teaching"]}); strings.Count(string(csv.body), "\n") != 1 {
		t.Errorf("the new course's CSV holds old sessions:\n%s", csv.body)
	}
	// Its week is gone but the session is not: the tutor still answers
	// (with no readings to quote) until the clock runs out.
	w.clock.Add(w.turnInterval())
	res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":"Still there?"}`})
	if res.status != 200 {
		t.Errorf("a message after the course went: %d %s", res.status, res.body)
	}
}

func TestListSessionsFilters(t *testing.T) {
	w := newSessionWorld(t, nil)
	mine := w.startAs(t, "enrolled")
	theirs := w.startAs(t, "classmate")
	w.f.db.Write.Exec(`UPDATE sessions SET moderated_count = 1 WHERE id = ?`, theirs)
	list := func(who, query string) []int64 {
		res := w.f.do(request{method: "GET", path: "/api/sessions" + query, token: w.persona[who]})
		if res.status != 200 {
			t.Fatalf("list %s: %d %s", query, res.status, res.body)
		}
		var ids []int64
		for _, it := range res.json(t)["items"].([]any) {
			ids = append(ids, int64(it.(map[string]any)["id"].(float64)))
		}
		return ids
	}
	check := func(name string, got []int64, want ...int64) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("student", list("enrolled", ""), mine)
	check("professor", list("teaching", ""), theirs, mine)
	check("professor, moderated", list("teaching", "?moderated=true"), theirs)
	check("professor, one student", list("teaching", "?user_id="+itoa(w.f.users["student"].ID)), mine)
	check("admin, week", list("admin", "?week_id="+itoa(w.week.ID)+"&course_id="+itoa(w.course.ID)), theirs, mine)
	check("other professor", list("not teaching", ""))
	check("student asking for another", list("enrolled", "?user_id="+itoa(w.f.users["classmate"].ID)))
	check("paged", list("admin", "?limit=1&offset=1"), mine)
}

func TestCourseSessionsCSV(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	w.f.db.Write.Exec(`UPDATE users SET full_name = '=HYPERLINK("http://evil")' WHERE id = ?`, w.f.users["student"].ID)
	w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":"Was the search reasonable?"}`})
	w.clock.Add(w.turnInterval())
	w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":"=HYPERLINK(\"http://evil\",\"click\")\n@SUM(1+1)"}`})
	w.clock.Add(42*time.Second - w.turnInterval())
	w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"]})
	res := w.f.do(request{method: "GET", path: "/api/courses/" + itoa(w.course.ID) + "/sessions.csv", token: w.persona["teaching"]})
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
	if !strings.HasPrefix(lines[0], "session_id,user_id,student_username,student_name,student_email,week_number") || !strings.HasSuffix(lines[0], ",has_audio,transcript") {
		t.Fatalf("header:\n%s", lines[0])
	}
	want := itoa(id) + "," + itoa(w.f.users["student"].ID) + `,student,"'=HYPERLINK(""http://evil"")",student@law.example.edu,1,Intentional torts,ended,`
	if !strings.HasPrefix(lines[1], want) {
		t.Errorf("row:\n%s\nwant prefix %s", lines[1], want)
	}
	records, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 {
		t.Fatalf("%d records:\n%s", len(records), res.body)
	}
	row := records[1]
	if got := strings.Join(row[10:14], ","); got != "42,2,0,false" {
		t.Errorf("duration, turns, moderated, has_audio: %s, want 42,2,0,false", got)
	}
	// The transcript, one cell: a line per turn, opening and answers
	// included, never starting with a character a spreadsheet evaluates.
	script := row[14]
	turns := strings.Split(script, "\n")
	if strings.ContainsRune("=+-@\t\r", rune(script[0])) {
		t.Errorf("transcript cell starts a formula: %q", script)
	}
	if !strings.HasPrefix(turns[0], "Tutor: ") || !strings.Contains(script, "\nStudent: Was the search reasonable?\nTutor: ") ||
		!strings.Contains(script, "\nStudent: =HYPERLINK(\"http://evil\",\"click\")\n@SUM(1+1)\nTutor: ") {
		t.Errorf("transcript cell:\n%s", script)
	}
	var said int
	for _, line := range turns {
		if strings.HasPrefix(line, "Student: ") || strings.HasPrefix(line, "Tutor: ") {
			said++
		}
	}
	if said != 5 { // opening, then two questions and their answers
		t.Errorf("%d turns in the transcript cell, want 5:\n%s", said, script)
	}
}
