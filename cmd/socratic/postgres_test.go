package main

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestMigrateOnPostgres: with DATABASE_URL=postgres://… `socratic migrate`
// applies, lists and rolls back PostgreSQL's migrations; the commands not
// ported yet refuse it saying so rather than start half-working (backup and
// restore run on it: backup_postgres_test.go).
func TestMigrateOnPostgres(t *testing.T) {
	testenv.OnlyPostgres(t)
	ctx := context.Background()
	env := []string{"DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + testenv.Postgres(t)}
	up := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "up"}, env, nil, up, &syncBuffer{}); err != nil {
		t.Fatalf("up: %v\n%s", err, up.String())
	}
	if n := strings.Count(up.String(), "applied "); n != 12 || !strings.Contains(up.String(), "applied 00001_users.sql") || !strings.Contains(up.String(), "applied 00012_throttles.sql") {
		t.Fatalf("up applied %d migrations, want 00001 to 00012:\n%s", n, up.String())
	}
	// River's tables too, by its PostgreSQL driver.
	db, err := sql.Open("pgx", getenv(env, "DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var riverTables int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('river_job', 'river_leader', 'river_migration', 'river_queue')`).Scan(&riverTables); err != nil || riverTables != 4 {
		t.Fatalf("River's tables after migrate up: %d of 4, %v", riverTables, err)
	}
	status := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "status"}, env, nil, status, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(status.String(), " applied "); n != 12 {
		t.Errorf("status lists %d applied, want 12:\n%s", n, status.String())
	}
	down := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "down"}, env, nil, down, &syncBuffer{}); err != nil || !strings.Contains(down.String(), "rolled back 00012_throttles.sql") {
		t.Fatalf("down: %v %s", err, down.String())
	}
	again := &syncBuffer{}
	if err := run(ctx, []string{"migrate", "up"}, env, nil, again, &syncBuffer{}); err != nil || strings.Count(again.String(), "applied ") != 1 || !strings.Contains(again.String(), "applied 00012_throttles.sql") {
		t.Fatalf("up after down: %v %s", err, again.String())
	}
	// ingest would run a job queue beside the servers'; eval measures on a
	// scratch SQLite database and refuses a PostgreSQL URL rather than
	// write its scratch weeks into it.
	for _, cmd := range [][]string{{"ingest", "--week", "1", t.TempDir()}, {"eval", "retrieval", "--qa", testenv.QA()}} {
		err := run(ctx, cmd, env, strings.NewReader("a fine passphrase\n"), &syncBuffer{}, &syncBuffer{})
		if err == nil || !strings.Contains(err.Error(), "This command does not") {
			t.Errorf("%s on PostgreSQL: %v, want a refusal saying why it does not run there", cmd, err)
		}
	}
}

// TestInstancesStartingAtOnceMigrateOnce: instances starting at once on a
// fresh PostgreSQL database (serve's openDB with migrations) take turns
// under one advisory lock: every start succeeds and each migration, the
// stores' and River's, is applied once.
func TestInstancesStartingAtOnceMigrateOnce(t *testing.T) {
	testenv.OnlyPostgres(t)
	ctx := context.Background()
	cfg, err := loadConfigAnyEngine([]string{"DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + testenv.Postgres(t)})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := openDB(ctx, cfg, true)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("an instance's start: %v", err)
		}
	}
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied, river int
	if err := db.QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil || applied != 12 {
		t.Errorf("goose's table records %d migrations applied (%v), want 12", applied, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM river_migration`).Scan(&river); err != nil || river == 0 {
		t.Errorf("River's migrations: %d (%v)", river, err)
	}
}

// TestInstanceNameIsClaimedOnce: on PostgreSQL serve names itself in the
// job queue by host, HOST and PORT (not on SQLite, not on a random port),
// and only one running process may hold a name: a second claim of the same
// name (another instance given the same HOST and PORT) runs under a random
// one, so it can never take back jobs the first is running; once the
// first lets go (or is killed, and its connection drops), the name is free.
func TestInstanceNameIsClaimedOnce(t *testing.T) {
	testenv.OnlyPostgres(t)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	sqliteCfg, err := loadConfigAnyEngine([]string{"DATA_DIR=" + t.TempDir(), "PORT=8000"})
	if err != nil {
		t.Fatal(err)
	}
	if id := instanceID(sqliteCfg); id != "" {
		t.Errorf("on SQLite: %q, want none", id)
	}
	url := testenv.Postgres(t)
	for port, want := range map[string]string{"0": "", "8123": "socratic@" + host + "/127.0.0.1:8123"} {
		cfg, err := loadConfigAnyEngine([]string{"DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + url, "HOST=127.0.0.1", "PORT=" + port})
		if err != nil {
			t.Fatal(err)
		}
		if id := instanceID(cfg); id != want {
			t.Errorf("PORT=%s: %q, want %q", port, id, want)
		}
	}
	ctx := context.Background()
	cfg, _ := loadConfigAnyEngine([]string{"DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + url, "HOST=127.0.0.1", "PORT=8123"})
	a, err := openDB(ctx, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := openDB(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	log := slog.New(slog.DiscardHandler)
	tries, wait := claimTries, claimWait
	claimTries, claimWait = 2, time.Millisecond
	defer func() { claimTries, claimWait = tries, wait }()
	first, release, err := claimInstance(ctx, a, cfg, log)
	if err != nil || first != instanceID(cfg) {
		t.Fatalf("first claim: %q, %v", first, err)
	}
	second, release2, err := claimInstance(ctx, b, cfg, log)
	if err != nil || second != "" {
		t.Fatalf("a second process claiming a held name got %q (%v), want none", second, err)
	}
	release2()
	release()
	third, release3, err := claimInstance(ctx, b, cfg, log)
	if err != nil || third != first {
		t.Fatalf("after the first let go: %q, %v", third, err)
	}
	// A killed predecessor's lock goes a moment after it dies: a start in
	// that moment waits for it rather than running under a random name.
	claimTries, claimWait = 200, 5*time.Millisecond
	go func() {
		time.Sleep(50 * time.Millisecond)
		release3()
	}()
	fourth, release4, err := claimInstance(ctx, a, cfg, log)
	if err != nil || fourth != first {
		t.Fatalf("a claim made while the name's last holder was letting go: %q, %v; want it to wait and take the name", fourth, err)
	}
	release4()
}
