package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/tutor"
)

// clock is a settable time for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a database with one course (LAW 101, week 1 with a processed
// reading and a second week with none), its professor, an enrolled student,
// another enrolled student, an outsider, a professor of nothing and an
// admin; and a session service over it.
type env struct {
	db              *sqlite.DB
	clock           *clock
	svc             *Service
	chicago         *time.Location
	courseID        int64
	week, emptyWeek int64
	users           map[string]auth.User
	audioDir        string
}

func newEnv(t testing.TB, model llm.Provider) *env {
	t.Helper()
	return newEnvOn(t, sqlitetest.OpenMigrated(t), model)
}

// newEnvOn is newEnv on a migrated database of either engine (see
// sqlitetest.Each).
func newEnvOn(t testing.TB, db *sqlite.DB, model llm.Provider) *env {
	t.Helper()
	ctx := context.Background()
	var err error
	exec := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.Write.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	e := &env{db: db, users: map[string]auth.User{}, audioDir: filepath.Join(t.TempDir(), "audio")}
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"student", auth.RoleStudent}, {"classmate", auth.RoleStudent}, {"outsider", auth.RoleStudent},
		{"professor", auth.RoleProfessor}, {"stranger", auth.RoleProfessor}, {"admin", auth.RoleAdmin}} {
		id := exec(`INSERT INTO users (email, username, full_name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`,
			u.name+"@law.example.edu", u.name, "Test "+u.name, string(u.role))
		e.users[u.name] = auth.User{ID: id, Role: u.role, Username: u.name}
	}
	e.courseID = exec(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES ('LAW 101', 'Contracts', 'jc', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`)
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO course_instructors (course_id, user_id, added_at) VALUES (?, ?, '2026-01-01T00:00:00.000000Z')`, e.courseID, e.users["professor"].ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"student", "classmate"} {
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO enrollments (course_id, user_id, enrolled_at) VALUES (?, ?, '2026-01-01T00:00:00.000000Z')`, e.courseID, e.users[s].ID); err != nil {
			t.Fatal(err)
		}
	}
	e.week = exec(`INSERT INTO weeks (course_id, week_number, title, themes, created_at, updated_at) VALUES (?, 1, 'Acceptance', '["the mailbox rule","revocation"]', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`, e.courseID)
	e.emptyWeek = exec(`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, 2, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')`, e.courseID)
	doc := exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'adams.pdf', ?, 1, 'processed', '2026-01-01T00:00:00.000000Z')`, e.week, fmt.Sprintf("%064d", 1))
	exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, 0, 4, 0, 1, ?, 20)`, doc, e.week,
		"An acceptance by mail is effective on dispatch, the court held. The offeror bears the risk of a lost letter.")
	e.chicago, err = time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 2026-11-18 10:00 in Chicago.
	e.clock = &clock{t: time.Date(2026, 11, 18, 10, 0, 0, 0, e.chicago)}
	e.svc = NewService(db, Options{
		Tutor: tutor.New(retrieval.NewSearcher(nil, 0, nil), model).WithClassifier(nil, 0), AudioDir: e.audioDir, PerWeek: 3,
		MaxDuration: 5 * time.Minute, Location: e.chicago, MaxAudio: 1 << 20, Grace: time.Minute,
		Now: e.clock.Now, Rand: rand.New(rand.NewPCG(1, 2)),
	})
	return e
}

func (e *env) start(t *testing.T, who string) Started {
	t.Helper()
	st, err := e.svc.Start(context.Background(), e.users[who], e.week, "")
	if err != nil {
		t.Fatalf("start as %s: %v", who, err)
	}
	return st
}

// say sends a message and waits for its answer.
func (e *env) say(ctx context.Context, who string, id int64, text, clientID string) (Answer, error) {
	p, err := e.svc.Begin(ctx, e.users[who], id, text, clientID)
	if err != nil {
		return Answer{}, err
	}
	return p.Run(ctx, nil)
}

