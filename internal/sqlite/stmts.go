package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// maxStmts bounds a Stmts cache: the per-turn queries are a handful of
// constant strings, but a query built from a variable number of
// placeholders would otherwise add an entry per length.
const maxStmts = 128

// Stmts runs queries on a pool through prepared statements kept by query
// string, so a query run every turn is parsed once per connection instead
// of once per call (sqlite3Prepare was a tenth of a turn's CPU). It is an
// Execer with the same results and errors as the pool itself: a query that
// cannot be prepared, or one past the cache's bound, runs on the pool
// directly.
//
// The statements are database/sql's: each is prepared again on a
// connection it has not met, and SQLite recompiles a prepared statement
// itself when the schema changes.
type Stmts struct {
	db *sql.DB

	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want []string // queries In ran as text, for PrepareWanted
}

// NewStmts caches statements for db.
func NewStmts(db *sql.DB) *Stmts { return &Stmts{db: db, m: map[string]*sql.Stmt{}} }

// Prepared returns query's statement, preparing it on first use; nil if
// it could not be prepared (the caller runs the query unprepared, which
// reports the error). Preparing takes one of the pool's connections, so
// on the write pool call it outside a write transaction (see In).
func (s *Stmts) Prepared(ctx context.Context, query string) *sql.Stmt {
	s.mu.Lock()
	st, ok := s.m[query]
	full := len(s.m) >= maxStmts
	s.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[query]; ok {
		st.Close()
		return old
	}
	s.m[query] = st
	return st
}

// ExecContext is db.ExecContext through query's prepared statement.
func (s *Stmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := s.Prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

// QueryContext is db.QueryContext through query's prepared statement.
func (s *Stmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.Prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

// QueryRowContext is db.QueryRowContext through query's prepared statement.
func (s *Stmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.Prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// Close closes every cached statement.
func (s *Stmts) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, st := range s.m {
		st.Close()
		delete(s.m, q)
	}
	return nil
}

// In is an Execer for tx, a transaction on the write connection (a
// Batcher's): a query whose statement the cache holds runs through it,
// reused on the transaction's connection; any other runs as text and is
// remembered, to be prepared by PrepareWanted once no transaction holds
// the connection (preparing inside tx would wait for the connection tx
// holds). Results and errors are those of tx itself.
//
// A statement is one per connection: do not run a query again inside tx
// while rows of the same query are still open. The mistake shows only from
// a query's second batch on (the first runs as text), as "bad parameter or
// other API misuse": a test must run such a path twice to see it.
func (s *Stmts) In(tx *sql.Tx) Execer { return txStmts{tx: tx, s: s} }

// PrepareWanted prepares the queries In ran as text. The Batcher calls it
// between transactions.
func (s *Stmts) PrepareWanted(ctx context.Context) {
	s.mu.Lock()
	want := s.want
	s.want = nil
	s.mu.Unlock()
	for _, q := range want {
		s.Prepared(ctx, q)
	}
}

// cached returns query's statement, or nil after noting the query as wanted.
func (s *Stmts) cached(query string) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.m[query]; ok {
		return st
	}
	if len(s.m)+len(s.want) < maxStmts && !slices.Contains(s.want, query) {
		s.want = append(s.want, query)
	}
	return nil
}

type txStmts struct {
	tx *sql.Tx
	s  *Stmts
}

func (t txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.s.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.s.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.s.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
