package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lawtutor/socratic/internal/config"
)

// benchSessions measures issue 7's performance point: many students, each
// running a whole session (start, streamed turns against a model at a
// realistic speed, end with a recording), at once against the real server
// binary as a child process (or --instances of them on one PostgreSQL
// database, behind a round-robin proxy in this process); then checks the
// database for lost and duplicated turns and the servers' logs for the
// engine's lock errors (SQLite busy; PostgreSQL deadlocks and the like).
func benchSessions(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench sessions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := sessionsBenchOptions{}
	fs.IntVar(&o.students, "students", 200, "students running a session at once")
	fs.IntVar(&o.turns, "turns", 8, "streamed turns per session")
	fs.Float64Var(&o.audioMB, "audio-mb", 1, "size of each session's recording, in MB")
	fs.StringVar(&o.dir, "dir", filepath.Join("testdata", "corpus", "pdfs"), "folder of PDFs; the smallest is the week's reading")
	fs.StringVar(&o.bin, "bin", "", "the socratic binary to run as the server (default: this program)")
	fs.IntVar(&o.setupConcurrency, "setup-concurrency", 4, "parallel requests while creating and signing in accounts (argon2id is slow)")
	fs.DurationVar(&o.backupEvery, "backup-every", 0, "have the server make a scheduled backup this often during the run (BACKUP_INTERVAL), to measure what backups cost turns; 0: none")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "write the server's CPU profile over the measured run to this file (go tool pprof)")
	fs.StringVar(&o.database, "database", "", "the server's DATABASE_URL: an empty PostgreSQL database (postgres://…, its password in PGPASSWORD or ~/.pgpass rather than here, where ps shows it) to measure PostgreSQL; default: SQLite in the run's data directory")
	fs.IntVar(&o.instances, "instances", 1, "servers to run on the one --database, behind a round-robin proxy in this process (more than 1 needs PostgreSQL)")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directory and server log (they are kept anyway when the run fails)")
	fs.StringVar(&o.against, "against", "", "a second socratic binary (say, the previous commit's build) run the same way, alternating with --bin round by round; a summary compares their medians")
	fs.IntVar(&o.rounds, "rounds", 0, "measured runs of each binary, summarised by their medians (default 1, or 4 with --against: an even number, so each binary goes first as often as the other)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.students < 1 || o.turns < 1 || o.audioMB <= 0 {
		return errors.New("--students and --turns must be at least 1, --audio-mb above 0")
	}
	if o.database != "" && !config.IsPostgresURL(o.database) {
		return errors.New("--database must be a PostgreSQL URL (postgres://…); without it the run uses SQLite")
	}
	if o.instances < 1 {
		return errors.New("--instances must be at least 1")
	}
	if o.instances > 1 && o.database == "" {
		return fmt.Errorf("--instances %d needs --database postgres://…: on SQLite one server holds the data directory (its lock keeps a second one out), so several instances need PostgreSQL", o.instances)
	}
	if o.instances > 1 && o.cpuProfile != "" {
		return errors.New("--cpu-profile profiles one server: run it with --instances 1")
	}
	if o.database != "" && o.backupEvery != 0 {
		return errors.New("--backup-every is measured on SQLite only (PostgreSQL's scheduled backups are pg_dump's; run the bench without --database)")
	}
	if o.backupEvery != 0 && o.backupEvery < time.Second {
		return errors.New("--backup-every must be 0 (no backups) or at least 1s")
	}
	if o.rounds < 0 {
		return errors.New("--rounds must be at least 1")
	}
	o.rounds = roundsOrDefault(o.rounds, o.against)
	if o.against != "" {
		// Checked now, not when its first turn comes after a whole run.
		if st, err := os.Stat(o.against); err != nil {
			return fmt.Errorf("--against: %w", err)
		} else if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("--against %s is not an executable file", o.against)
		}
	}
	if o.cpuProfile != "" && (o.rounds > 1 || o.against != "") {
		return errors.New("--cpu-profile profiles one run: leave out --rounds and --against")
	}
	if err := checkBenchDatabase(ctx, o.database); err != nil {
		return err
	}
	if o.bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program: %w", err)
		}
		o.bin = exe
	}
	o.path = getenv(environ, "PATH")
	// libpq's ways to give a password without writing it into --database
	// (where ps would show it): the servers get them as the bench has them.
	for _, k := range []string{"PGPASSWORD", "PGPASSFILE", "HOME"} {
		if v := getenv(environ, k); v != "" {
			o.pgEnv = append(o.pgEnv, k+"="+v)
		}
	}

	if o.rounds == 1 && o.against == "" {
		return benchSessionsOnce(ctx, o, stdout, nil)
	}
	return benchSessionsRounds(ctx, o, stdout)
}