func codeOf(err error) errs.Code {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Read.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStartOpensWithAThemeAndStoresTheOpening(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		st := e.start(t, "student")
		if st.Session.Theme != "the mailbox rule" && st.Session.Theme != "revocation" {
			t.Errorf("theme %q is not one of the week's", st.Session.Theme)
		}
		if st.Opening == "" || st.Opening[len(st.Opening)-1] != '?' {
			t.Errorf("opening %q is not a question", st.Opening)
		}
		if st.Remaining == nil || *st.Remaining != 2 {
			t.Errorf("remaining %v, want 2", st.Remaining)
		}
		got, err := e.svc.Get(context.Background(), e.users["student"], st.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Transcript) != 1 || got.Transcript[0].Role != Tutor || got.Transcript[0].Content != st.Opening {
			t.Errorf("transcript %+v", got.Transcript)
		}
		if !got.ExpiresAt.Equal(e.clock.Now().Add(5*time.Minute)) || got.Status != Active || got.CourseName != "Contracts" {
			t.Errorf("session %+v", got)
		}
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'session_start' AND target_id = ?`, st.Session.ID); n != 1 {
			t.Errorf("%d audit entries for the start", n)
		}
		// Openings vary: many starts (by a professor, not counted) use more
		// than one wording and every theme.
		openings, themes := map[string]bool{}, map[string]bool{}
		for range 30 {
			st := e.start(t, "professor")
			openings[st.Opening], themes[st.Session.Theme] = true, true
		}
		if len(openings) < 4 || len(themes) != 2 {
			t.Errorf("%d openings and %d themes over 30 starts", len(openings), len(themes))
		}
	})
}

func TestStartRefusals(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		if _, err := e.svc.Start(ctx, e.users["student"], e.emptyWeek, ""); err != ErrNoReadings {
			t.Errorf("a week without a processed reading: %v", err)
		}
		if _, err := e.svc.Start(ctx, e.users["outsider"], e.week, ""); codeOf(err) != errs.NotFound {
			t.Errorf("a student not enrolled: %v", err)
		}
		if _, err := e.svc.Start(ctx, e.users["stranger"], e.week, ""); codeOf(err) != errs.NotFound {
			t.Errorf("a professor of another course: %v", err)
		}
		if _, err := e.svc.Start(ctx, e.users["student"], e.week, "bad\nvoice"); codeOf(err) != errs.Invalid {
			t.Errorf("a voice id with a newline: %v", err)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions`); n != 0 {
			t.Errorf("refused starts left %d sessions", n)
		}
	})
}

