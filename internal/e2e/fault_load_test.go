package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	busyLine   = regexp.MustCompile(`(?i)database is locked|sqlite_busy|\bbusy\b`)
	statusAttr = regexp.MustCompile(`\bstatus=(\d{3})\b`)
	routeAttr  = regexp.MustCompile(`\broute=(\S+)`)
	methodAttr = regexp.MustCompile(`\bmethod=(\S+)`)
	msAttr     = regexp.MustCompile(`\bms=([0-9.]+)`)
)

// serverLog is what a server's log says about a run.
type serverLog struct {
	byRoute   map[string][]time.Duration // server-side time per "METHOD route"
	statuses  map[string]int             // "METHOD route status" → count
	fivexx    []string
	busy      []string
	errors    []string
	nBusy, n5 int
}

func scanLog(text string) serverLog {
	l := serverLog{byRoute: map[string][]time.Duration{}, statuses: map[string]int{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if busyLine.MatchString(line) && !strings.Contains(line, "msg=request ") {
			l.nBusy++
			if len(l.busy) < 5 {
				l.busy = append(l.busy, line)
			}
		}
		if strings.Contains(line, "level=ERROR") && len(l.errors) < 5 {
			l.errors = append(l.errors, line)
		}
		if !strings.Contains(line, "msg=request ") {
			continue
		}
		st, rt, me, ms := statusAttr.FindStringSubmatch(line), routeAttr.FindStringSubmatch(line), methodAttr.FindStringSubmatch(line), msAttr.FindStringSubmatch(line)
		if st == nil || rt == nil || me == nil {
			continue
		}
		key := me[1] + " " + rt[1]
		l.statuses[key+" "+st[1]]++
		if st[1] >= "500" {
			l.n5++
			if len(l.fivexx) < 10 {
				l.fivexx = append(l.fivexx, line)
			}
		}
		if ms != nil {
			f, _ := strconv.ParseFloat(ms[1], 64)
			l.byRoute[key] = append(l.byRoute[key], time.Duration(f*float64(time.Millisecond)))
		}
	}
	return l
}

// loadRun is what the clients of the load saw.
type loadRun struct {
	mu       sync.Mutex
	took     map[string][]time.Duration // client-side, by route
	statuses map[string]int             // "route status" (0: transport error)
	failures []string
	nFail    int
	turns    map[string]ackTurn // acknowledged, by client_msg_id
	sent     map[string]int64   // every turn sent, by client_msg_id → session
	sessions map[int64]int      // session → turns acknowledged, for sessions ended with 200
	started  map[int64]string   // session → its opening message
}

func (r *loadRun) record(route string, status int, took time.Duration, fail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[fmt.Sprintf("%s %d", route, status)]++
	if fail != "" {
		r.nFail++
		if len(r.failures) < 10 {
			r.failures = append(r.failures, route+": "+fail)
		}
		return
	}
	r.took[route] = append(r.took[route], took)
}

// TestFaultLoad is scenario 1: N students each run whole sessions back to
// back — start, T streamed turns against a fake model that streams at a
// realistic pace, end with a recording — for M minutes, against the real
// binary. It asserts 0 5xx (client and server log), 0 failed requests,
// 0 SQLite busy errors in the log, and, in the database opened read-only
// after a clean stop, 0 lost turns (acknowledged but not stored with the
// answer given), 0 duplicated turns (a client_msg_id stored twice, or a
// student turn no client sent), and every ended session's transcript
// exactly its opening and its turns. It logs p50/p99 per route (client
// and server side), turns/s and the server's peak RSS (VmHWM).
//
// Short: 6 students × 3 turns for 20 s. Long (SOCRATIC_FAULT_LONG=1):
// 100 students × 8 turns for 5 minutes. Knobs: SOCRATIC_FAULT_STUDENTS,
// SOCRATIC_FAULT_TURNS, SOCRATIC_FAULT_DURATION (e.g. 10m).
func TestFaultLoad(t *testing.T) {
	students := Knob(t, "SOCRATIC_FAULT_STUDENTS", 6, 100)
	turnsPer := Knob(t, "SOCRATIC_FAULT_TURNS", 3, 8)
	duration := DurationKnob(t, "SOCRATIC_FAULT_DURATION", 20*time.Second, 5*time.Minute)
	if students < 1 || turnsPer < 1 {
		t.Fatal("SOCRATIC_FAULT_STUDENTS and SOCRATIC_FAULT_TURNS must be at least 1")
	}
	// A model at a realistic speed: 300 ms to the first token, then
	// about 25 words at 40 a second.
	m := StartModel(t, 300*time.Millisecond, 25*time.Millisecond)
	s := StartServer(t, append(m.Env(), "RATE_LIMIT_CONVERSATIONS_PER_WEEK=100000", "LLM_MAX_CONCURRENT="+strconv.Itoa(max(students, 1)),
		"SESSION_MAX_TURNS=1000", "STUDENT_DAILY_TOKEN_BUDGET=0")...)
	c := s.Client()
	w := SetupCourse(t, s, c, SmallPDF)
	waitThemes(t, c, w)
	tokens := make([]string, students)
	var setup sync.WaitGroup
	sem := make(chan struct{}, 4) // argon2id: a few sign-ups at a time
	for i := range tokens {
		setup.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			tokens[i] = c.AddStudent(t, w, fmt.Sprintf("load%03d", i))
		})
	}
	setup.Wait()
	if t.Failed() {
		t.FailNow()
	}
	audio, audioType := WAVForm(64 << 10)

	run := &loadRun{took: map[string][]time.Duration{}, statuses: map[string]int{}, turns: map[string]ackTurn{}, sent: map[string]int64{},
		sessions: map[int64]int{}, started: map[int64]string{}}
	hwmReset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.PID()), []byte("5"), 0) == nil
	rssBefore := s.RSSKB()
	logOffset := len(s.Logs.String())
	stopAt := time.Now().Add(duration)
	began := time.Now()
	var wg sync.WaitGroup
	for i := range students {
		wg.Go(func() {
			tok := tokens[i]
			for n := 0; time.Now().Before(stopAt); n++ {
				r, err := c.API(context.Background(), "POST", "/api/sessions/start", tok, map[string]any{"week_id": w.WeekID, "mode": "text"})
				var st Started
				switch {
				case err != nil:
					run.record("POST /api/sessions/start", 0, 0, err.Error())
					return
				case r.Status != 201 || r.JSON(&st) != nil:
					run.record("POST /api/sessions/start", r.Status, 0, string(r.Body))
					return
				}
				run.record("POST /api/sessions/start", 201, r.Took, "")
				run.mu.Lock()
				run.started[st.SessionID] = st.OpeningMessage
				run.mu.Unlock()
				acked := 0
				for k := range turnsPer {
					mk := fmt.Sprintf("load-s%03d-n%03d-t%02d", i, n, k)
					run.mu.Lock()
					run.sent[mk] = st.SessionID
					run.mu.Unlock()
					tr, err := c.StreamTurn(context.Background(), tok, st.SessionID, fmt.Sprintf("Is the rule of the case about notice? [m:%s]", mk), mk)
					switch {
					case err != nil:
						run.record("POST /api/sessions/{id}/message/stream", 0, 0, err.Error())
					case !tr.Acknowledged():
						run.record("POST /api/sessions/{id}/message/stream", tr.Status, 0, fmt.Sprintf("%s error event %q, done %v", tr.Body, tr.ErrorEvent, tr.Done))
					default:
						run.record("POST /api/sessions/{id}/message/stream", 200, tr.Took, "")
						run.record("POST /api/sessions/{id}/message/stream TTFT", 200, tr.FirstDelta, "")
						run.mu.Lock()
						run.turns[mk] = ackTurn{st.SessionID, tr.Response}
						run.mu.Unlock()
						acked++
					}
				}
				r, err = c.Do(context.Background(), "POST", fmt.Sprintf("/api/sessions/%d/end", st.SessionID), tok, audioType, bytes.NewReader(audio))
				switch {
				case err != nil:
					run.record("POST /api/sessions/{id}/end", 0, 0, err.Error())
				case r.Status != 200:
					run.record("POST /api/sessions/{id}/end", r.Status, 0, string(r.Body))
				default:
					run.record("POST /api/sessions/{id}/end", 200, r.Took, "")
					run.mu.Lock()
					run.sessions[st.SessionID] = acked
					run.mu.Unlock()
				}
				// A student reads the page a moment.
				switch r, err := c.API(context.Background(), "GET", fmt.Sprintf("/api/sessions/%d", st.SessionID), tok, nil); {
				case err != nil:
					run.record("GET /api/sessions/{id}", 0, 0, err.Error())
				case r.Status != 200:
					run.record("GET /api/sessions/{id}", r.Status, 0, string(r.Body))
				default:
					run.record("GET /api/sessions/{id}", 200, r.Took, "")
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(began)
	peakKB := s.PeakRSSKB()
	runLog := s.Logs.String()[logOffset:]
	s.Stop()

	run.mu.Lock()
	defer run.mu.Unlock()
	sl := scanLog(runLog)
	t.Logf("load: %d students × sessions of %d streamed turns for %s (wall %s): %d sessions ended, %d of %d turns acknowledged, %.1f turns/s",
		students, turnsPer, duration, wall.Round(time.Millisecond), len(run.sessions), len(run.turns), len(run.sent), float64(len(run.turns))/wall.Seconds())
	t.Logf("%-44s %6s %9s %9s %9s", "client-side latency (ms)", "n", "p50", "p99", "max")
	for _, route := range slices.Sorted(maps.Keys(run.took)) {
		ds := run.took[route]
		t.Logf("%-44s %6d %9.1f %9.1f %9.1f", route, len(ds), ms(Pct(ds, 50)), ms(Pct(ds, 99)), ms(Pct(ds, 100)))
	}
	t.Logf("%-44s %6s %9s %9s %9s", "server-side latency (ms, from its log)", "n", "p50", "p99", "max")
	for _, route := range slices.Sorted(maps.Keys(sl.byRoute)) {
		ds := sl.byRoute[route]
		t.Logf("%-44s %6d %9.1f %9.1f %9.1f", route, len(ds), ms(Pct(ds, 50)), ms(Pct(ds, 99)), ms(Pct(ds, 100)))
	}
	if hwmReset {
		t.Logf("server peak RSS (VmHWM) during the load: %.0f MB (RSS before %.0f MB)", float64(peakKB)/1024, float64(rssBefore)/1024)
	} else {
		t.Logf("server peak RSS (VmHWM) over its life: %.0f MB", float64(peakKB)/1024)
	}
	t.Logf("SQLite busy errors in the log: %d; 5xx in the log: %d; client statuses: %v", sl.nBusy, sl.n5, run.statuses)

	if run.nFail > 0 {
		t.Errorf("%d requests failed, e.g.:\n%s", run.nFail, strings.Join(run.failures, "\n"))
	}
	if sl.n5 > 0 {
		t.Errorf("%d requests answered 5xx:\n%s", sl.n5, strings.Join(sl.fivexx, "\n"))
	}
	if sl.nBusy > 0 {
		t.Errorf("%d SQLite busy errors:\n%s", sl.nBusy, strings.Join(sl.busy, "\n"))
	}
	if len(run.turns) == 0 || len(run.sessions) == 0 {
		t.Fatal("nothing was acknowledged: the load tested nothing")
	}

	// The database, read-only, against what the clients were told.
	db := s.DB(t)
	s.IntegrityCheck(t, db)
	lost, duplicated, mismatched := 0, 0, 0
	note := func(format string, a ...any) {
		if lost+duplicated+mismatched <= 10 {
			t.Logf(format, a...)
		}
	}
	for mk, at := range run.turns {
		var n int
		var state, answer string
		db.QueryRow(`SELECT count(*) FROM turns WHERE client_msg_id = ?`, mk).Scan(&n)
		err := db.QueryRow(`SELECT q.state, a.content FROM turns q JOIN turns a ON a.reply_to = q.id WHERE q.session_id = ? AND q.client_msg_id = ?`, at.session, mk).Scan(&state, &answer)
		switch {
		case n > 1:
			duplicated += n - 1
			note("turn %s stored %d times", mk, n)
		case err != nil:
			lost++
			note("acknowledged turn %s: not stored with an answer: %v", mk, err)
		case state != "answered" || answer != at.response:
			mismatched++
			note("turn %s: %s with %q, the client got %q", mk, state, answer, at.response)
		}
	}
	// Student turns no client sent, or sent once and stored twice.
	rows, err := db.Query(`SELECT COALESCE(client_msg_id, ''), session_id, count(*) FROM turns WHERE role = 'user' GROUP BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var mk string
		var sess int64
		var n int
		rows.Scan(&mk, &sess, &n)
		if want, ok := run.sent[mk]; !ok || want != sess {
			duplicated += n
			note("student turn %q in session %d: no client sent it there", mk, sess)
		} else if n > 1 {
			if _, counted := run.turns[mk]; !counted {
				duplicated += n - 1
			}
		}
	}
	rows.Close()
	// Every session ended with 200: exactly its opening and its turns.
	badTranscripts := 0
	for sess, acked := range run.sessions {
		var total, answered int
		var opening string
		db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE role = 'assistant' AND reply_to IS NOT NULL) FROM turns WHERE session_id = ?`, sess).Scan(&total, &answered)
		db.QueryRow(`SELECT content FROM turns WHERE session_id = ? AND role = 'assistant' AND reply_to IS NULL ORDER BY id LIMIT 1`, sess).Scan(&opening)
		if total != 1+turnsPer+acked || answered != acked || opening != run.started[sess] {
			badTranscripts++
			note("session %d: %d turns, %d answers, opening %q; want %d turns, %d answers", sess, total, answered, opening, 1+turnsPer+acked, acked)
		}
	}
	t.Logf("database (read-only after SIGTERM): lost turns %d, duplicated turns %d, answers differing from done.response %d, sessions whose transcript is not exactly opening + turns %d",
		lost, duplicated, mismatched, badTranscripts)
	if lost+duplicated+mismatched+badTranscripts > 0 {
		t.Errorf("the database disagrees with what the clients were told: %d lost, %d duplicated, %d differing, %d bad transcripts", lost, duplicated, mismatched, badTranscripts)
	}
}
