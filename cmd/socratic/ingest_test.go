package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/testenv"
)

func TestIngestCommand(t *testing.T) {
	testenv.OnlySQLite(t, "socratic ingest refuses PostgreSQL (TestMigrateOnPostgres checks it): with several instances uploads go through the API")
	dir := t.TempDir()
	env := withEngine(t, dir, []string{"DATA_DIR=" + dir, "LOG_LEVEL=warn"})
	shareCompileCache(t, dir)
	ctx := context.Background()
	// The schema and a week, made the way the server would.
	if err := run(ctx, []string{"migrate", "up"}, env, nil, &syncBuffer{}, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfigAnyEngine(env)
	if err != nil {
		t.Fatal(err)
	}
	db, err := openDB(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	admin := auth.User{ID: 0, Role: auth.RoleAdmin}
	cs := course.NewService(db, course.Options{})
	c, err := cs.Create(ctx, admin, course.NewCourse{Code: "LAW 300", Name: "Evidence"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CreateWeek(ctx, admin, c.ID, course.NewWeek{Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	corpus := testenv.Corpus()
	bogus := filepath.Join(t.TempDir(), "notes.pdf")
	os.WriteFile(bogus, []byte("not a pdf"), 0o600)
	out := &syncBuffer{}
	err = run(ctx, []string{"ingest", "--week", strconv.FormatInt(w.ID, 10),
		filepath.Join(corpus, "ca7-lopez-v-thurmer-2010.pdf"), filepath.Join(corpus, "us-constitution-1787.pdf"), bogus}, env, nil, out, &syncBuffer{})
	if err == nil || err.Error() != "1 of 3 files were not processed" {
		t.Errorf("ingest error = %v", err)
	}
	for _, want := range []string{"ca7-lopez-v-thurmer-2010.pdf: processed: 9 pages", "us-constitution-1787.pdf: processed: 14 pages", "notes.pdf: refused: this file cannot be used: it is a text file"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Again: the same bytes are already there.
	out = &syncBuffer{}
	if err := run(ctx, []string{"ingest", "--week", strconv.FormatInt(w.ID, 10), filepath.Join(corpus, "ca7-lopez-v-thurmer-2010.pdf")}, env, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already in week") {
		t.Errorf("second run:\n%s", out.String())
	}
	if err := run(ctx, []string{"ingest", "--week", "0", "x.pdf"}, env, nil, out, &syncBuffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("bad week: %v", err)
	}
}