// TestQuota: three starts a week; the fourth is refused with the
// contract's detail and a Retry-After that ends at next Monday 00:00 in
// Chicago. A new start ends the student's previous session. Professors
// and admins are not counted.
func TestQuota(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		var ids []int64
		for i := range 3 {
			st := e.start(t, "student")
			if *st.Remaining != 2-i {
				t.Errorf("start %d: remaining %d", i+1, *st.Remaining)
			}
			ids = append(ids, st.Session.ID)
			e.clock.Add(time.Minute)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE status = 'active'`); n != 1 {
			t.Errorf("%d active sessions, want 1", n)
		}
		var reason string
		e.db.Read.QueryRow(`SELECT end_reason FROM sessions WHERE id = ?`, ids[0]).Scan(&reason)
		if reason != endReplaced {
			t.Errorf("the first session ended as %q", reason)
		}
		_, err := e.svc.Start(context.Background(), e.users["student"], e.week, "")
		var ee *errs.Error
		if !errors.As(err, &ee) || ee.Code != errs.TooMany || ee.Message != "Exceeded maximum conversations per week" {
			t.Fatalf("fourth start: %v", err)
		}
		monday := time.Date(2026, 11, 23, 0, 0, 0, 0, e.chicago)
		if want := monday.Sub(e.clock.Now()); ee.RetryAfter != want {
			t.Errorf("Retry-After %v, want %v (until %v)", ee.RetryAfter, want, monday)
		}
		q, err := e.svc.Quota(context.Background(), e.users["student"])
		if err != nil || q.Used != 3 || q.Remaining != 0 || q.Limit != 3 || !q.ResetsAt.Equal(monday) || !q.Applies {
			t.Errorf("quota %+v %v", q, err)
		}
		// Another student's allowance is their own.
		if st := e.start(t, "classmate"); *st.Remaining != 2 {
			t.Errorf("classmate remaining %d", *st.Remaining)
		}
		for range 5 {
			if st := e.start(t, "professor"); st.Remaining != nil {
				t.Errorf("a professor is counted: %d", *st.Remaining)
			}
			if st := e.start(t, "admin"); st.Remaining != nil {
				t.Errorf("an admin is counted")
			}
		}
		// Monday 00:00 opens a new week.
		e.clock.Set(monday)
		if st := e.start(t, "student"); *st.Remaining != 2 {
			t.Errorf("after the reset: remaining %d", *st.Remaining)
		}
	})
}

// TestConcurrentStartsStayWithinTheQuota: twenty starts at once by one
// student make exactly three sessions, one of them active.
func TestConcurrentStartsStayWithinTheQuota(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[errs.Code]int{}
		for range 20 {
			wg.Go(func() {
				_, err := e.svc.Start(context.Background(), e.users["student"], e.week, "")
				mu.Lock()
				outcomes[codeOf(err)]++
				mu.Unlock()
				if err != nil && codeOf(err) != errs.TooMany {
					t.Errorf("start: %v", err)
				}
			})
		}
		wg.Wait()
		if outcomes[""] != 3 || outcomes[errs.TooMany] != 17 {
			t.Errorf("outcomes %v", outcomes)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions`); n != 3 {
			t.Errorf("%d sessions stored", n)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE status = 'active'`); n != 1 {
			t.Errorf("%d active sessions", n)
		}
	})
}

// TestWeekBoundaryAcrossDaylightSaving: the week runs Monday 00:00 to
// Monday 00:00 on Chicago's calendar, through the spring and autumn
// changes (167 and 169 hours).
func TestWeekBoundaryAcrossDaylightSaving(t *testing.T) {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		at         time.Time
		start, end time.Time
		hours      float64
	}{
		// Spring forward: Sunday 2026-03-08 02:00 CST becomes 03:00 CDT.
		{time.Date(2026, 3, 2, 0, 0, 0, 0, chicago), time.Date(2026, 3, 2, 0, 0, 0, 0, chicago), time.Date(2026, 3, 9, 0, 0, 0, 0, chicago), 167},
		{time.Date(2026, 3, 8, 1, 59, 0, 0, chicago), time.Date(2026, 3, 2, 0, 0, 0, 0, chicago), time.Date(2026, 3, 9, 0, 0, 0, 0, chicago), 167},
		{time.Date(2026, 3, 8, 23, 59, 59, 0, chicago), time.Date(2026, 3, 2, 0, 0, 0, 0, chicago), time.Date(2026, 3, 9, 0, 0, 0, 0, chicago), 167},
		{time.Date(2026, 3, 9, 0, 0, 0, 0, chicago), time.Date(2026, 3, 9, 0, 0, 0, 0, chicago), time.Date(2026, 3, 16, 0, 0, 0, 0, chicago), 168},
		// Fall back: Sunday 2026-11-01 02:00 CDT becomes 01:00 CST.
		{time.Date(2026, 10, 31, 12, 0, 0, 0, chicago), time.Date(2026, 10, 26, 0, 0, 0, 0, chicago), time.Date(2026, 11, 2, 0, 0, 0, 0, chicago), 169},
		{time.Date(2026, 11, 1, 23, 30, 0, 0, chicago), time.Date(2026, 10, 26, 0, 0, 0, 0, chicago), time.Date(2026, 11, 2, 0, 0, 0, 0, chicago), 169},
		// Late Sunday in Chicago is already Monday in UTC: still the old week.
		{time.Date(2026, 11, 2, 5, 59, 0, 0, time.UTC), time.Date(2026, 10, 26, 0, 0, 0, 0, chicago), time.Date(2026, 11, 2, 0, 0, 0, 0, chicago), 169},
	}
	for _, c := range cases {
		start, end := weekBounds(c.at, chicago)
		if !start.Equal(c.start) || !end.Equal(c.end) || end.Sub(start).Hours() != c.hours {
			t.Errorf("%v: week %v – %v (%v h), want %v – %v (%v h)", c.at, start, end, end.Sub(start).Hours(), c.start, c.end, c.hours)
		}
	}

	// The quota itself on both sides of the spring change: three sessions
	// early in the week, the fourth refused late on Sunday (after the
	// change) with a Retry-After of exactly one minute, and allowed at
	// Monday 00:00.
	e := newEnv(t, nil)
	e.clock.Set(time.Date(2026, 3, 1, 23, 59, 0, 0, chicago)) // the Sunday before: last week
	e.start(t, "student")
	e.clock.Set(time.Date(2026, 3, 2, 0, 0, 0, 0, chicago))
	for range 3 {
		e.start(t, "student")
		e.clock.Add(time.Hour)
	}
	e.clock.Set(time.Date(2026, 3, 8, 23, 59, 0, 0, chicago))
	_, err = e.svc.Start(context.Background(), e.users["student"], e.week, "")
	var ee *errs.Error
	if !errors.As(err, &ee) || ee.Code != errs.TooMany || ee.RetryAfter != time.Minute {
		t.Fatalf("late Sunday after the change: %v (%+v)", err, ee)
	}
	e.clock.Set(time.Date(2026, 3, 9, 0, 0, 0, 0, chicago))
	e.start(t, "student")
}

// TestClock: a message at 299 s is answered; at 301 s it is refused with
// 409 and the session is ended, its duration capped at the clock.
func TestClock(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := e.start(t, "student")
	e.clock.Add(299 * time.Second)
	a, err := e.say(ctx, "student", st.Session.ID, "Is an acceptance by mail effective when it is sent?", "")
	if err != nil {
		t.Fatalf("at 299 s: %v", err)
	}
	if a.Remaining != time.Second {
		t.Errorf("remaining %v at 299 s", a.Remaining)
	}
	e.clock.Add(2 * time.Second)
	if _, err := e.say(ctx, "student", st.Session.ID, "And revocation?", ""); err != ErrTimeUp {
		t.Fatalf("at 301 s: %v", err)
	}
	got, err := e.svc.Get(ctx, e.users["student"], st.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Ended || got.EndReason != endExpired || *got.Duration != 300 {
		t.Errorf("after the clock: %+v", got)
	}
	if len(got.Transcript) != 3 {
		t.Errorf("transcript has %d turns, want opening, question and answer", len(got.Transcript))
	}
	if _, err := e.say(ctx, "student", st.Session.ID, "Hello?", ""); err != ErrEnded {
		t.Errorf("after the end: %v", err)
	}
}

// TestSweeperEndsAbandonedSessions: a session nobody ends is ended once
// past its clock and the grace period, by a sweeper that needs nothing
// but the database (a new service, as after a restart).
func TestSweeperEndsAbandonedSessions(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		e.clock.Add(5*time.Minute + 59*time.Second)
		restarted := NewService(e.db, Options{Tutor: e.svc.tutor, AudioDir: e.audioDir, PerWeek: 3, Location: e.chicago, Now: e.clock.Now})
		if n, err := restarted.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("inside the grace period: %d %v", n, err)
		}
		e.clock.Add(2 * time.Second)
		if n, err := restarted.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("past the grace period: %d %v", n, err)
		}
		got, err := restarted.Get(ctx, e.users["student"], st.Session.ID)
		if err != nil || got.Status != Ended || got.EndReason != endSwept || *got.Duration != 300 || len(got.Transcript) != 1 {
			t.Errorf("swept session %+v %v", got, err)
		}
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'session_end' AND target_id = ? AND actor_id IS NULL`, st.Session.ID); n != 1 {
			t.Errorf("%d audit entries for the sweep", n)
		}
		if n, _ := restarted.Sweep(ctx); n != 0 {
			t.Errorf("swept again: %d", n)
		}
	})
}

