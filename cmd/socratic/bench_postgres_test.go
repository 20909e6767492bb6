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
	var out, errOut syncBuffer
	args := []string{"bench", "search", "--qa", qa, "--sizes", "40,300", "--others", "500", "--per-week", "200", "--queries", "3", "--database", database}
	err := run(context.Background(), args, []string{"PATH=" + os.Getenv("PATH")}, nil, &out, &errOut)
	report := out.String()
	t.Log("\n" + report)
	if err != nil {
		t.Fatalf("bench search on PostgreSQL: %v\n%s", err, errOut.String())
	}
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
