package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// dbCheck is what the database holds against what the clients were told.
type dbCheck struct {
	sessions, turns int
	exact           int // sessions whose transcript is exactly opening + each turn once, answered
	lost            int // turns a client got done for that the database lacks (or holds unanswered)
	duplicated      int // extra student turns for one client_msg_id, or turns nobody sent
	mismatched      int // stored answers that differ from done.response, or out of order
	badOpening      int
	notEnded        int
	badAudio        int
	problems        []string // the first few, in words
}

func (c *dbCheck) note(format string, a ...any) {
	if len(c.problems) < 10 {
		c.problems = append(c.problems, fmt.Sprintf(format, a...))
	}
}

type storedTurn struct {
	id          int64
	role, state string
	content     string
	clientMsgID string
	replyTo     sql.NullInt64
}

// checkSessionsDB reads the stopped server's database and holds every
// session against what its student's client saw: the SQLite file in
// dataDir, or the PostgreSQL database at databaseURL when it is set; the
// recordings are looked for in audioDir.
func checkSessionsDB(ctx context.Context, dataDir, audioDir, databaseURL string, results []studentRun, audioSize int64) (dbCheck, error) {
	var c dbCheck
	var db *sqlite.DB
	var err error
	if databaseURL != "" {
		db, err = sqlite.OpenPostgres(ctx, databaseURL)
	} else {
		path := filepath.Join(dataDir, "socratic.db")
		if _, err := os.Stat(path); err != nil {
			return c, fmt.Errorf("check database: %w", err)
		}
		db, err = sqlite.Open(ctx, path)
	}
	if err != nil {
		return c, err
	}
	defer db.Close()
	// Only the read pool (query_only) is used.
	turns := map[int64][]storedTurn{}
	rows, err := db.Read.QueryContext(ctx, `SELECT session_id, id, role, state, content, COALESCE(client_msg_id, ''), reply_to FROM turns ORDER BY session_id, id`)
	if err != nil {
		return c, fmt.Errorf("check database: %w", err)
	}
	for rows.Next() {
		var sid int64
		var t storedTurn
		if err := rows.Scan(&sid, &t.id, &t.role, &t.state, &t.content, &t.clientMsgID, &t.replyTo); err != nil {
			rows.Close()
			return c, fmt.Errorf("check database: %w", err)
		}
		turns[sid] = append(turns[sid], t)
		c.turns++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("check database: %w", err)
	}
	if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&c.sessions); err != nil {
		return c, fmt.Errorf("check database: %w", err)
	}

	for i, r := range results {
		if !r.started {
			continue
		}
		var status, audioName string
		var size int64
		err := db.Read.QueryRowContext(ctx, `SELECT status, COALESCE(audio_name, ''), COALESCE(audio_size, 0) FROM sessions WHERE id = ?`, r.sessionID).Scan(&status, &audioName, &size)
		if err != nil {
			c.lost += len(r.turns)
			c.note("student %d: session %d: %v", i, r.sessionID, err)
			continue
		}
		if status != "ended" {
			c.notEnded++
			c.note("student %d: session %d is %s", i, r.sessionID, status)
		}
		if audioName == "" || size != audioSize {
			c.badAudio++
			c.note("student %d: session %d: recording %q of %d bytes, want %d", i, r.sessionID, audioName, size, audioSize)
		} else if st, err := os.Stat(filepath.Join(audioDir, audioName)); err != nil || st.Size() != audioSize {
			c.badAudio++
			c.note("student %d: session %d: recording file %s: %v", i, r.sessionID, audioName, err)
		}
		if c.checkTranscript(i, r, turns[r.sessionID]) {
			c.exact++
		}
	}
	return c, nil
}

