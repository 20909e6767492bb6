package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/datadir"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// fixture is a data directory with a migrated database naming one upload
// and one recording, both on disk. The database stays open, so what it
// wrote is still in the write-ahead log, as under a running server.
type fixture struct {
	dataDir string
	db      *sqlite.DB
	target  Target
	upload  string // the upload's sha256
	audio   string // the recording's name
}

func (f fixture) source() Source {
	return Source{DBPath: f.target.DBPath, UploadDir: f.target.UploadDir, AudioDir: f.target.AudioDir}
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	f := fixture{dataDir: dir, target: Target{DataDir: dir, DBPath: filepath.Join(dir, "socratic.db"),
		UploadDir: filepath.Join(dir, "uploads"), AudioDir: filepath.Join(dir, "audio")}}
	db, err := sqlite.Open(ctx, f.target.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f.db = db
	pdf := []byte("%PDF-1.4 a reading about consideration\n")
	sum := sha256.Sum256(pdf)
	f.upload = hex.EncodeToString(sum[:])
	writeFile(t, filepath.Join(f.target.UploadDir, f.upload[:2], f.upload), pdf)
	f.audio = "session-1-0123456789abcdef.wav"
	writeFile(t, filepath.Join(f.target.AudioDir, f.audio), []byte("RIFF\x24\x00\x00\x00WAVEfmt a recording"))
	now := sqlite.FormatTime(time.Now())
	for _, q := range []string{
		`INSERT INTO users (id, email, username, password_hash, role, created_at, updated_at) VALUES (1, 'ada@law.example.edu', 'ada', 'x', 'student', '` + now + `', '` + now + `')`,
		`INSERT INTO courses (id, code, name, join_code, created_at, updated_at) VALUES (1, 'LAW 110', 'Contracts', 'JOIN1', '` + now + `', '` + now + `')`,
		`INSERT INTO weeks (id, course_id, week_number, created_at, updated_at) VALUES (1, 1, 1, '` + now + `', '` + now + `')`,
		`INSERT INTO documents (week_id, original_filename, sha256, file_size, uploaded_at) VALUES (1, 'a.pdf', '` + f.upload + `', 40, '` + now + `')`,
		`INSERT INTO sessions (id, user_id, course_id, week_id, course_created_at, week_created_at, week_number, status, counted, started_at, expires_at, ended_at, audio_name, audio_type, audio_size)
		 VALUES (1, 1, 1, 1, '` + now + `', '` + now + `', 1, 'ended', 1, '` + now + `', '` + now + `', '` + now + `', '` + f.audio + `', 'audio/wav', 30)`,
	} {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return f
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func makeBackup(t *testing.T, f fixture) (string, Manifest) {
	t.Helper()
	to := filepath.Join(t.TempDir(), "backups", "b1")
	m, err := Create(context.Background(), f.source(), to, Info{AppVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return to, m
}

// entries lists a folder's names, hidden ones included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestBackupHoldsWhatTheWALHolds(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	// The rows are committed but not checkpointed: socratic.db alone
	// (what cp would copy) does not hold them yet.
	if st, err := os.Stat(f.target.DBPath + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("want the rows in the write-ahead log: %v", err)
	}
	to, m := makeBackup(t, f)
	if m.SchemaVersion < 10 {
		t.Errorf("schema version %d", m.SchemaVersion)
	}
	want := map[string]bool{"socratic.db": true, "uploads/" + f.upload[:2] + "/" + f.upload: true, "audio/" + f.audio: true}
	for _, file := range m.Files {
		if !want[file.Path] {
			t.Errorf("unexpected file %s", file.Path)
		}
		delete(want, file.Path)
	}
	if len(want) > 0 {
		t.Errorf("files missing from the manifest: %v", want)
	}
	if _, err := Verify(to); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.OpenFile(filepath.Join(to, "socratic.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlite.IntegrityCheck(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sessions WHERE audio_name = ?`, f.audio).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the copy's sessions: %d %v", n, err)
	}
	if names := entries(t, filepath.Dir(to)); len(names) != 1 || names[0] != "b1" {
		t.Errorf("beside the backup: %v, want only b1", names)
	}
	// The database's own file stays private.
	if st, _ := os.Stat(filepath.Join(to, "socratic.db")); st.Mode().Perm() != 0o600 {
		t.Errorf("socratic.db mode %v", st.Mode().Perm())
	}
}

func TestRestoreIntoExistingAndFreshDataDir(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	to, _ := makeBackup(t, f)
	// After the backup: a new row, and files beside the data that a
	// restore must keep (a downloaded model).
	if _, err := f.db.Write.Exec(`UPDATE users SET full_name = 'changed after the backup'`); err != nil {
		t.Fatal(err)
	}
	f.db.Close()
	writeFile(t, filepath.Join(f.dataDir, "models", "m.onnx"), []byte("model"))

	res, err := Restore(context.Background(), to, f.target)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Previous, f.dataDir+".before-restore-") {
		t.Fatalf("previous kept as %q", res.Previous)
	}
	if b, err := os.ReadFile(filepath.Join(f.dataDir, "models", "m.onnx")); err != nil || string(b) != "model" {
		t.Errorf("the model was not carried over: %q %v", b, err)
	}
	for _, p := range []string{filepath.Join("uploads", f.upload[:2], f.upload), filepath.Join("audio", f.audio)} {
		if _, err := os.Stat(filepath.Join(f.dataDir, p)); err != nil {
			t.Errorf("restored %s: %v", p, err)
		}
	}
	db, err := sqlite.OpenFile(f.target.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	db.QueryRow(`SELECT full_name FROM users`).Scan(&name)
	db.Close()
	if name != "" {
		t.Errorf("restored database has a change made after the backup: %q", name)
	}
	if _, err := os.Stat(filepath.Join(res.Previous, "socratic.db")); err != nil {
		t.Errorf("the old data directory was not kept: %v", err)
	}
	for _, e := range entries(t, filepath.Dir(f.dataDir)) {
		if strings.Contains(e, "restoring") {
			t.Errorf("left behind: %s", e)
		}
	}

	// Onto a machine with no data directory yet.
	fresh := filepath.Join(t.TempDir(), "new", "data")
	tgt := Target{DataDir: fresh, DBPath: filepath.Join(fresh, "socratic.db"), UploadDir: filepath.Join(fresh, "uploads"), AudioDir: filepath.Join(fresh, "audio")}
	res, err = Restore(context.Background(), to, tgt)
	if err != nil || res.Previous != "" {
		t.Fatalf("fresh restore: %v %q", err, res.Previous)
	}
	if _, err := os.Stat(filepath.Join(fresh, "audio", f.audio)); err != nil {
		t.Error(err)
	}
}

// unchanged asserts that a refused restore left the data directory as it
// was and nothing beside it.
func unchanged(t *testing.T, f fixture) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(f.dataDir, "marker")); err != nil {
		t.Errorf("the data directory changed: %v", err)
	}
	if names := entries(t, filepath.Dir(f.dataDir)); len(names) != 1 {
		t.Errorf("beside DATA_DIR after a refused restore: %v", names)
	}
}

func TestRestoreRefusesCorruptedFile(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	for _, rel := range []string{"upload", "audio", "socratic.db"} {
		t.Run(rel, func(t *testing.T) {
			f := newFixture(t)
			to, _ := makeBackup(t, f)
			writeFile(t, filepath.Join(f.dataDir, "marker"), nil)
			path := map[string]string{
				"upload":      filepath.Join(to, "uploads", f.upload[:2], f.upload),
				"audio":       filepath.Join(to, "audio", f.audio),
				"socratic.db": filepath.Join(to, "socratic.db"),
			}[rel]
			// Hard links share bytes with the live file: break the link
			// before flipping a byte, as bit rot in the backup would.
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(path)
			b[len(b)/2] ^= 0x01
			writeFile(t, path, b)
			f.db.Close()
			_, err = Restore(context.Background(), to, f.target)
			if err == nil || !strings.Contains(err.Error(), "corrupted") || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("err = %v, want a refusal naming the corrupted file", err)
			}
			unchanged(t, f)
		})
	}
}

func TestRestoreRefusesNewerSchema(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	latest, err := sqlite.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("manifest", func(t *testing.T) {
		f := newFixture(t)
		to, m := makeBackup(t, f)
		writeFile(t, filepath.Join(f.dataDir, "marker"), nil)
		m.SchemaVersion = latest + 1
		rewriteManifest(t, to, m)
		f.db.Close()
		_, err := Restore(context.Background(), to, f.target)
		if err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
			t.Fatalf("err = %v", err)
		}
		unchanged(t, f)
	})
	t.Run("database", func(t *testing.T) {
		// The manifest agrees with the binary; the database itself was
		// migrated further (a backup made by a newer version whose
		// manifest was edited): the database's word counts.
		f := newFixture(t)
		if _, err := f.db.Write.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, latest+1); err != nil {
			t.Fatal(err)
		}
		to, m := makeBackup(t, f)
		writeFile(t, filepath.Join(f.dataDir, "marker"), nil)
		m.SchemaVersion = latest
		rewriteManifest(t, to, m)
		f.db.Close()
		_, err := Restore(context.Background(), to, f.target)
		if err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
			t.Fatalf("err = %v", err)
		}
		unchanged(t, f)
	})
}

