package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// pgFixture is a migrated PostgreSQL database with a course, a week, an
// uploaded reading, a session with a recording and turns, and the upload
// and recording on disk.
type pgFixture struct {
	url, uploadDir, audioDir string
	sum, audio               string
	turns                    []string
}

func newPGFixture(t *testing.T) pgFixture {
	t.Helper()
	ctx := context.Background()
	f := pgFixture{url: testenv.Postgres(t), uploadDir: filepath.Join(t.TempDir(), "uploads"), audioDir: filepath.Join(t.TempDir(), "audio")}
	db, err := sqlite.OpenPostgres(ctx, f.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	id := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.Write.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	const at = "2026-11-18T10:00:00.000000Z"
	pdf := []byte("%PDF-1.4 a reading on the mailbox rule")
	f.sum = hashBytes(pdf)
	writeFile(t, filepath.Join(f.uploadDir, f.sum[:2], f.sum), pdf)
	user := id(`INSERT INTO users (email, username, full_name, password_hash, role, created_at, updated_at) VALUES ('s@law.example.edu', 'student', 'A Student', 'x', 'student', ?, ?)`, at, at)
	course := id(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES ('LAW 101', 'Contracts', 'jc', ?, ?)`, at, at)
	week := id(`INSERT INTO weeks (course_id, week_number, title, created_at, updated_at) VALUES (?, 1, 'Acceptance', ?, ?)`, course, at, at)
	id(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'adams.pdf', ?, ?, 'processed', ?)`, week, f.sum, len(pdf), at)
	f.audio = "session-1-00112233.wav"
	writeFile(t, filepath.Join(f.audioDir, f.audio), []byte("RIFF\x24\x00\x00\x00WAVEfmt a recording"))
	sess := id(`INSERT INTO sessions (user_id, course_id, week_id, course_created_at, week_created_at, week_number, status, counted, started_at, expires_at, ended_at, duration_seconds, audio_name, audio_type, audio_size)
		VALUES (?, ?, ?, ?, ?, 1, 'ended', TRUE, ?, ?, ?, 60, ?, 'audio/wav', 27)`, user, course, week, at, at, at, at, at, f.audio)
	for i := range 40 {
		role, state := "user", "answered"
		if i%2 == 1 {
			role, state = "assistant", "done"
		}
		text := fmt.Sprintf("turn %d: is an acceptance by mail effective on dispatch? «%d»", i, i*i)
		id(`INSERT INTO turns (session_id, role, content, at, state) VALUES (?, ?, ?, ?, ?)`, sess, role, text, at, state)
		f.turns = append(f.turns, text)
	}
	return f
}

func (f pgFixture) source() Source {
	return Source{DatabaseURL: f.url, UploadDir: f.uploadDir, AudioDir: f.audioDir}
}

func turnsOf(t *testing.T, url string) []string {
	t.Helper()
	db, err := sqlite.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Read.Query(`SELECT content FROM turns ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// A PostgreSQL database with sessions and turns, backed up with pg_dump
// and restored with pg_restore into a fresh database: every turn is there,
// and the upload and recording are back in their folders.
func TestPostgresBackupAndRestore(t *testing.T) {
	testenv.OnlyPostgres(t)
	f := newPGFixture(t)
	ctx := context.Background()
	to := filepath.Join(t.TempDir(), "b")
	m, err := Create(ctx, f.source(), to, Info{AppVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := sqlite.LatestVersion()
	var paths []string
	for _, file := range m.Files {
		paths = append(paths, file.Path)
	}
	want := []string{pgDumpName, "uploads/" + f.sum[:2] + "/" + f.sum, "audio/" + f.audio}
	if m.Engine != EnginePostgres || m.SchemaVersion != latest || !slices.Equal(paths, want) || m.Bucket != "" {
		t.Fatalf("manifest engine %q, schema %d (latest %d), files %v (want %v), bucket %q", m.Engine, m.SchemaVersion, latest, paths, want, m.Bucket)
	}
	if _, err := Verify(to); err != nil {
		t.Fatal(err)
	}

	fresh := testenv.Postgres(t)
	tgt := Target{DatabaseURL: fresh, UploadDir: filepath.Join(t.TempDir(), "uploads"), AudioDir: filepath.Join(t.TempDir(), "audio")}
	if _, err := Restore(ctx, to, tgt); err != nil {
		t.Fatal(err)
	}
	if got := turnsOf(t, fresh); !slices.Equal(got, f.turns) {
		t.Fatalf("restored %d turns, want the %d backed up:\n%q", len(got), len(f.turns), got)
	}
	for _, p := range []string{filepath.Join(tgt.UploadDir, f.sum[:2], f.sum), filepath.Join(tgt.AudioDir, f.audio)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("not restored: %v", err)
		}
	}
	// The restored database is not empty: a second restore is refused.
	if _, err := Restore(ctx, to, tgt); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Fatalf("restore into a database with tables: %v", err)
	}
	// Nor does a PostgreSQL backup go into a SQLite data directory.
	dir := t.TempDir()
	if _, err := Restore(ctx, to, Target{DataDir: dir, DBPath: filepath.Join(dir, "socratic.db"), UploadDir: filepath.Join(dir, "uploads"), AudioDir: filepath.Join(dir, "audio")}); err == nil || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("restore of a PostgreSQL backup into SQLite: %v", err)
	}
}

// A corrupted dump and a newer schema are refused before the database is
// touched.
func TestPostgresRestoreRefusals(t *testing.T) {
	testenv.OnlyPostgres(t)
	f := newPGFixture(t)
	ctx := context.Background()
	to := filepath.Join(t.TempDir(), "b")
	if _, err := Create(ctx, f.source(), to, Info{AppVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	fresh := testenv.Postgres(t)
	tgt := Target{DatabaseURL: fresh, UploadDir: filepath.Join(t.TempDir(), "uploads"), AudioDir: filepath.Join(t.TempDir(), "audio")}

	dump := filepath.Join(to, pgDumpName)
	orig, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(orig)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(dump, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, to, tgt); err == nil || !strings.Contains(err.Error(), pgDumpName+" is corrupted") {
		t.Fatalf("restore of a corrupted dump: %v", err)
	}
	if err := os.WriteFile(dump, orig, 0o600); err != nil {
		t.Fatal(err)
	}

	mpath := filepath.Join(to, ManifestName)
	b, _ := os.ReadFile(mpath)
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m.SchemaVersion += 1000
	b, _ = json.Marshal(m)
	if err := os.WriteFile(mpath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, to, tgt); err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
		t.Fatalf("restore of a newer schema: %v", err)
	}
	db, err := sqlite.OpenPostgres(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.Read.QueryRow(`SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("a refused restore left %d tables (%v)", tables, err)
	}
	if _, err := os.Stat(tgt.UploadDir); err == nil {
		t.Errorf("a refused restore wrote into UPLOAD_DIR")
	}
}

// With BLOB_URL the uploads and recordings are in the bucket: the backup
// holds the database alone and says why.
func TestPostgresBackupWithBucket(t *testing.T) {
	testenv.OnlyPostgres(t)
	f := newPGFixture(t)
	src := f.source()
	src.BlobURL = "s3://school-files/socratic"
	to := filepath.Join(t.TempDir(), "b")
	m, err := Create(context.Background(), src, to, Info{AppVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0].Path != pgDumpName || m.Bucket != BucketNote {
		t.Fatalf("files %v, bucket %q", m.Files, m.Bucket)
	}
}

// The password reaches pg_dump in PGPASSWORD, never on its command line.
func TestPGPasswordNotInArgv(t *testing.T) {
	if _, err := pgTool("pg_dump"); err != nil {
		testenv.Missing(t, "pg_dump", err.Error())
	}
	for _, u := range []string{"postgres://app:s3cr%21t@db.example.edu:5432/socratic?sslmode=require", "postgres://app@db.example.edu/socratic?password=s3cr%21t"} {
		cmd, err := pgCommand(context.Background(), "pg_dump", u, "--format=custom")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.Join(cmd.Args, " "), "s3cr") {
			t.Errorf("the password is in argv: %q", cmd.Args)
		}
		if !slices.Contains(cmd.Env, "PGPASSWORD=s3cr!t") {
			t.Errorf("%s: PGPASSWORD not set to the password", u)
		}
		if !slices.ContainsFunc(cmd.Args, func(a string) bool { return strings.HasPrefix(a, "--dbname=postgres://app@db.example.edu") }) {
			t.Errorf("the database is not named: %q", cmd.Args)
		}
	}
}

func hashBytes(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Scheduled backups (BACKUP_DIR) take the same path on PostgreSQL: each
// is a pg_dump that verifies, and only the newest Keep stay.
func TestScheduledBackupsOnPostgres(t *testing.T) {
	testenv.OnlyPostgres(t)
	f := newPGFixture(t)
	ctx := context.Background()
	s := &Scheduler{Dir: t.TempDir(), Interval: time.Hour, Keep: 2, Source: f.source(), Info: Info{AppVersion: "test"}, Log: slog.New(slog.DiscardHandler)}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Once(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // folder names are by millisecond
	}
	names, err := List(s.Dir)
	if err != nil || len(names) != 2 {
		t.Fatalf("kept %v, %v; want the newest 2", names, err)
	}
	m, err := Verify(filepath.Join(s.Dir, names[1]))
	if err != nil || m.Engine != EnginePostgres {
		t.Fatalf("newest scheduled backup: engine %q, %v", m.Engine, err)
	}
}

// On SQLite too, with BLOB_URL the files are in the bucket: the backup
// holds the database, lists no file as missing, and says why.
func TestSQLiteBackupWithBucket(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup with a bucket; TestPostgresBackupWithBucket is PostgreSQL's")
	f := newFixture(t)
	src := f.source()
	src.BlobURL = "s3://school-files/socratic"
	m, err := Create(context.Background(), src, filepath.Join(t.TempDir(), "b"), Info{AppVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 1 || m.Files[0].Path != dbName || m.Bucket != BucketNote || len(m.Missing) != 0 || m.Engine != "" {
		t.Fatalf("files %v, missing %v, bucket %q, engine %q", m.Files, m.Missing, m.Bucket, m.Engine)
	}
}