// checkTranscript holds one session's stored turns against its client's
// turns and reports whether they match exactly.
func (c *dbCheck) checkTranscript(i int, r studentRun, ts []storedTurn) bool {
	exact := len(ts) == 1+2*len(r.turns)
	if len(ts) == 0 || ts[0].role != "assistant" || ts[0].replyTo.Valid || ts[0].content != r.opening {
		c.badOpening++
		c.note("student %d: session %d does not begin with the opening it was sent", i, r.sessionID)
		exact = false
	}
	users := map[string][]storedTurn{}
	answers := map[int64]storedTurn{} // by the student turn answered
	var answerOrder []string
	for _, t := range ts {
		switch {
		case t.role == "user":
			users[t.clientMsgID] = append(users[t.clientMsgID], t)
		case t.replyTo.Valid:
			answers[t.replyTo.Int64] = t
			answerOrder = append(answerOrder, t.content)
		}
	}
	sent := map[string]bool{}
	var clientOrder []string
	for _, tr := range r.turns {
		sent[tr.marker] = true
		u := users[tr.marker]
		if len(u) > 1 {
			c.duplicated += len(u) - 1
			c.note("student %d: %s stored %d times", i, tr.marker, len(u))
			exact = false
		}
		if !tr.ok {
			exact = false
			continue
		}
		clientOrder = append(clientOrder, tr.response)
		if len(u) == 0 || u[0].state != "answered" {
			c.lost++
			c.note("student %d: %s got done but is not stored answered", i, tr.marker)
			exact = false
			continue
		}
		a, ok := answers[u[0].id]
		if !ok {
			c.lost++
			c.note("student %d: %s has no stored answer", i, tr.marker)
			exact = false
			continue
		}
		if a.content != tr.response {
			c.mismatched++
			c.note("student %d: %s stored answer differs from done.response", i, tr.marker)
			exact = false
		}
	}
	for id, u := range users {
		if !sent[id] {
			c.duplicated += len(u)
			c.note("student %d: session %d holds %d student turns with client_msg_id %q nobody sent", i, r.sessionID, len(u), id)
			exact = false
		}
	}
	if len(answerOrder) != len(clientOrder) {
		c.duplicated += max(0, len(answerOrder)-len(clientOrder))
		exact = false
	} else if !slices.Equal(answerOrder, clientOrder) {
		c.mismatched++
		c.note("student %d: session %d: stored answers are not in the order the client got them", i, r.sessionID)
		exact = false
	}
	return exact
}

// logScan is what the servers' logs say about trouble.
type logScan struct {
	postgres                      bool // which engine's lock errors busy counts
	lines, busy, errors, warnings int  // busy: lines naming the engine's lock errors (see lockLine)
	backups                       int  // scheduled backups made during the run
	busyLines, errorLines         []string
	status                        map[string]int // access log statuses of session routes
}

// lockLine and pgLockLine find the engine's lock trouble in a log line.
// On SQLite: "database is locked" (SQLITE_BUSY or SQLITE_LOCKED past
// busy_timeout: another connection or process held the one writer's lock),
// and any "busy" (which also catches the server's own refusals: busy
// signing people in, LLM_MAX_CONCURRENT reached). PostgreSQL has no
// database-wide write lock; its counterparts are row-lock conflicts that
// end a transaction: a deadlock (40P01), a serialization failure (40001),
// a lock or statement timeout (55P03, 57014), and running out of
// connections (53300 "too many clients", "remaining connection slots").
var (
	busyLine   = regexp.MustCompile(`(?i)database is locked|sqlite_busy|\bbusy\b`)
	pgLockLine = regexp.MustCompile(`(?i)deadlock detected|could not serialize access|lock timeout|canceling statement due to|too many clients|remaining connection slots|SQLSTATE (40P01|40001|55P03|57014|53300)|\bbusy\b`)
	statusAttr = regexp.MustCompile(`\bstatus=(\d{3})\b`)
	routeAttr  = regexp.MustCompile(`\broute=(\S+)`)
)

func scanServerLog(path string, postgres bool) (logScan, error) {
	s := logScan{postgres: postgres, status: map[string]int{}}
	lockLine := busyLine
	if postgres {
		lockLine = pgLockLine
	}
	f, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	short := func(l string) string {
		if len(l) > 400 {
			return l[:400] + "…"
		}
		return l
	}
	for sc.Scan() {
		line := sc.Text()
		s.lines++
		if strings.Contains(line, `msg="backup made"`) {
			s.backups++
		}
		if lockLine.MatchString(line) {
			s.busy++
			if len(s.busyLines) < 5 {
				s.busyLines = append(s.busyLines, short(line))
			}
		}
		switch {
		case strings.Contains(line, "level=ERROR"):
			s.errors++
			if len(s.errorLines) < 5 {
				s.errorLines = append(s.errorLines, short(line))
			}
		case strings.Contains(line, "level=WARN"):
			s.warnings++
			if len(s.errorLines) < 5 {
				s.errorLines = append(s.errorLines, short(line))
			}
		}
		if strings.Contains(line, "msg=request") {
			if st, rt := statusAttr.FindStringSubmatch(line), routeAttr.FindStringSubmatch(line); st != nil && rt != nil && strings.Contains(rt[1], "session") {
				s.status[rt[1]+" "+st[1]]++
			}
		}
	}
	return s, sc.Err()
}