func rewriteManifest(t *testing.T, dir string, m Manifest) {
	t.Helper()
	b, _ := json.Marshal(m)
	os.Remove(filepath.Join(dir, ManifestName))
	writeFile(t, filepath.Join(dir, ManifestName), b)
}

func TestRestoreRefusesRunningServer(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	to, _ := makeBackup(t, f)
	writeFile(t, filepath.Join(f.dataDir, "marker"), nil)
	release, err := datadir.Lock(f.dataDir) // what serve holds while it runs
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = Restore(context.Background(), to, f.target)
	if err == nil || !strings.Contains(err.Error(), "server is running") || !strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("err = %v", err)
	}
	unchanged(t, f)
}

func TestRestoreRefusesUnfinishedBackup(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	to, _ := makeBackup(t, f)
	os.Remove(filepath.Join(to, ManifestName))
	writeFile(t, filepath.Join(f.dataDir, "marker"), nil)
	_, err := Restore(context.Background(), to, f.target)
	if err == nil || !strings.Contains(err.Error(), "never finished") {
		t.Fatalf("err = %v", err)
	}
	unchanged(t, f)
}

func TestFailedBackupLeavesNothing(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	// The recording the database names cannot be copied (a folder stands
	// where the file should be): the backup fails after the database and
	// the upload are already in its folder.
	audio := filepath.Join(f.target.AudioDir, f.audio)
	os.Remove(audio)
	if err := os.MkdirAll(audio, 0o750); err != nil {
		t.Fatal(err)
	}
	parent := filepath.Join(t.TempDir(), "backups")
	_, err := Create(context.Background(), f.source(), filepath.Join(parent, "b1"), Info{})
	if err == nil || !strings.Contains(err.Error(), f.audio) {
		t.Fatalf("err = %v, want a failure naming the recording", err)
	}
	if names := entries(t, parent); len(names) != 0 {
		t.Errorf("a failed backup left %v", names)
	}
}

