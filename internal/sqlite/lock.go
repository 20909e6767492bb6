package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
)

// SessionLock takes the PostgreSQL advisory lock named key on a connection
// of its own, waiting for any other holder on any instance, and holds it
// until unlock. An unlock that cannot reach the server discards the
// connection, which the server then releases with its lock. On SQLite,
// where one process owns the database, there is nothing to take: callers
// keep their process lock.
func (db *DB) SessionLock(ctx context.Context, key string) (unlock func(), err error) {
	if db.Engine != Postgres {
		return nil, errors.New("sqlite: SessionLock is for PostgreSQL; one process owns an SQLite database")
	}
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended(?, 1))`, key); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtextextended(?, 1))`, key); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}
