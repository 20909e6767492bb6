package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	sqlitedriver "modernc.org/sqlite"
)

// Engine names the database engine a DB runs on.
type Engine string

const (
	// SQLite: one file, one writer (the default).
	SQLite Engine = "sqlite"
	// Postgres: a PostgreSQL server (DATABASE_URL=postgres://…), through
	// pgx. Work in progress (issue 20): see OpenPostgres.
	Postgres Engine = "postgres"
)

// OpenPostgres opens the PostgreSQL database url names (postgres:// or
// postgresql://, pgx's form: host, port, user, password, database,
// sslmode...).
//
// The DB has the same shape as SQLite's, so the stores do not fork:
//   - Read and Write are one pool. PostgreSQL has real concurrent writers
//     and row locks; there is no single write connection to queue for.
//   - Batch still commits the writes given to it in one transaction at a
//     time, each in its own savepoint (PostgreSQL has SAVEPOINT, ROLLBACK
//     TO and RELEASE as SQLite does). Within this process a batched write
//     therefore still sees the writes batched before it; across several
//     processes it does not, so a check-then-insert that must hold across
//     instances needs a constraint or a row lock (SELECT … FOR UPDATE),
//     not the Batcher. Group commit still pays: one WAL flush per batch.
//   - ReadStmts and WriteStmts cache prepared statements as on SQLite.
//   - Queries keep SQLite's placeholders (? and ?NNN): the driver rewrites
//     them to $n as each is prepared or run (see rebind). Path is empty
//     and Disk is nil (the server's disk is not this process's to watch).
//
// What runs on PostgreSQL today: the migrations (Migrator, Migrate; River's
// tables through jobs.Migrate), River's job queue (internal/jobs, on this
// pool through riverdatabasesql) and the stores whose tests run on both
// engines through sqlitetest (internal/auth's, course's, session's,
// document's, retrieval's, tutor's themes), and the server (serve, user
// create); the other commands still need SQLite.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: DATABASE_URL: %w", err)
	}
	pool := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	n := max(8, 2*runtime.NumCPU())
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{Engine: Postgres, Read: pool, Write: pool, Batch: NewBatcher(pool), ReadStmts: NewStmts(pool), pgConfig: cfg}
	db.WriteStmts = db.ReadStmts
	db.Batch.stmts = db.WriteStmts
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database %s: %w", redactedTarget(cfg), err)
	}
	return db, nil
}

// PgxPool opens a pgx pool on the PostgreSQL database the DB is on, for
// what speaks pgx rather than database/sql (River's riverpgxv5 driver);
// the caller closes it. Its connections do not rewrite placeholders:
// River's queries are PostgreSQL's own (and use jsonb's ? operator).
func (db *DB) PgxPool(ctx context.Context) (*pgxpool.Pool, error) {
	if db.pgConfig == nil {
		return nil, errors.New("PgxPool: the database is not PostgreSQL")
	}
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = db.pgConfig.Copy()
	return pgxpool.NewWithConfig(ctx, pc)
}

// isUndefinedTable reports PostgreSQL's undefined_table (42P01).
func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

// IsUniqueViolation reports a UNIQUE or PRIMARY KEY constraint's refusal,
// on either engine (SQLite's SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY,
// PostgreSQL's unique_violation, 23505).
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlitedriver.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555
	}
	return false
}

// redactedTarget names a server and database without the password.
func redactedTarget(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// rebindConnector hands database/sql pgx connections that accept SQLite's
// placeholders. One seam instead of every query rewritten: the stores'
// queries (fixed and built) keep working on both engines unchanged, and
// the rewrite of a query is cached, so it costs a map lookup per call
// (BenchmarkRebind).
type rebindConnector struct{ driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return rebindConn{conn.(*stdlib.Conn)}, nil
}

// rebindConn is pgx's connection (every interface it implements) with
// queries rewritten by rebind on their way in.
type rebindConn struct{ *stdlib.Conn }

func (c rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

func (c rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}

// maxRebound bounds rebind's cache, as maxStmts bounds Stmts'.
const maxRebound = 4096

var rebound struct {
	sync.RWMutex
	m map[string]string
}

// rebind rewrites SQLite's placeholders to PostgreSQL's: ?NNN becomes $NNN
// and a bare ? the next number after the largest so far ($1, $2, … — as
// SQLite numbers them). Placeholders inside string literals, quoted
// identifiers, comments and dollar-quoted bodies are left alone, and so is
// a query that has a $1-style placeholder: it is PostgreSQL's own. In a
// query written with ?, PostgreSQL's jsonb operators ?, ?| and ?& cannot
// be used (jsonb_exists and its kin can).
func rebind(query string) string {
	if strings.IndexByte(query, '?') < 0 {
		return query
	}
	rebound.RLock()
	out, ok := rebound.m[query]
	rebound.RUnlock()
	if ok {
		return out
	}
	out = rebindScan(query)
	rebound.Lock()
	if rebound.m == nil {
		rebound.m = map[string]string{}
	}
	if len(rebound.m) < maxRebound {
		rebound.m[query] = out
	}
	rebound.Unlock()
	return out
}

func rebindScan(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 8)
	next := 0 // the largest parameter number so far
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // '' or "" inside
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end
		case c == '$' && i+1 < len(q) && isDigit(q[i+1]):
			// $1: a query written in PostgreSQL's own words (River's,
			// whose ? is jsonb's operator). Mixing the two styles is
			// never valid, so it is left exactly as it is.
			return q
		case c == '$':
			// A dollar quote: $$ or $tag$ (a tag cannot start with a digit,
			// which tells it from a $1 placeholder).
			j := i + 1
			for j < len(q) && (q[j] == '_' || isLetter(q[j]) || (j > i+1 && isDigit(q[j]))) {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[i : j+1]
				end := strings.Index(q[j+1:], tag)
				if end < 0 {
					end = len(q)
				} else {
					end = j + 1 + end + len(tag)
				}
				b.WriteString(q[i:end])
				i = end
				continue
			}
			b.WriteByte(c)
			i++
		case c == '?':
			j := i + 1
			for j < len(q) && isDigit(q[j]) {
				j++
			}
			n := next + 1
			if j > i+1 {
				n, _ = strconv.Atoi(q[i+1 : j])
			}
			next = max(next, n)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }
