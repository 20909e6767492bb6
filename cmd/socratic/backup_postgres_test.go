package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestBackupAndRestoreOnPostgres: `socratic backup --to DIR` on a
// PostgreSQL DATABASE_URL writes a pg_dump with its manifest, and
// `socratic restore --from DIR` with DATABASE_URL naming a fresh database
// brings back every session and turn; with BLOB_URL the output says the
// bucket is not copied.
func TestBackupAndRestoreOnPostgres(t *testing.T) {
	testenv.OnlyPostgres(t)
	ctx := context.Background()
	url := testenv.Postgres(t)
	env := []string{"DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + url}
	if err := run(ctx, []string{"migrate", "up"}, env, nil, &syncBuffer{}, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const at = "2026-11-18T10:00:00.000000Z"
	var user, sess int64
	if err := db.QueryRow(`INSERT INTO users (email, username, full_name, password_hash, role, created_at, updated_at) VALUES ('s@law.example.edu', 'student', 'A Student', 'x', 'student', $1, $1) RETURNING id`, at).Scan(&user); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`INSERT INTO sessions (user_id, course_id, week_id, course_created_at, week_created_at, week_number, counted, started_at, expires_at)
		VALUES ($1, 1, 1, $2, $2, 1, TRUE, $2, $2) RETURNING id`, user, at).Scan(&sess); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 30 {
		role, state := "user", "answered"
		if i%2 == 1 {
			role, state = "assistant", "done"
		}
		text := fmt.Sprintf("turn %d of the mailbox rule", i)
		if _, err := db.Exec(`INSERT INTO turns (session_id, role, content, at, state) VALUES ($1, $2, $3, $4, $5)`, sess, role, text, at, state); err != nil {
			t.Fatal(err)
		}
		want = append(want, text)
	}

	to := filepath.Join(t.TempDir(), "b")
	out := &syncBuffer{}
	if err := run(ctx, []string{"backup", "--to", to}, env, nil, out, &syncBuffer{}); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "backup written to "+to) {
		t.Errorf("backup said %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(to, "socratic.pgdump")); err != nil {
		t.Fatal(err)
	}

	fresh := testenv.Postgres(t)
	renv := []string{"DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + fresh}
	out = &syncBuffer{}
	if err := run(ctx, []string{"restore", "--from", to}, renv, nil, out, &syncBuffer{}); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	rdb, err := sql.Open("pgx", fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	rows, err := rdb.Query(`SELECT content FROM turns WHERE session_id = $1 ORDER BY id`, sess)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	rows.Close()
	if !slices.Equal(got, want) {
		t.Fatalf("restored turns %q, want %q", got, want)
	}
	// The restored database is no longer empty: restoring again is refused.
	if err := run(ctx, []string{"restore", "--from", to}, renv, nil, &syncBuffer{}, &syncBuffer{}); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Errorf("second restore: %v", err)
	}

	// With BLOB_URL the files are in the bucket: said, and not copied.
	benv := append(slices.Clone(env), "BLOB_URL=s3://school-files/socratic", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test-secret")
	out = &syncBuffer{}
	if err := run(ctx, []string{"backup", "--to", to + "-bucket"}, benv, nil, out, &syncBuffer{}); err != nil {
		t.Fatalf("backup with BLOB_URL: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "not copied") || !strings.Contains(out.String(), "versioning") {
		t.Errorf("backup with BLOB_URL said %q", out.String())
	}
}
