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

// TrySessionLock is SessionLock without the wait: ok is false, and nothing
// is held, when another session (this process's or another instance's)
// holds key. A held lock keeps one connection of the pool for itself until
// unlock; the server releases it when that connection ends, a killed
// process's included.
func (db *DB) TrySessionLock(ctx context.Context, key string) (unlock func(), ok bool, err error) {
	if db.Engine != Postgres {
		return nil, false, errors.New("sqlite: TrySessionLock is for PostgreSQL; one process owns an SQLite database")
	}
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", key, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended(?, 1))`, key).Scan(&ok); err != nil || !ok {
		if err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = fmt.Errorf("lock %s: %w", key, err)
		}
		conn.Close()
		return nil, false, err
	}
	return func() {
		if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtextextended(?, 1))`, key); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, true, nil
}