// add sums another instance's log into s.
func (s *logScan) add(o logScan) {
	s.postgres = o.postgres
	s.lines += o.lines
	s.busy += o.busy
	s.errors += o.errors
	s.warnings += o.warnings
	s.backups += o.backups
	s.busyLines = append(s.busyLines, o.busyLines...)[:min(5, len(s.busyLines)+len(o.busyLines))]
	s.errorLines = append(s.errorLines, o.errorLines...)[:min(5, len(s.errorLines)+len(o.errorLines))]
	if s.status == nil {
		s.status = map[string]int{}
	}
	for k, n := range o.status {
		s.status[k] += n
	}
}

// lockLabel names what busy counts, on the run's engine.
func (s *logScan) lockLabel() string {
	if s.postgres {
		return "PostgreSQL lock errors (deadlock, serialization failure, lock or statement timeout, out of connections) and busy refusals"
	}
	return "SQLite busy errors"
}

// instanceRun is one server instance over the measured run.
type instanceRun struct {
	before, after procSample
	hwmReset      bool
	turns         int64 // streamed turns it answered with 200 (through the proxy; 0 with one instance, not counted)
}

type sessionsReport struct {
	o         sessionsBenchOptions
	results   []studentRun
	wall      time.Duration
	model     *benchModel
	check     dbCheck
	logs      logScan
	errs      *benchErrors
	paced     int64 // 429s (too soon) waited out and retried
	instances []instanceRun
	selfCPU   time.Duration
	dials     int64 // connections the students' client opened during the run
	// figures, if set, receives the run's headline figures for a
	// comparison of rounds (--rounds, --against).
	figures *sessionsFigures
	// burstSamples are the CPU samples from the start barrier on.
	burstSamples []cpuSample
}

// sessionsFigures are a run's headline figures: what --rounds and
// --against compare between runs.
type sessionsFigures struct {
	cpuPerTurn         time.Duration // server CPU over answered turns, starts and ends included
	addedP50, addedP99 time.Duration // server-added time to the first word, every turn
	firstP99           time.Duration // the same, turn 1 only (every student sends at once)
}

