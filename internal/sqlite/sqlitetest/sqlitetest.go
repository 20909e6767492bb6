// Package sqlitetest opens the databases tests run on. SOCRATIC_TEST_ENGINE
// (testenv.Engine) chooses the engine of a run: .ci/run runs the whole suite
// once on SQLite and once on PostgreSQL. Open gives a test the run's engine;
// Each and EachTwo run a store's test on the chosen engine, or on both when
// none is chosen (PostgreSQL when SOCRATIC_TEST_POSTGRES names a server:
// that half skips without one, and fails under SOCRATIC_REQUIRE_TOOLS=1).
// Only tests import it.
package sqlitetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// Engine opens a new, empty database of one engine for a test; it is
// closed (and on PostgreSQL dropped) when the test ends.
type Engine struct {
	Name string
	Open func(t testing.TB) *sqlite.DB
	// OpenTwo opens two handles on one new database, as two instances of
	// the server would: separate pools, Batchers and statement caches
	// (on SQLite, two processes' worth of connections to one file).
	OpenTwo func(t testing.TB) (*sqlite.DB, *sqlite.DB)
}

// Engines are SQLite, then PostgreSQL.
var Engines = []Engine{
	{"sqlite", func(t testing.TB) *sqlite.DB {
		t.Helper()
		return opened(t, func() (*sqlite.DB, error) {
			return sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "socratic.db"))
		})
	}, func(t testing.TB) (*sqlite.DB, *sqlite.DB) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "socratic.db")
		open := func() (*sqlite.DB, error) { return sqlite.Open(context.Background(), path) }
		return opened(t, open), opened(t, open)
	}},
	{"postgres", func(t testing.TB) *sqlite.DB {
		t.Helper()
		url := testenv.Postgres(t)
		return opened(t, func() (*sqlite.DB, error) { return sqlite.OpenPostgres(context.Background(), url) })
	}, func(t testing.TB) (*sqlite.DB, *sqlite.DB) {
		t.Helper()
		url := testenv.Postgres(t)
		open := func() (*sqlite.DB, error) { return sqlite.OpenPostgres(context.Background(), url) }
		return opened(t, open), opened(t, open)
	}},
}

func opened(t testing.TB, open func() (*sqlite.DB, error)) *sqlite.DB {
	t.Helper()
	db, err := open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Chosen is the run's engine (testenv.Engine).
func Chosen() Engine {
	for _, e := range Engines {
		if e.Name == testenv.Engine() {
			return e
		}
	}
	panic("sqlitetest: no engine " + testenv.Engine())
}

// Open is a new, empty database of the run's engine, closed (and on
// PostgreSQL dropped) when the test ends.
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	return Chosen().Open(t)
}

// OpenMigrated is Open with every migration of ours applied.
func OpenMigrated(t testing.TB) *sqlite.DB {
	t.Helper()
	db := Open(t)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Run is the engines this run tests a store on: the chosen one, or all.
func Run() []Engine {
	if testenv.EngineChosen() {
		return []Engine{Chosen()}
	}
	return Engines
}

// Each runs fn once per engine of the run (the chosen one, or both), as a
// subtest named after it, on a database with every migration applied.
func Each(t *testing.T, fn func(t *testing.T, db *sqlite.DB)) {
	t.Helper()
	for _, e := range Run() {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, db)
		})
	}
}

// EachTwo runs fn once per engine of the run, as a subtest named after it, with two
// handles (two "instances") on one database with every migration applied:
// for rules that must hold across instances, not only within one.
func EachTwo(t *testing.T, fn func(t *testing.T, a, b *sqlite.DB)) {
	t.Helper()
	for _, e := range Run() {
		t.Run(e.Name, func(t *testing.T) {
			a, b := e.OpenTwo(t)
			if err := a.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			fn(t, a, b)
		})
	}
}

// OpenPostgres is a new, empty PostgreSQL database whatever the run's
// engine, for a test about PostgreSQL alone (testenv.OnlyPostgres).
func OpenPostgres(t testing.TB) *sqlite.DB {
	t.Helper()
	for _, e := range Engines {
		if e.Name == "postgres" {
			return e.Open(t)
		}
	}
	panic("sqlitetest: no postgres engine")
}

// Counting runs every query on its Execer and counts those whose text
// contains Contains (a table's name, say): a test that a path does not
// read something.
type Counting struct {
	sqlite.Execer
	Contains string
	n        atomic.Int64
}

// N is how many queries containing Contains ran so far.
func (c *Counting) N() int64 { return c.n.Load() }

func (c *Counting) count(q string) {
	if strings.Contains(q, c.Contains) {
		c.n.Add(1)
	}
}

func (c *Counting) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.count(q)
	return c.Execer.ExecContext(ctx, q, args...)
}

func (c *Counting) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.count(q)
	return c.Execer.QueryContext(ctx, q, args...)
}

func (c *Counting) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.count(q)
	return c.Execer.QueryRowContext(ctx, q, args...)
}