// benchSessionsOnce is one measured run of o.bin, reported to w; figures,
// if set, receives its headline figures.
func benchSessionsOnce(ctx context.Context, o sessionsBenchOptions, w io.Writer, figures *sessionsFigures) error {
	scratch, err := os.MkdirTemp("", "socratic-bench-sessions-")
	if err != nil {
		return err
	}
	b := &sessionsBench{o: o, out: w, scratch: scratch, dataDir: filepath.Join(scratch, "data"), logPath: filepath.Join(scratch, "server.log"), figures: figures}
	err = b.run(ctx)
	if err != nil || o.keep {
		fmt.Fprintf(w, "kept for inspection: %s (data*/, server*.log)\n", scratch)
	} else {
		os.RemoveAll(scratch)
	}
	return err
}

type sessionsBenchOptions struct {
	students, turns, setupConcurrency int
	instances                         int // servers on the one database; more than 1 needs PostgreSQL
	audioMB                           float64
	dir, bin, path, cpuProfile        string
	database                          string   // the server's DATABASE_URL; "" is SQLite in the data directory
	pgEnv                             []string // PGPASSWORD, PGPASSFILE, HOME as the bench has them, for the servers
	keep                              bool
	backupEvery                       time.Duration
	against                           string // a second binary to compare, round by round
	rounds                            int    // measured runs of each binary
}

// roundsOrDefault is --rounds, or its default when not given: 1, or 4
// with --against. Even, so each binary runs first in as many rounds as the
// other and whatever running first does to a run (a machine still settling
// from the setup, say) falls on both alike; with 3, --bin went first twice.
func roundsOrDefault(rounds int, against string) int {
	switch {
	case rounds != 0:
		return rounds
	case against != "":
		return 4
	default:
		return 1
	}
}

// The fake model's speed: 300 ms to the first token, then 40 tokens at 40
// tokens a second.
const (
	benchTTFT   = 300 * time.Millisecond
	benchGap    = 25 * time.Millisecond
	benchTokens = 40
)

// benchTurnInterval is the server's SESSION_MIN_TURN_INTERVAL_SECONDS
// (its default, set explicitly); each student waits benchTurnPause after
// sending before the next message, as a student who has just heard the
// answer does anyway, so the bench runs at the server's own pace rather
// than switching the check off.
const (
	benchTurnInterval = 2
	benchTurnPause    = benchTurnInterval*time.Second + 300*time.Millisecond
)

type sessionsBench struct {
	o                         sessionsBenchOptions
	out                       io.Writer
	figures                   *sessionsFigures // if set, receives the report's headline figures
	scratch, dataDir, logPath string           // the first instance's data directory and log
	secretKey                 string           // every instance's SECRET_KEY: a token one signs, another accepts
	model                     *benchModel
	srvs                      []*benchServer // the instances, the first made the admin
	proxy                     *benchProxy    // nil with one instance
	c                         *benchClient
	nonce                     string
	password                  string
	weekID                    int64
	tokens                    []string
	audioBody                 []byte
	audioType                 string
	errs                      benchErrors
	paced                     atomic.Int64 // 429s (too soon) waited out and retried
	burstSamples              []cpuSample  // CPU from the start barrier on (burstSampler)
	// Turn 1's burst is over once every student has had turn 1's first
	// word or given up before it: then burstOver closes.
	pastTurn1 []sync.Once
	turn1Left atomic.Int64
	burstOver chan struct{}
}

// donePastTurn1 marks student i past turn 1's burst (once); outside a
// measured run (a student run alone, as a test does) there is no burst.
func (b *sessionsBench) donePastTurn1(i int) {
	if i >= len(b.pastTurn1) {
		return
	}
	b.pastTurn1[i].Do(func() {
		if b.turn1Left.Add(-1) == 0 {
			close(b.burstOver)
		}
	})
}

