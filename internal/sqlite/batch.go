package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

// maxBatch bounds the writes one transaction commits together.
const maxBatch = 64

// Batcher commits small writes together: what arrives while a transaction
// commits waits, then goes in the next transaction, each write inside its
// own savepoint. With synchronous=FULL every commit costs a sync of the
// WAL to disk, so fifty students' turns arriving at once cost a few syncs
// instead of fifty, and a write never waits behind fifty others' commits.
//
// A write's function sees the writes batched before it (one transaction,
// one after the other), so a check-then-insert stays correct. A function
// that fails is rolled back to its savepoint and leaves the others alone;
// if the commit fails, every write of the batch fails with it.
type Batcher struct {
	db *sql.DB
	// stmts, if set, is db's statement cache: the savepoints run through
	// it, and it prepares the queries its In ran as text between
	// transactions.
	stmts *Stmts

	mu      sync.Mutex
	queue   []*batchJob
	running bool

	// For /metrics: writes committed or failed, their total wait from Do
	// to the start of their transaction, and transactions that failed
	// with SQLITE_BUSY or SQLITE_LOCKED after busy_timeout's retries.
	writes, waitNanos, busy atomic.Int64
}

// WriteStats is how long writes waited for the one write connection, since
// the process started.
type WriteStats struct {
	// Batched writes (Batcher.Do) and their summed wait in the queue.
	BatchWrites int64
	BatchWait   time.Duration
	// Other writes' waits for the write connection (database/sql's pool).
	PoolWaits int64
	PoolWait  time.Duration
	// Transactions that failed because the database stayed locked past
	// busy_timeout (another process writing: a backup, a migration).
	Busy int64
}

// WriteStats reports the write connection's waits and busy failures.
func (db *DB) WriteStats() WriteStats {
	ps := db.Write.Stats()
	return WriteStats{
		BatchWrites: db.Batch.writes.Load(), BatchWait: time.Duration(db.Batch.waitNanos.Load()),
		PoolWaits: ps.WaitCount, PoolWait: ps.WaitDuration, Busy: db.Batch.busy.Load(),
	}
}

// isBusy reports SQLITE_BUSY or SQLITE_LOCKED (in any extended form).
func isBusy(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == 5 || c == 6
}

type batchJob struct {
	queued time.Time
	ctx    context.Context
	fn     func(ctx context.Context, tx *sql.Tx) error
	done   chan error
}

// NewBatcher batches writes on db (the one write connection).
func NewBatcher(db *sql.DB) *Batcher { return &Batcher{db: db} }

// Do runs fn in a write transaction shared with other writes and returns
// once that transaction has committed (nil) or fn or the commit failed.
// fn must run its statements with the ctx it is given: ctx's values
// without its end, because interrupting a statement would roll back the
// whole shared transaction. So a write that has begun finishes, and "did
// it happen?" always has the answer Do gives. A ctx that ends while the
// write is still queued skips it.
//
// fn must use only tx: the write connection is the batch's while fn runs,
// so calling Do again, or using the DB's Write pool, from inside fn would
// wait for itself forever.
func (b *Batcher) Do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	j := &batchJob{queued: time.Now(), ctx: ctx, fn: fn, done: make(chan error, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, j)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	return <-j.done
}

// run commits batches until the queue is empty.
func (b *Batcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.commit(batch)
	}
}

func (b *Batcher) commit(batch []*batchJob) {
	var live []*batchJob
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	fail := func(err error) {
		if isBusy(err) {
			b.busy.Add(1)
		}
		for _, j := range live {
			j.done <- err
		}
	}
	var ex Execer
	if b.stmts != nil {
		b.stmts.PrepareWanted(context.Background())
	}
	tx, err := b.db.BeginTx(context.Background(), nil)
	if err == nil {
		ex = tx
		if b.stmts != nil {
			ex = b.stmts.In(tx)
		}
	}
	began := time.Now()
	for _, j := range live {
		b.waitNanos.Add(int64(began.Sub(j.queued)))
	}
	b.writes.Add(int64(len(live)))
	if err != nil {
		fail(fmt.Errorf("batch: %w", err))
		return
	}
	if len(live) == 1 {
		// Alone in its transaction, a write needs no savepoint (two
		// statements more): if it fails, the transaction is rolled back
		// whole, which is all its savepoint would have undone.
		j := live[0]
		if err := runJob(j, tx); err != nil {
			tx.Rollback()
			j.done <- err
			return
		}
		if err := tx.Commit(); err != nil {
			fail(fmt.Errorf("batch: %w", err))
			return
		}
		j.done <- nil
		return
	}
	results := make([]error, len(live))
	for i, j := range live {
		if _, err := ex.ExecContext(context.Background(), `SAVEPOINT batch_write`); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("batch: %w", err))
			return
		}
		results[i] = runJob(j, tx)
		if results[i] != nil {
			if _, err := ex.ExecContext(context.Background(), `ROLLBACK TO batch_write`); err != nil {
				// Some failures (SQLITE_FULL among them) roll back the
				// whole transaction, savepoint and all: every write of the
				// batch is lost, and each is told why, not just that the
				// savepoint went.
				tx.Rollback()
				fail(fmt.Errorf("batch: a write failed and took the transaction with it: %w", errors.Join(results[i], err)))
				return
			}
		}
		if _, err := ex.ExecContext(context.Background(), `RELEASE batch_write`); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("batch: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("batch: %w", err))
		return
	}
	for i, j := range live {
		j.done <- results[i]
	}
}

// runJob runs a job's function; a panic is its error, not the batch's.
func runJob(j *batchJob, tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("batch: write panicked: %v", r)
		}
	}()
	return j.fn(context.WithoutCancel(j.ctx), tx)
}