func (r *sessionsReport) print(w io.Writer) error {
	var added, toUpstream, perDelta, perWord, clientTTFT, turnTotal, starts, ends []time.Duration
	byTurn := make([][]time.Duration, r.o.turns) // server-added, by turn number
	turns, ok, unmatched, repeated := 0, 0, 0, 0
	var lastTurn1 time.Time // the last turn 1's arrival at the model
	for _, s := range r.results {
		if s.started {
			starts = append(starts, s.startDur)
		}
		if s.ended {
			ends = append(ends, s.endDur)
		}
		if s.ended && s.endTranscriptTurns != 1+2*len(s.turns) {
			r.errs.add("end", fmt.Errorf("the transcript has %d turns, want %d", s.endTranscriptTurns, 1+2*len(s.turns)))
		}
		for n, t := range s.turns {
			turns++
			calls := r.model.lookup(t.marker)
			switch {
			case len(calls) == 0:
				unmatched++
			case len(calls) > 1:
				repeated += len(calls) - 1
			}
			if !t.ok {
				continue
			}
			ok++
			clientTTFT = append(clientTTFT, t.firstDelta.Sub(t.sent))
			turnTotal = append(turnTotal, t.done.Sub(t.sent))
			if len(calls) == 0 {
				continue
			}
			up := calls[len(calls)-1] // the attempt whose words the client got
			if n == 0 && up.arrived.After(lastTurn1) {
				lastTurn1 = up.arrived
			}
			added = append(added, t.firstDelta.Sub(t.sent)-up.firstDelta.Sub(up.arrived))
			byTurn[n] = append(byTurn[n], added[len(added)-1])
			toUpstream = append(toUpstream, up.arrived.Sub(t.sent))
			perDelta = append(perDelta, t.firstDelta.Sub(up.firstDelta))
			if len(t.wordAt) == r.model.words {
				// The fake sends word i at its first delta + i × gap.
				for i, at := range t.wordAt {
					perWord = append(perWord, at.Sub(up.firstDelta.Add(time.Duration(i)*r.model.gap)))
				}
			}
		}
	}
	want := r.o.students * r.o.turns
	fmt.Fprintf(w, "\nmeasured run: %d students at once, wall %s, %d of %d turns answered (%.1f turns/s)\n",
		r.o.students, r.wall.Round(time.Millisecond), ok, want, float64(ok)/r.wall.Seconds())
	fmt.Fprintf(w, "%-44s %8s %8s %8s %8s %6s\n", "latency (ms)", "p50", "p95", "p99", "max", "n")
	row := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			fmt.Fprintf(w, "%-44s %8s %8s %8s %8s %6d\n", name, "-", "-", "-", "-", 0)
			return
		}
		fmt.Fprintf(w, "%-44s %8.1f %8.1f %8.1f %8.1f %6d\n", name, ms(pct(ds, 50)), ms(pct(ds, 95)), ms(pct(ds, 99)), ms(pct(ds, 100)), len(ds))
	}
	row("per turn, server-added (TTFT − model's own)", added)
	row("  to upstream (fake arrival − client send)", toUpstream)
	row("  per delta (client − fake first delta)", perDelta)
	row("  per word (client − fake send), every word", perWord)
	row("per turn, client time to first delta", clientTTFT)
	row("per turn, client send → done", turnTotal)
	fmt.Fprint(w, "server-added p50/p99 by turn number (ms):")
	for n, ds := range byTurn {
		if len(ds) > 0 {
			fmt.Fprintf(w, " %d: %.0f/%.0f", n+1, ms(pct(ds, 50)), ms(pct(ds, 99)))
		}
	}
	fmt.Fprintln(w)
	bf, bok := burst(r.burstSamples, lastTurn1)
	printBurst(w, bf, bok, runtime.NumCPU(), r.o.instances > 1)
	row("start", starts)
	row(fmt.Sprintf("end with a %s recording", sizeText(int64(r.o.audioMB*(1<<20)))), ends)

	fmt.Fprintf(w, "upstream model requests: %d turns without one, %d repeated (retries), %d cut off by the server, %d other requests during the run (themes); %d moderation verdicts asked (%.0f ms each)\n",
		unmatched, repeated, r.model.gone, r.model.otherRun, len(r.model.verdicts), float64(verdictDelay.Milliseconds()))
	fmt.Fprintf(w, "students paced at one message per %d s or slower; messages the server found too soon (429) and that were retried after Retry-After: %d\n", benchTurnInterval, r.paced)
	// A browser keeps its connection between a student's requests, so the
	// run opens at most one per student (fewer: the sign-ins' connections
	// are kept for it). More means the client or the server closed
	// connections, and the server paid for a new one each time.
	fmt.Fprintf(w, "client connections opened during the run: %d for %d students (at most one each when kept, as a browser keeps them)\n", r.dials, r.o.students)
	// The server's side of the same: a turn's answer and its moderation
	// check run at once, so a pool that keeps its connections needs at
	// most two per student, whatever the number of turns (on each
	// instance: each keeps a pool of its own).
	r.model.mu.Lock()
	modelConns := r.model.conns
	r.model.mu.Unlock()
	fmt.Fprintf(w, "model connections the server opened during the run: %d for %d requests (at most two per student on each instance when kept)\n", modelConns, r.model.requests())
	fmt.Fprintf(w, "errors: %d\n", r.errs.total)
	for _, k := range slices.Sorted(maps.Keys(r.errs.byText)) {
		fmt.Fprintf(w, "  %5d × %s\n", r.errs.byText[k], k)
	}
	c := r.check
	fmt.Fprintf(w, "database (after SIGTERM): %d sessions, %d turns; %d of %d sessions exactly opening + %d answered turns\n",
		c.sessions, c.turns, c.exact, r.o.students, r.o.turns)
	fmt.Fprintf(w, "  lost turns %d, duplicated turns %d, answers differing from done.response %d, bad openings %d, sessions not ended %d, recordings missing or wrong size %d\n",
		c.lost, c.duplicated, c.mismatched, c.badOpening, c.notEnded, c.badAudio)
	for _, p := range c.problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	var cpu time.Duration
	for _, in := range r.instances {
		cpu += in.after.cpu - in.before.cpu
	}
	if len(r.instances) == 1 {
		in := r.instances[0]
		fmt.Fprintf(w, "server process: peak RSS (VmHWM) %.0f MB", float64(in.after.hwmKB)/1024)
		if in.hwmReset {
			fmt.Fprintf(w, " during the run (reset before it; RSS %.0f MB before, peak before %.0f MB)", float64(in.before.rssKB)/1024, float64(in.before.hwmKB)/1024)
		} else {
			fmt.Fprint(w, " over its whole life, setup included")
		}
		fmt.Fprintf(w, "; CPU during the run %.1f s = %.2f cores on average\n", cpu.Seconds(), cpu.Seconds()/r.wall.Seconds())
	} else {
		fmt.Fprintf(w, "server instances: %d on one PostgreSQL database, behind a round-robin proxy in the bench process\n", len(r.instances))
		for i, in := range r.instances {
			c := in.after.cpu - in.before.cpu
			during := "during the run"
			if !in.hwmReset {
				during = "over its whole life"
			}
			fmt.Fprintf(w, "  instance %d: answered %d streamed turns; peak RSS (VmHWM) %.0f MB %s; CPU during the run %.1f s = %.2f cores\n",
				i+1, in.turns, float64(in.after.hwmKB)/1024, during, c.Seconds(), c.Seconds()/r.wall.Seconds())
		}
		fmt.Fprintf(w, "all instances: CPU during the run %.1f s = %.2f cores on average\n", cpu.Seconds(), cpu.Seconds()/r.wall.Seconds())
	}
	if ok > 0 {
		// The run's starts and ends (with their recordings) are in it too:
		// what a turn costs the server, the session around it included.
		sum := ""
		if len(r.instances) > 1 {
			sum = ", every instance's summed"
		}
		fmt.Fprintf(w, "server CPU per turn %.2f ms (%.1f s over %d answered turns, session starts and ends included%s)\n",
			ms(cpu)/float64(ok), cpu.Seconds(), ok, sum)
	}
	proxy := ""
	if len(r.instances) > 1 {
		proxy = ", the proxy"
	}
	fmt.Fprintf(w, "bench process (clients%s and fake model, same machine): CPU during the run %.1f s = %.2f cores\n",
		proxy, r.selfCPU.Seconds(), r.selfCPU.Seconds()/r.wall.Seconds())
	logName := "server log"
	if len(r.instances) > 1 {
		logName = fmt.Sprintf("server logs (%d instances)", len(r.instances))
	}
	fmt.Fprintf(w, "%s: %d lines, %d errors, %d warnings; %s: %d\n", logName, r.logs.lines, r.logs.errors, r.logs.warnings, r.logs.lockLabel(), r.logs.busy)
	if r.o.backupEvery > 0 {
		fmt.Fprintf(w, "scheduled backups made during the run (every %s): %d\n", r.o.backupEvery, r.logs.backups)
	}
	for _, k := range slices.Sorted(maps.Keys(r.logs.status)) {
		fmt.Fprintf(w, "  %5d × %s\n", r.logs.status[k], k)
	}
	for _, l := range r.logs.busyLines {
		fmt.Fprintf(w, "  busy: %s\n", l)
	}
	for _, l := range r.logs.errorLines {
		fmt.Fprintf(w, "  log: %s\n", l)
	}

	var failed []string
	if r.errs.total > 0 {
		failed = append(failed, fmt.Sprintf("%d errors", r.errs.total))
	}
	if n := c.lost + c.duplicated + c.mismatched + c.badOpening; n > 0 {
		failed = append(failed, fmt.Sprintf("%d lost, duplicated or differing turns", n))
	}
	if n := c.notEnded + c.badAudio; n > 0 {
		failed = append(failed, fmt.Sprintf("%d sessions not ended or without their recording", n))
	}
	if r.logs.busy > 0 {
		failed = append(failed, fmt.Sprintf("%d %s", r.logs.busy, r.logs.lockLabel()))
	}
	if unmatched+repeated > 0 {
		failed = append(failed, fmt.Sprintf("%d turns without exactly one model request", unmatched+repeated))
	}
	if len(failed) > 0 {
		return errors.New("bench sessions: " + strings.Join(failed, ", "))
	}
	if r.figures != nil && ok > 0 && len(added) > 0 {
		*r.figures = sessionsFigures{cpuPerTurn: cpu / time.Duration(ok), addedP50: pct(added, 50), addedP99: pct(added, 99)}
		if len(byTurn[0]) > 0 {
			r.figures.firstP99 = pct(byTurn[0], 99)
		}
	}
	fmt.Fprintf(w, "result: 0 errors, 0 lost or duplicated turns, 0 %s\n", r.logs.lockLabel())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// sizeText is a byte count as people say it.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