func (b *sessionsBench) run(ctx context.Context) error {
	b.nonce = randomHex(4)
	b.password = "bench-" + randomHex(12)
	audioSize := int(b.o.audioMB * (1 << 20))
	if audioSize < 64 {
		return errors.New("--audio-mb is too small for a WAV header")
	}
	b.audioBody, b.audioType = audioForm(audioSize)
	fmt.Fprintf(b.out, "bench sessions: %d students × %d streamed turns, %s recordings; fake model: %s to the first token, then %d tokens at %.0f/s\n",
		b.o.students, b.o.turns, sizeText(int64(audioSize)), benchTTFT, benchTokens, float64(time.Second)/float64(benchGap))

	var err error
	if b.model, err = startBenchModel(benchTTFT, benchGap, benchTokens); err != nil {
		return err
	}
	defer b.model.close()
	setupStart := time.Now()
	b.secretKey = randomHex(24)
	first, err := startBenchServer(ctx, b.o.bin, b.serverEnv(0), b.dataDir, b.logPath, b.password)
	if err != nil {
		return err
	}
	b.srvs = append(b.srvs, first)
	defer func() {
		for _, s := range b.srvs {
			s.kill()
		}
	}()
	for i := 1; i < b.o.instances; i++ {
		s, err := startBenchServe(ctx, b.o.bin, b.serverEnv(i), b.instanceDataDir(i), b.instanceLogPath(i))
		if err != nil {
			return fmt.Errorf("instance %d: %w", i+1, err)
		}
		b.srvs = append(b.srvs, s)
	}
	base := first.base
	if b.o.instances > 1 {
		if b.proxy, err = startBenchProxy(b.srvs, b.o.students); err != nil {
			return err
		}
		defer b.proxy.close()
		base = b.proxy.base
	}
	b.c = newBenchClient(base, b.o.students)
	if err := b.setup(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	pids := make([]string, len(b.srvs))
	for i, s := range b.srvs {
		pids[i] = strconv.Itoa(s.pid())
	}
	if b.proxy == nil {
		fmt.Fprintf(b.out, "setup (not measured): %s — server pid %d, %d students signed in and enrolled, week %d ready\n",
			time.Since(setupStart).Round(time.Millisecond), first.pid(), len(b.tokens), b.weekID)
	} else {
		fmt.Fprintf(b.out, "setup (not measured, through the proxy): %s — %d server instances on one PostgreSQL database (pids %s) behind a round-robin proxy in this process, %d students signed in and enrolled, week %d ready\n",
			time.Since(setupStart).Round(time.Millisecond), len(b.srvs), strings.Join(pids, ", "), len(b.tokens), b.weekID)
	}

	// The machine is shared with whatever else runs on it: say how busy
	// it was, so a noisy run can be told from a slow server.
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(b.out, "machine: %d CPUs, load average before the run %s\n", runtime.NumCPU(), strings.Join(strings.Fields(string(la))[:3], " "))
	}
	insts := make([]instanceRun, len(b.srvs))
	for i, s := range b.srvs {
		insts[i].before = s.sample()
		// Peak RSS during the run alone: clear_refs "5" resets VmHWM (Linux).
		insts[i].hwmReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.pid()), []byte("5"), 0) == nil
	}
	selfBefore := selfCPU()
	if b.proxy != nil {
		b.proxy.startRun()
	}
	b.model.startRun()
	if b.o.cpuProfile != "" {
		syscall.Kill(first.pid(), syscall.SIGUSR1)
	}
	dialsBefore := b.c.dials.Load()
	results, wall := b.measure(ctx)
	dials := b.c.dials.Load() - dialsBefore
	if b.o.cpuProfile != "" {
		syscall.Kill(first.pid(), syscall.SIGUSR2)
	}
	for i, s := range b.srvs {
		insts[i].after = s.sample()
		if b.proxy != nil {
			insts[i].turns = b.proxy.turns[i].Load()
		}
	}
	selfAfter := selfCPU()

	for i, s := range b.srvs {
		if err := s.stop(); err != nil {
			b.errs.add(fmt.Sprintf("server %d stop", i+1), err)
		}
	}
	check, err := checkSessionsDB(ctx, b.dataDir, b.audioDir(), b.o.database, results, int64(audioSize))
	if err != nil {
		return err
	}
	var logs logScan
	for i := range b.srvs {
		l, err := scanServerLog(b.instanceLogPath(i), b.o.database != "")
		if err != nil {
			return err
		}
		logs.add(l)
	}
	r := sessionsReport{
		o: b.o, results: results, wall: wall, model: b.model, check: check, logs: logs, errs: &b.errs, paced: b.paced.Load(),
		instances: insts, selfCPU: selfAfter - selfBefore, dials: dials, figures: b.figures, burstSamples: b.burstSamples,
	}
	return r.print(b.out)
}

