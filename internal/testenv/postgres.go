package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
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
	server := PostgresServer(t)
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [8]byte
	rand.Read(b[:])
	name := "socratic_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