func TestEndIsIdempotent(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		e.clock.Add(90 * time.Second)
		first, err := e.svc.End(ctx, e.users["student"], st.Session.ID, nil, "")
		if err != nil || *first.Session.Duration != 90 || len(first.Transcript) != 1 {
			t.Fatalf("end: %+v %v", first, err)
		}
		e.clock.Add(time.Minute)
		again, err := e.svc.End(ctx, e.users["student"], st.Session.ID, nil, "")
		if err != nil || *again.Session.Duration != 90 || len(again.Transcript) != 1 {
			t.Fatalf("end again: %+v %v", again, err)
		}
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'session_end'`); n != 1 {
			t.Errorf("%d end entries", n)
		}
	})
}

// TestIsolation: only the owner acts on a session; its course's
// instructors and admins read it; everyone else is told it does not exist.
func TestIsolation(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		id := st.Session.ID
		for who, want := range map[string]errs.Code{"classmate": errs.NotFound, "outsider": errs.NotFound, "stranger": errs.NotFound, "professor": errs.Forbidden, "admin": errs.Forbidden} {
			if _, err := e.svc.Begin(ctx, e.users[who], id, "hi", ""); codeOf(err) != want {
				t.Errorf("%s messages: %v, want %s", who, err, want)
			}
			if _, err := e.svc.End(ctx, e.users[who], id, nil, ""); codeOf(err) != want {
				t.Errorf("%s ends: %v, want %s", who, err, want)
			}
			_, err := e.svc.Get(ctx, e.users[who], id)
			if readable := want == errs.Forbidden; readable != (err == nil) {
				t.Errorf("%s reads: %v", who, err)
			}
		}
		for who, want := range map[string]int{"student": 1, "classmate": 0, "outsider": 0, "stranger": 0, "professor": 1, "admin": 1} {
			_, total, err := e.svc.List(ctx, e.users[who], Filter{Limit: 50})
			if err != nil || total != want {
				t.Errorf("%s lists %d sessions, want %d (%v)", who, total, want, err)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM turns`); n != 1 {
			t.Errorf("refused messages stored turns: %d", n)
		}
	})
}