// instanceDataDir is instance i's DATA_DIR: each serve holds its own (its
// lock, its PDFium cache, its files on their way in).
func (b *sessionsBench) instanceDataDir(i int) string {
	if i == 0 {
		return b.dataDir
	}
	return filepath.Join(b.scratch, fmt.Sprintf("data-%d", i+1))
}

func (b *sessionsBench) instanceLogPath(i int) string {
	if i == 0 {
		return b.logPath
	}
	return filepath.Join(b.scratch, fmt.Sprintf("server-%d.log", i+1))
}

// audioDir is where the recordings are: the one server's data directory,
// or with several instances the SESSION_DIR they share.
func (b *sessionsBench) audioDir() string {
	if b.o.instances > 1 {
		return filepath.Join(b.scratch, "shared", "audio")
	}
	return filepath.Join(b.dataDir, "audio")
}

// serverEnv is instance i's environment.
func (b *sessionsBench) serverEnv(i int) []string {
	env := b.baseServerEnv(i)
	if b.o.cpuProfile != "" {
		abs, _ := filepath.Abs(b.o.cpuProfile)
		env = append(env, "SOCRATIC_CPU_PROFILE="+abs)
	}
	if b.o.backupEvery > 0 {
		env = append(env, "BACKUP_DIR="+filepath.Join(b.scratch, "backups"), "BACKUP_INTERVAL="+b.o.backupEvery.String())
	}
	return env
}

func (b *sessionsBench) baseServerEnv(i int) []string {
	env := []string{
		"PATH=" + b.o.path,
		"DATA_DIR=" + b.instanceDataDir(i),
		"HOST=127.0.0.1",
		"PORT=" + strconv.Itoa(freeLocalPort()),
		"SECRET_KEY=" + b.secretKey,
		"ANTHROPIC_API_KEY=bench-key",
		"ANTHROPIC_BASE_URL=" + b.model.URL,
		"LLM_PROVIDER=anthropic",
		"EMBEDDINGS_PROVIDER=none",
		"RATE_LIMIT_CONVERSATIONS_PER_WEEK=10",
		"SESSION_MIN_TURN_INTERVAL_SECONDS=" + strconv.Itoa(benchTurnInterval),
		// The cap protects a paid model's rate limits; the bench's model is
		// a local fake and every student is in a turn at once, so the cap
		// is set to the load rather than measured as refusals.
		"LLM_MAX_CONCURRENT=" + strconv.Itoa(b.o.students),
		"LOG_LEVEL=info",
	}
	if b.o.database != "" {
		env = append(append(env, "DATABASE_URL="+b.o.database), b.o.pgEnv...)
	}
	if b.o.instances > 1 {
		// What a deployment shares through BLOB_URL (an S3 bucket) and a
		// shared volume, on one machine: one upload directory (the local
		// blob store) and one recordings directory. Uploads happen during
		// the setup only, after every instance has started.
		env = append(env, "UPLOAD_DIR="+filepath.Join(b.scratch, "shared", "uploads"), "SESSION_DIR="+b.audioDir())
	}
	return env
}

