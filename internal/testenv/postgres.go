package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// PostgresEnv names the variable holding a PostgreSQL server's URL for the
// tests (scripts/postgres-for-tests starts a throwaway one and prints it).
const PostgresEnv = "SOCRATIC_TEST_POSTGRES"

// PostgresServer returns SOCRATIC_TEST_POSTGRES, or calls Missing: the test
// skips without a server unless SOCRATIC_REQUIRE_TOOLS=1.
func PostgresServer(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		Missing(t, "PostgreSQL", "set "+PostgresEnv+" to a server's URL (scripts/postgres-for-tests DIR starts a throwaway one and prints it)")
	}
	return u
}

// Postgres creates an empty database on the server SOCRATIC_TEST_POSTGRES
// names, for this test alone, and returns its URL; the database is dropped
// when the test ends (connections still open to it are ended first). Without
// a server the test skips, or fails under SOCRATIC_REQUIRE_TOOLS=1.
func Postgres(t testing.TB) string {
	t.Helper()
	return postgresCopy(t, "")
}

// postgresCopy is Postgres starting from a copy of the database named
// template ("": an empty database).
func postgresCopy(t testing.TB, template string) string {
	t.Helper()
	server := PostgresServer(t)
	name, u, err := createDatabase(server, template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(server, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return u
}

// EngineEnv names the variable that chooses the database engine of a test
// run: "sqlite" or "postgres". .ci/run runs the whole suite once with each.
// Unset (a developer's `go test ./...`), the servers and fixtures use SQLite,
// and the store tests run on both engines (PostgreSQL when
// SOCRATIC_TEST_POSTGRES names a server).
const EngineEnv = "SOCRATIC_TEST_ENGINE"

// Engine is the run's engine: "postgres" when SOCRATIC_TEST_ENGINE says so,
// else "sqlite". Any other value stops the test binary: a typo must not
// quietly test the other engine.
func Engine() string {
	switch e := os.Getenv(EngineEnv); e {
	case "", "sqlite":
		return "sqlite"
	case "postgres":
		return "postgres"
	default:
		panic(fmt.Sprintf("%s=%q: want sqlite or postgres", EngineEnv, e))
	}
}

// EngineChosen reports whether SOCRATIC_TEST_ENGINE names an engine, so a
// test that could run on both runs only on that one.
func EngineChosen() bool { return os.Getenv(EngineEnv) != "" }

// RunsOn reports whether this run tests engine ("sqlite" or "postgres"): the
// chosen one only, or both when none is chosen.
func RunsOn(engine string) bool { return !EngineChosen() || Engine() == engine }

// OnlySQLite skips t in a PostgreSQL run, saying why the test is about
// SQLite alone (its file, its WAL, its disk); the SQLite run runs it.
func OnlySQLite(t testing.TB, why string) {
	t.Helper()
	if Engine() != "sqlite" {
		t.Skipf("SQLite only (%s); runs in the SQLite run", why)
	}
}

// OnlyPostgres skips t in a run that chose SQLite, saying so; in the
// PostgreSQL run (and when no engine is chosen) it goes on, needing a
// server as Postgres does.
func OnlyPostgres(t testing.TB) {
	t.Helper()
	if !RunsOn("postgres") {
		t.Skipf("PostgreSQL only; runs in the PostgreSQL run (%s=postgres)", EngineEnv)
	}
}

// WithEngine puts the run's database engine in the settings env of a
// server or command on the data directory dir: DatabaseEnv(t, dir) first,
// unless env names a DATABASE_URL itself.
func WithEngine(t testing.TB, dir string, env []string) []string {
	t.Helper()
	for _, e := range env {
		if strings.HasPrefix(e, "DATABASE_URL=") {
			return env
		}
	}
	return append(DatabaseEnv(t, dir), env...)
}

var databases sync.Map // key → PostgreSQL URL

// DatabaseEnv is what a server started by a test needs in its environment
// to use the run's engine: nothing on SQLite (DATA_DIR's socratic.db), or
// DATABASE_URL naming a new PostgreSQL database. The same key (the server's
// data directory) gives the same database for the whole test, so a
// restarted server finds its data.
func DatabaseEnv(t testing.TB, key string) []string {
	t.Helper()
	if Engine() != "postgres" {
		return nil
	}
	if u, ok := databases.Load(key); ok {
		return []string{"DATABASE_URL=" + u.(string)}
	}
	u := Postgres(t)
	databases.Store(key, u)
	t.Cleanup(func() { databases.Delete(key) })
	return []string{"DATABASE_URL=" + u}
}

// PostgresTemplate makes a database on SOCRATIC_TEST_POSTGRES's server and
// prepares it with prepare (its URL given), for PostgresFrom to copy; drop
// removes it (call it when the test binary ends).
func PostgresTemplate(prepare func(url string) error) (url string, drop func(), err error) {
	server := os.Getenv(PostgresEnv)
	if server == "" {
		return "", nil, fmt.Errorf("%s is not set", PostgresEnv)
	}
	name, u, err := createDatabase(server, "")
	if err != nil {
		return "", nil, err
	}
	drop = func() {
		if err := dropDatabase(server, name); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: drop template database %s: %v\n", name, err)
		}
	}
	if err := prepare(u); err != nil {
		drop()
		return "", nil, err
	}
	return u, drop, nil
}

// PostgresFrom is Postgres starting from a copy of template (a database
// made by PostgresTemplate, with no connections open to it).
func PostgresFrom(t testing.TB, template string) string {
	t.Helper()
	tu, err := url.Parse(template)
	if err != nil {
		t.Fatal(err)
	}
	return postgresCopy(t, strings.TrimPrefix(tu.Path, "/"))
}

// createDatabase makes a database with a random name on server (a copy of
// template unless it is ""), returning its name and URL.
func createDatabase(server, template string) (name, dbURL string, err error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", "", fmt.Errorf("%s: %v", PostgresEnv, err)
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return "", "", fmt.Errorf("%s: %v", PostgresEnv, err)
	}
	defer admin.Close()
	var b [8]byte
	rand.Read(b[:])
	name = "socratic_test_" + hex.EncodeToString(b[:])
	stmt := `CREATE DATABASE ` + name
	if template != "" {
		stmt += ` TEMPLATE "` + strings.ReplaceAll(template, `"`, `""`) + `"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, stmt); err != nil {
		return "", "", fmt.Errorf("create test database on %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

// dropDatabase drops name on server, ending connections still open to it.
func dropDatabase(server, name string) error {
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	return err
}