func TestBackupToleratesFileDeletedMeanwhile(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	// The retention sweep removed the recording after the database was
	// copied; the backup lists it as missing and the restore leaves it out.
	os.Remove(filepath.Join(f.target.AudioDir, f.audio))
	to, m := makeBackup(t, f)
	if len(m.Missing) != 1 || m.Missing[0] != "audio/"+f.audio {
		t.Fatalf("missing = %v", m.Missing)
	}
	if _, err := Verify(to); err != nil {
		t.Fatal(err)
	}
}

func TestBackupRefusesExistingFolder(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	to, _ := makeBackup(t, f)
	if _, err := Create(context.Background(), f.source(), to, Info{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v", err)
	}
}

func TestScheduleKeepsTheNewest(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	dir := filepath.Join(t.TempDir(), "backups")
	s := &Scheduler{Dir: dir, Interval: time.Hour, Keep: 2, Source: f.source(), Log: slog.New(slog.DiscardHandler)}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	// A folder the scheduler did not make is never pruned.
	writeFile(t, filepath.Join(dir, "operator-notes", "x"), nil)
	var made []string
	for range 4 {
		if err := s.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		names, _ := List(dir)
		made = append(made, names[len(names)-1])
		time.Sleep(2 * time.Millisecond) // names are by millisecond
	}
	names, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != made[2] || names[1] != made[3] {
		t.Fatalf("kept %v, want the last two of %v", names, made)
	}
	if _, err := os.Stat(filepath.Join(dir, "operator-notes", "x")); err != nil {
		t.Error("pruning removed a folder it did not make")
	}
	if age := s.Age(time.Now()); age < 0 || age > time.Minute {
		t.Errorf("age %s", age)
	}
	// A restarted server knows the newest backup's time.
	again := &Scheduler{Dir: dir, Interval: time.Hour, Keep: 2, Source: f.source(), Log: slog.New(slog.DiscardHandler)}
	if err := again.Init(); err != nil {
		t.Fatal(err)
	}
	if again.Last().IsZero() || !again.Last().Equal(s.Last()) {
		t.Errorf("after a restart last = %v, want %v", again.Last(), s.Last())
	}
}

// TestRestoreOntoAMountPoint: a container's DATA_DIR is a volume, which
// rename cannot move; the restore swaps the database, uploads and
// recordings inside it and keeps the old ones in
// DATA_DIR/.before-restore-TIME, leaving models where they are.
func TestRestoreOntoAMountPoint(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	mountPoint = func(string) bool { return true }
	defer func() { mountPoint = isMountPoint }()
	f := newFixture(t)
	to, _ := makeBackup(t, f)
	if _, err := f.db.Write.Exec(`UPDATE users SET full_name = 'changed after the backup'`); err != nil {
		t.Fatal(err)
	}
	f.db.Close()
	writeFile(t, filepath.Join(f.dataDir, "models", "m.onnx"), []byte("model"))
	writeFile(t, filepath.Join(f.target.UploadDir, "zz", "not-named-by-the-backup"), []byte("x"))

	res, err := Restore(context.Background(), to, f.target)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Previous, filepath.Join(f.dataDir, ".before-restore-")) {
		t.Fatalf("previous kept as %q", res.Previous)
	}
	if _, err := os.Stat(filepath.Join(res.Previous, "uploads", "zz", "not-named-by-the-backup")); err != nil {
		t.Errorf("the old uploads were not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.target.UploadDir, "zz")); err == nil {
		t.Error("an upload the backup does not hold is still in the restored uploads")
	}
	if b, err := os.ReadFile(filepath.Join(f.dataDir, "models", "m.onnx")); err != nil || string(b) != "model" {
		t.Errorf("the model moved: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(f.dataDir, "audio", f.audio)); err != nil {
		t.Error(err)
	}
	db, err := sqlite.OpenFile(f.target.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	db.QueryRow(`SELECT full_name FROM users`).Scan(&name)
	db.Close()
	if name != "" {
		t.Errorf("restored database has a change made after the backup: %q", name)
	}
	for _, e := range entries(t, f.dataDir) {
		if strings.Contains(e, "restoring") {
			t.Errorf("left behind: %s", e)
		}
	}
	if names := entries(t, filepath.Dir(f.dataDir)); len(names) != 1 {
		t.Errorf("beside DATA_DIR: %v", names)
	}
}

// TestRestoreThroughASymlink: systemd's DynamicUser makes DATA_DIR a
// symbolic link into /var/lib/private; the restore swaps the folder it
// points to and the link keeps working.
func TestRestoreThroughASymlink(t *testing.T) {
	testenv.OnlySQLite(t, "SQLite's backup (VACUUM INTO and the data directory); postgres_test.go holds PostgreSQL's")
	f := newFixture(t)
	to, _ := makeBackup(t, f)
	f.db.Close()
	link := filepath.Join(t.TempDir(), "socratic")
	if err := os.Symlink(f.dataDir, link); err != nil {
		t.Fatal(err)
	}
	tgt := Target{DataDir: link, DBPath: filepath.Join(link, "socratic.db"), UploadDir: filepath.Join(link, "uploads"), AudioDir: filepath.Join(link, "audio")}
	res, err := Restore(context.Background(), to, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("DATA_DIR is no longer a link: %v", err)
	}
	if !strings.HasPrefix(res.Previous, f.dataDir+".before-restore-") {
		t.Errorf("previous kept as %q", res.Previous)
	}
	if _, err := os.Stat(filepath.Join(link, "audio", f.audio)); err != nil {
		t.Error(err)
	}
}
