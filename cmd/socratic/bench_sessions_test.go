package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestBenchSessionsEndToEnd runs bench sessions at a tiny size against the
// real built binary (the test binary cannot serve) and expects a clean
// report: no errors, nothing lost or duplicated in the database.
func TestBenchSessionsEndToEnd(t *testing.T) {
	testenv.OnlySQLite(t, "bench sessions' default engine; TestBenchSessionsOnPostgres runs it with --database")
	bin := buildBinary(t)
	args := []string{"bench", "sessions", "--students", "3", "--turns", "2", "--audio-mb", "0.0625",
		"--bin", bin, "--dir", testenv.Corpus(), "--cpu-profile", filepath.Join(t.TempDir(), "server.prof")}
	report := benchReport(t, "bench sessions", args)
	for _, want := range []string{
		"6 of 6 turns answered",
		"errors: 0\n",
		"3 of 3 sessions exactly opening + 2 answered turns",
		"lost turns 0, duplicated turns 0, answers differing from done.response 0",
		"recordings missing or wrong size 0",
		"SQLite busy errors: 0",
		"64 KB recording",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if st, err := os.Stat(args[len(args)-1]); err != nil || st.Size() == 0 {
		t.Errorf("no CPU profile of the server written: %v", err)
	}
	if !regexp.MustCompile(`server CPU per turn [0-9]+\.[0-9]{2} ms \([0-9]+\.[0-9] s over 6 answered turns`).MatchString(report) {
		t.Errorf("the report does not give the server's CPU per turn")
	}
	// Each student keeps one connection, as a browser does: the client
	// reads every response to its end (a stream too, after its done
	// event), so none is closed under it.
	if m := regexp.MustCompile(`client connections opened during the run: ([0-9]+) for 3 students`).FindStringSubmatch(report); m == nil {
		t.Errorf("the report does not count the client's connections")
	} else if n, _ := strconv.Atoi(m[1]); n > 3 {
		t.Errorf("the students' client opened %d connections for 3 students: some were not kept between requests", n)
	}
	// The server keeps its connections to the model too: 12 requests (6
	// answers, 6 verdicts beside them) on at most 2 per student.
	if m := regexp.MustCompile(`model connections the server opened during the run: ([0-9]+) for 12 requests`).FindStringSubmatch(report); m == nil {
		t.Errorf("the report does not count the server's connections to the model")
	} else if n, _ := strconv.Atoi(m[1]); n > 6 {
		t.Errorf("the server opened %d connections to the model for 3 students: some were not kept between requests", n)
	}
	// Turn 1's burst: from the barrier to the last turn 1 at the model,
	// with the machine's busy share and whose CPU it was.
	if m := regexp.MustCompile(`turn 1's burst: ([0-9]+) ms from the start barrier until the last turn 1 reached the model; over the ([0-9]+) ms sampled around it the machine's [0-9]+ CPUs were ([0-9]+)% busy: the server ([0-9]+) ms of CPU, this bench \(clients and fake model\) ([0-9]+) ms`).FindStringSubmatch(report); m == nil {
		t.Errorf("the report does not measure turn 1's burst")
	} else {
		window, _ := strconv.Atoi(m[1])
		covered, _ := strconv.Atoi(m[2])
		busy, _ := strconv.Atoi(m[3])
		if window <= 0 || covered < window || busy > 100 {
			t.Errorf("turn 1's burst: %d ms over %d ms sampled, %d%% busy", window, covered, busy)
		}
	}
	// Every word of the six answers (40 each) is timed, not only the first.
	if !regexp.MustCompile(`per word \(client − fake send\), every word +[0-9]+\.[0-9] +[0-9]+\.[0-9] +[0-9]+\.[0-9] +[0-9]+\.[0-9] +240\n`).MatchString(report) {
		t.Errorf("the report does not time every word of the answers")
	}
}

// TestBenchSessionsOnPostgres: with --database the server runs on that
// PostgreSQL database and the check reads the turns there; a tiny run is
// as clean as on SQLite.
func TestBenchSessionsOnPostgres(t *testing.T) {
	testenv.OnlyPostgres(t)
	database := testenv.Postgres(t)
	bin := buildBinary(t)
	args := []string{"bench", "sessions", "--students", "3", "--turns", "2", "--audio-mb", "0.0625",
		"--bin", bin, "--dir", testenv.Corpus(), "--database", database}
	report := benchReport(t, "bench sessions on PostgreSQL", args)
	for _, want := range []string{
		"6 of 6 turns answered",
		"errors: 0\n",
		"database (after SIGTERM): 3 sessions, 15 turns; 3 of 3 sessions exactly opening + 2 answered turns",
		"lost turns 0, duplicated turns 0, answers differing from done.response 0",
		"recordings missing or wrong size 0",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var turns int
	if err := db.QueryRow(`SELECT count(*) FROM turns`).Scan(&turns); err != nil || turns != 15 {
		t.Errorf("turns in the PostgreSQL database: %d %v, want 15", turns, err)
	}
	err = run(context.Background(), []string{"bench", "sessions", "--database", "mysql://x"}, nil, nil, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "--database must be a PostgreSQL URL") {
		t.Errorf("--database mysql://x: %v", err)
	}
}

// benchReport runs socratic with args (a bench, whose report is its
// standard output), logs the report and returns it; a failed run fails
// the test with what (the run's name) and its standard error.
func benchReport(t *testing.T, what string, args []string) string {
	t.Helper()
	var out, errOut syncBuffer
	err := run(context.Background(), args, []string{"PATH=" + os.Getenv("PATH")}, nil, &out, &errOut)
	report := out.String()
	t.Log("\n" + report)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, errOut.String())
	}
	return report
}
