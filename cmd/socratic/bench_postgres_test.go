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

// TestBenchSearchOnPostgres: bench search --database fills and searches its
// weeks in that PostgreSQL database (the copies are PostgreSQL's rows), and
// then refuses the same database, which now holds tables, as it refuses a
// URL that is not PostgreSQL's.
func TestBenchSearchOnPostgres(t *testing.T) {
	database := testenv.Postgres(t)
	// One small reading and one question keep the ingest short.
	dir := t.TempDir()
	pdf := "ca1-calvary-chapel-of-bangor-v-mills-2020.pdf"
	if err := os.Mkdir(filepath.Join(dir, "pdfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(testenv.CorpusPDF(pdf), filepath.Join(dir, "pdfs", pdf)); err != nil {
		t.Fatal(err)
	}
	qa := filepath.Join(dir, "qa.jsonl")
	if err := os.WriteFile(qa, []byte(`{"file": "`+pdf+`", "question": "May the state cap worship more tightly than casinos?", "answer_quote": "casinos"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"bench", "search", "--qa", qa, "--sizes", "40,300", "--others", "500", "--per-week", "200", "--queries", "3", "--database", database}
	report := benchReport(t, "bench search on PostgreSQL", args)
	for _, want := range []string{
		"database: PostgreSQL (database socratic_test_",
		"added 500 chunks with vectors in 3 other weeks",
		"with 500 chunks in other weeks (3 searches each",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^ +(40|300) chunks in the week: hybrid [0-9.]+[µm]?s / `).FindAllString(report, -1)); n != 4 {
		t.Errorf("%d lines of the 40- and 300-chunk weeks' latencies, want 2 in each of 2 rounds", n)
	}
	m := regexp.MustCompile(`passages: ([0-9]+) from 1 PDFs`).FindStringSubmatch(report)
	if m == nil {
		t.Fatal("the report does not say how many passages the reading gave")
	}
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var chunks, vectors, weeks int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM chunks), (SELECT count(*) FROM chunk_vectors), (SELECT count(*) FROM weeks)`).Scan(&chunks, &vectors, &weeks); err != nil {
		t.Fatal(err)
	}
	passages, _ := strconv.Atoi(m[1])
	if want := passages + 40 + 300 + 500; chunks != want {
		t.Errorf("chunks in PostgreSQL: %d, want %s from the reading + 840 copies = %d", chunks, m[1], want)
	}
	if vectors != 840 || weeks != 1+2+3 {
		t.Errorf("PostgreSQL holds %d vectors in %d weeks, want 840 in 6 (the reading's, 2 measured, 3 others)", vectors, weeks)
	}

	err = run(context.Background(), args, nil, nil, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("a second run on the same database: %v, want it refused", err)
	}
	err = run(context.Background(), []string{"bench", "search", "--database", "mysql://x"}, nil, nil, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "--database must be a PostgreSQL URL") {
		t.Errorf("--database mysql://x: %v", err)
	}
}

// TestBenchSessionsTwoInstances: bench sessions --instances 2 runs two
// servers on one PostgreSQL database behind its round-robin proxy; a small
// run has every turn answered and stored once, and both instances answered
// some of them. Several instances without PostgreSQL are refused.
func TestBenchSessionsTwoInstances(t *testing.T) {
	database := testenv.Postgres(t)
	bin := buildBinary(t)
	args := []string{"bench", "sessions", "--students", "6", "--turns", "2", "--audio-mb", "0.0625",
		"--bin", bin, "--dir", testenv.Corpus(), "--database", database, "--instances", "2"}
	report := benchReport(t, "bench sessions --instances 2", args)
	for _, want := range []string{
		"2 server instances on one PostgreSQL database",
		"12 of 12 turns answered",
		"errors: 0\n",
		"database (after SIGTERM): 6 sessions, 30 turns; 6 of 6 sessions exactly opening + 2 answered turns",
		"lost turns 0, duplicated turns 0, answers differing from done.response 0",
		"recordings missing or wrong size 0",
		"server logs (2 instances): ",
		"PostgreSQL lock errors (deadlock, serialization failure, lock or statement timeout, out of connections) and busy refusals: 0",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	answered := regexp.MustCompile(`instance ([12]): answered ([0-9]+) streamed turns`).FindAllStringSubmatch(report, -1)
	if len(answered) != 2 {
		t.Fatalf("the report gives %d instances' turns, want 2", len(answered))
	}
	total := 0
	for _, m := range answered {
		n, _ := strconv.Atoi(m[2])
		if n == 0 {
			t.Errorf("instance %s answered no turns: the proxy did not spread them", m[1])
		}
		total += n
	}
	if total != 12 {
		t.Errorf("the instances answered %d turns between them, want 12", total)
	}
	if !regexp.MustCompile(`server CPU per turn [0-9]+\.[0-9]{2} ms \([0-9]+\.[0-9] s over 12 answered turns, session starts and ends included, every instance's summed\)`).MatchString(report) {
		t.Errorf("the report does not give the instances' summed CPU per turn")
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "sessions", "--instances", "2"}, "--instances 2 needs --database postgres://"},
		{[]string{"bench", "sessions", "--instances", "0"}, "--instances must be at least 1"},
		{[]string{"bench", "sessions", "--database", database}, "already holds"},
	} {
		err := run(context.Background(), bad.args, nil, nil, &syncBuffer{}, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.args, err, bad.want)
		}
	}
}