// setup makes the professor, the course, its week and reading, and the
// students, signed in and enrolled, all through the API.
func (b *sessionsBench) setup(ctx context.Context) error {
	admin, err := b.c.login(ctx, "bench-admin", b.password)
	if err != nil {
		return err
	}
	newUser := func(role, username string) error {
		return b.c.call(ctx, "POST", "/api/admin/users", admin, map[string]any{
			"email": username + "@bench.example.edu", "username": username, "password": b.password, "role": role,
		}, nil, http.StatusCreated)
	}
	if err := newUser("professor", "bench-professor"); err != nil {
		return err
	}
	prof, err := b.c.login(ctx, "bench-professor", b.password)
	if err != nil {
		return err
	}
	var course struct {
		ID       int64  `json:"id"`
		JoinCode string `json:"join_code"`
	}
	if err := b.c.call(ctx, "POST", "/api/courses", prof, map[string]any{"code": "BENCH 101", "name": "Free Exercise"}, &course, http.StatusCreated); err != nil {
		return err
	}
	var week struct {
		ID int64 `json:"id"`
	}
	if err := b.c.call(ctx, "POST", fmt.Sprintf("/api/courses/%d/weeks", course.ID), prof, map[string]any{"week_number": 1, "title": "Worship and emergencies"}, &week, http.StatusCreated); err != nil {
		return err
	}
	b.weekID = week.ID
	if err := b.upload(ctx, prof); err != nil {
		return err
	}

	// argon2id makes each account and each sign-in cost a core for a
	// moment: a few at a time.
	b.tokens = make([]string, b.o.students)
	err = parallel(ctx, b.o.students, b.o.setupConcurrency, func(i int) error {
		name := fmt.Sprintf("bench-student-%03d", i)
		if err := newUser("student", name); err != nil {
			return err
		}
		tok, err := b.c.login(ctx, name, b.password)
		if err != nil {
			return err
		}
		b.tokens[i] = tok
		return b.c.call(ctx, "POST", "/api/courses/join", tok, map[string]any{"join_code": course.JoinCode}, nil, http.StatusOK)
	})
	if err != nil {
		return err
	}
	// The themes job calls the model once the reading is processed; let it
	// finish so the run sees only students' turns.
	deadline := time.Now().Add(time.Minute)
	for {
		var w struct {
			Themes []string `json:"themes"`
		}
		if err := b.c.call(ctx, "GET", fmt.Sprintf("/api/weeks/%d", b.weekID), prof, nil, &w, http.StatusOK); err != nil {
			return err
		}
		if len(w.Themes) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(b.out, "warning: the week still has no themes after a minute; measuring anyway")
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// upload sends the folder's smallest PDF and waits until it is processed.
func (b *sessionsBench) upload(ctx context.Context, token string) error {
	files, err := filepath.Glob(filepath.Join(b.o.dir, "*.pdf"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no PDFs in %s", b.o.dir)
	}
	size := func(f string) int64 {
		st, err := os.Stat(f)
		if err != nil {
			return 1 << 62
		}
		return st.Size()
	}
	smallest := slices.MinFunc(files, func(a, c string) int { return int(size(a) - size(c)) })
	data, err := os.ReadFile(smallest)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", filepath.Base(smallest))
	part.Write(data)
	mw.Close()
	var doc struct {
		DocumentID int64 `json:"document_id"`
	}
	if err := b.c.send(ctx, "POST", fmt.Sprintf("/api/documents/upload?week_id=%d", b.weekID), token, mw.FormDataContentType(), body.Bytes(), &doc, http.StatusAccepted); err != nil {
		return fmt.Errorf("upload %s: %w", filepath.Base(smallest), err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var d struct {
			Status string  `json:"status"`
			Error  *string `json:"error"`
		}
		if err := b.c.call(ctx, "GET", fmt.Sprintf("/api/documents/%d", doc.DocumentID), token, nil, &d, http.StatusOK); err != nil {
			return err
		}
		switch {
		case d.Status == "processed":
			fmt.Fprintf(b.out, "reading: %s (%s)\n", filepath.Base(smallest), sizeText(int64(len(data))))
			return nil
		case d.Status == "failed":
			return fmt.Errorf("%s failed: %v", filepath.Base(smallest), d.Error)
		case time.Now().After(deadline):
			return fmt.Errorf("%s still %s after two minutes", filepath.Base(smallest), d.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// studentRun is what one student's client saw.
type studentRun struct {
	sessionID          int64
	opening            string
	started, ended     bool
	startDur, endDur   time.Duration
	turns              []turnRun
	endTranscriptTurns int
}

type turnRun struct {
	marker                 string
	sent, firstDelta, done time.Time
	wordAt                 []time.Time // when the client had each word of the answer
	response               string
	ok                     bool // a done event, consistent with the deltas
}

// measure runs every student at once, behind a start barrier.
func (b *sessionsBench) measure(ctx context.Context) ([]studentRun, time.Duration) {
	results := make([]studentRun, b.o.students)
	b.pastTurn1, b.burstOver = make([]sync.Once, b.o.students), make(chan struct{})
	b.turn1Left.Store(int64(b.o.students))
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range b.o.students {
		wg.Go(func() {
			<-gate
			results[i] = b.student(ctx, i)
		})
	}
	time.Sleep(50 * time.Millisecond) // let every goroutine reach the gate
	pids := make([]int, len(b.srvs))
	for i, s := range b.srvs {
		pids[i] = s.pid()
	}
	sampler := startBurstSampler(pids, b.burstOver)
	start := time.Now()
	close(gate)
	wg.Wait()
	wall := time.Since(start)
	b.burstSamples = sampler.finish()
	return results, wall
}

func (b *sessionsBench) student(ctx context.Context, i int) studentRun {
	defer b.donePastTurn1(i) // a student who never had turn 1's first word
	var r studentRun
	tok := b.tokens[i]
	var started struct {
		SessionID      int64  `json:"session_id"`
		OpeningMessage string `json:"opening_message"`
	}
	t0 := time.Now()
	if err := b.c.call(ctx, "POST", "/api/sessions/start", tok, map[string]any{"week_id": b.weekID}, &started, http.StatusCreated); err != nil {
		b.errs.add("start", err)
		return r
	}
	r.startDur, r.started, r.sessionID, r.opening = time.Since(t0), true, started.SessionID, started.OpeningMessage
	var sent time.Time
	for t := range b.o.turns {
		if t > 0 {
			time.Sleep(time.Until(sent.Add(benchTurnPause)))
		}
		tr := b.turn(ctx, tok, r.sessionID, i, t)
		r.turns = append(r.turns, tr)
		// The pause runs from the attempt the server took: after a 429,
		// the retry's send. Counted from the refused first attempt, the
		// next message went out about 1.5 s after the retry was stored,
		// too soon again, and one late turn made every later turn of
		// that student a 429 and a retry.
		sent = tr.sent
	}
	var end struct {
		Transcript []json.RawMessage `json:"transcript"`
	}
	t0 = time.Now()
	if err := b.c.send(ctx, "POST", fmt.Sprintf("/api/sessions/%d/end", r.sessionID), tok, b.audioType, b.audioBody, &end, http.StatusOK); err != nil {
		b.errs.add("end", err)
		return r
	}
	r.endDur, r.ended, r.endTranscriptTurns = time.Since(t0), true, len(end.Transcript)
	return r
}

// studentLines are what the simulated students say, in turn.
var studentLines = []string{
	"I think the order was not neutral, because it let casinos hold more people than churches.",
	"The court seems to say that comparable secular activity is the test, not the size of the burden.",
	"If restaurants had the same cap, the law would be generally applicable and rational basis would apply.",
	"The state's interest in stopping the virus is compelling, but the limit has to be narrowly tailored.",
	"Maybe the difference is that people sit still in church but move around in a casino.",
	"An injunction needs a likelihood of success on the merits and irreparable harm, so the first factor matters most.",
	"I would argue the governor could have used masks and distancing instead of a hard cap.",
	"So the rule is that worship cannot be treated worse than comparable secular gatherings.",
}

// turn sends one message on the stream route and reads its events.
func (b *sessionsBench) turn(ctx context.Context, tok string, sessionID int64, student, t int) turnRun {
	tr := turnRun{marker: fmt.Sprintf("bench-s%03d-t%02d-%s", student, t, b.nonce)}
	body, _ := json.Marshal(map[string]string{
		"message":       studentLines[t%len(studentLines)] + " (" + tr.marker + ")",
		"client_msg_id": tr.marker,
	})
	req, err := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/sessions/%d/message/stream", b.c.base, sessionID), bytes.NewReader(body))
	if err != nil {
		b.errs.add("turn", err)
		return tr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	tr.sent = time.Now()
	res, err := b.c.hc.Do(req)
	if err == nil && res.StatusCode == http.StatusTooManyRequests {
		// Too soon after the last (by the server's clock, between the
		// messages' arrivals): wait as asked and send the same message
		// again, as a client should.
		wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		io.Copy(io.Discard, res.Body) // to the end: the retry reuses the connection
		res.Body.Close()
		b.paced.Add(1)
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		req, _ = http.NewRequestWithContext(ctx, "POST", req.URL.String(), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		tr.sent = time.Now()
		res, err = b.c.hc.Do(req)
	}
	if err != nil {
		b.errs.add("turn", err)
		return tr
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.errs.add("turn", statusError(res))
		return tr
	}
	var deltas strings.Builder
	err = readSSE(res.Body, func(event string, data []byte) bool {
		switch event {
		case "delta":
			if tr.firstDelta.IsZero() {
				tr.firstDelta = time.Now()
				if t == 0 {
					b.donePastTurn1(student)
				}
			}
			var d struct {
				Text string `json:"text"`
			}
			json.Unmarshal(data, &d)
			deltas.WriteString(d.Text)
			// Every word the answer now holds has arrived: the fake
			// sends whole words, so a delta ends at a word's end.
			now := time.Now()
			for range len(strings.Fields(deltas.String())) - len(tr.wordAt) {
				tr.wordAt = append(tr.wordAt, now)
			}
		case "done":
			tr.done = time.Now()
			var d struct {
				Response string `json:"response"`
			}
			if err := json.Unmarshal(data, &d); err != nil {
				b.errs.add("turn", fmt.Errorf("unreadable done event: %s", data))
				return false
			}
			tr.response = d.Response
			return false
		case "error":
			var d struct {
				Detail string `json:"detail"`
			}
			json.Unmarshal(data, &d)
			b.errs.add("turn", fmt.Errorf("error event: %s", d.Detail))
			tr.done = time.Now()
			return false
		}
		return true
	})
	switch {
	case err != nil:
		b.errs.add("turn", fmt.Errorf("reading the stream: %w", err))
	case tr.done.IsZero():
		b.errs.add("turn", errors.New("the stream ended without a done or error event"))
	case tr.response == "":
		// an error event, already counted
	case tr.firstDelta.IsZero():
		b.errs.add("turn", errors.New("done without any delta"))
	case strings.TrimSpace(deltas.String()) != tr.response:
		b.errs.add("turn", errors.New("the deltas do not add up to done.response"))
	default:
		tr.ok = true
	}
	return tr
}

// readSSE calls fn for each event until fn returns false or the body ends.
// After fn returns false it still reads the body to its end, as the web
// client does (api.js reads until the stream is done): a client that
// closed a response before its end would cost its connection, and a new
// connection for every turn is neither what a browser does nor what the
// server should be measured on. An error in that last read is not the
// turn's (its events have all come): the connection is simply not kept,
// and the report's count of connections shows it.
func readSSE(body io.Reader, fn func(event string, data []byte) bool) error {
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
					io.Copy(io.Discard, br)
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

// audioForm is a multipart body whose field "audio" holds a WAV file of
// size bytes: a valid RIFF/WAVE header (16 kHz, 16-bit mono PCM), then a
// quiet room's noise (samples within ±256, the same every run). Not
// digital silence: a recording is never a megabyte of zero bytes, and
// reading one made the server's multipart parser scan every 4 KB back to
// its start for a line break (2% of the server's CPU in the bench, none of
// it real).
func audioForm(size int) ([]byte, string) {
	wav := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 44; i+1 < size; i += 2 {
		binary.LittleEndian.PutUint16(wav[i:], uint16(int16(rng.IntN(513)-256)))
	}
	copy(wav, "RIFF")
	binary.LittleEndian.PutUint32(wav[4:], uint32(size-8))
	copy(wav[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(wav[16:], 16)
	binary.LittleEndian.PutUint16(wav[20:], 1) // PCM
	binary.LittleEndian.PutUint16(wav[22:], 1) // mono
	binary.LittleEndian.PutUint32(wav[24:], 16000)
	binary.LittleEndian.PutUint32(wav[28:], 32000)
	binary.LittleEndian.PutUint16(wav[32:], 2)
	binary.LittleEndian.PutUint16(wav[34:], 16)
	copy(wav[36:], "data")
	binary.LittleEndian.PutUint32(wav[40:], uint32(size-44))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="audio"; filename="session.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, _ := mw.CreatePart(h)
	part.Write(wav)
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}