func TestMessageValidation(t *testing.T) {
	e := newEnv(t, nil)
	st := e.start(t, "student")
	long := make([]rune, MaxMessageLen+1)
	for i := range long {
		long[i] = 'é'
	}
	for name, text := range map[string]string{"empty": "", "blank": " \n\t ", "too long": string(long), "bad utf-8": "a\xffb"} {
		if _, err := e.svc.Begin(context.Background(), e.users["student"], st.Session.ID, text, ""); codeOf(err) != errs.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := e.svc.Begin(context.Background(), e.users["student"], st.Session.ID, "ok", "has space"); codeOf(err) != errs.Invalid {
		t.Errorf("client_msg_id with a space: %v", err)
	}
	if _, err := e.say(context.Background(), "student", st.Session.ID, string(long[:MaxMessageLen]), ""); err != nil {
		t.Errorf("exactly %d characters: %v", MaxMessageLen, err)
	}
}

// An opening reads as a sentence whatever the theme's kind: a singular
// doctrine takes "the", a case name, a plural or a mass noun does not.
func TestThemePhrase(t *testing.T) {
	for theme, want := range map[string]string{
		"Due Process Clause":      "the Due Process Clause",
		"mirror image rule":       "the mirror image rule",
		"Goldberg v. Kelly":       "Goldberg v. Kelly",
		"expectation damages":     "expectation damages",
		"promissory estoppel":     "promissory estoppel",
		"consideration":           "consideration",
		"the mailbox rule":        "the mailbox rule",
		"predominant-factor test": "the predominant-factor test",
	} {
		if got := themePhrase(theme); got != want {
			t.Errorf("themePhrase(%q) = %q, want %q", theme, got, want)
		}
	}
}
