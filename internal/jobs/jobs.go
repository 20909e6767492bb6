// Package jobs is the durable background queue: River on the server's own
// database (the SQLite file, or PostgreSQL). Jobs are inserted in the same
// transaction as the rows they work on, survive restarts, and are retried
// when a failure is transient.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Client is River's client over *sql.Tx, for InsertTx.
type Client = river.Client[*sql.Tx]

// Options configure the queue.
type Options struct {
	// Workers run jobs; nil makes an insert-only queue.
	Workers *river.Workers
	// MaxWorkers is how many jobs of the default queue run at once.
	MaxWorkers int
	// Queues are further queues and how many of their jobs run at once.
	Queues map[string]int
	// JobTimeout bounds one attempt of any job.
	JobTimeout time.Duration
	Logger     *slog.Logger
	// ID names this process in the queue (River's client ID), "" for a
	// random one. On PostgreSQL a name that stays the same when an
	// instance is restarted, and that no other running process shares,
	// lets ResetOrphans take back at once what the instance's killed
	// predecessor left running.
	ID string
}

// Queue owns the River client.
type Queue struct {
	client *Client
	db     *sqlite.DB
	log    *slog.Logger
	// listen is the pgx pool River's LISTEN connection comes from, on
	// PostgreSQL; closed after the client stops.
	listen *pgxpool.Pool
	id     string // Options.ID
}

// Migrate creates or updates River's own tables (river_job and friends)
// beside ours; goose and River keep separate version tables.
//
// On PostgreSQL the tables are made with River's riverpgxv5 driver, on a
// pgx pool of its own for the time the migration takes.
func Migrate(ctx context.Context, db *sqlite.DB, log *slog.Logger) error {
	if db.Engine == sqlite.Postgres {
		pool, err := db.PgxPool(ctx)
		if err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		defer pool.Close()
		m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: quiet(log)})
		if err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		return nil
	}
	m, err := rivermigrate.New(riversqlite.New(db.Write), &rivermigrate.Config{Logger: quiet(log)})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// New returns the queue. River shares the one write connection with the rest
// of the server: SQLite has one writer, and queueing both in database/sql is
// fair where two pools would starve one another on SQLITE_BUSY. The price:
// code holding a write transaction must insert with InsertTx, never Insert.
//
// On PostgreSQL River runs on the same database/sql pool as the stores,
// through its riverdatabasesql driver, so InsertTx still takes the
// stores' *sql.Tx and a job commits or rolls back with its rows (River's
// riverpgxv5 driver would want a pgx.Tx, which database/sql cannot hand
// out for a transaction it began). Notifications come through a small
// pgx pool of its own (NewWithPgxListener): a job inserted by one instance
// wakes the others' workers by LISTEN/NOTIFY, not only by the poll; the
// leader election and the rescuer of stuck jobs are River's, on any
// driver.
func New(db *sqlite.DB, o Options) (*Queue, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 10 * time.Minute
	}
	cfg := &river.Config{
		ID:         o.ID,
		Logger:     quiet(o.Logger),
		JobTimeout: o.JobTimeout,
		// A job still "running" after this is taken to be orphaned by a
		// crash of another process; our own process resets its orphans at
		// start (ResetOrphans), so this is only the fallback.
		RescueStuckJobsAfter:        o.JobTimeout + time.Minute,
		MaxAttempts:                 5,
		CompletedJobRetentionPeriod: 24 * time.Hour,
		FetchCooldown:               50 * time.Millisecond,
		FetchPollInterval:           500 * time.Millisecond,
		ErrorHandler:                failureCounter{}, // counts for /metrics
	}
	if o.Workers != nil {
		cfg.Workers = o.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(1, o.MaxWorkers)}}
		for name, n := range o.Queues {
			cfg.Queues[name] = river.QueueConfig{MaxWorkers: max(1, n)}
		}
	}
	q := &Queue{db: db, log: o.Logger, id: o.ID}
	var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(db.Write)
	if db.Engine == sqlite.SQLite {
		// SQLite has no LISTEN: River's listener for it polls a table of
		// notifications every 50 ms, on the one write connection, all
		// day — 20 queries a second that queue with every turn's writes,
		// to hear of jobs this process inserted itself (there is no other
		// process: the data directory's lock). Poll-only, the workers
		// look for jobs every FetchPollInterval and when one finishes, so
		// an inserted job (an upload's processing, a week's themes)
		// starts within half a second instead of at once.
		cfg.PollOnly = true
	}
	if db.Engine == sqlite.Postgres {
		pool, err := db.PgxPool(context.Background())
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.listen = pool
		driver = riverdatabasesql.NewWithPgxListener(db.Write, pool)
	}
	c, err := river.NewClient(driver, cfg)
	if err != nil {
		q.closeListen()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.client = c
	return q, nil
}

// Client is for inserting jobs inside a caller's transaction (InsertTx).
func (q *Queue) Client() *Client { return q.client }

// ResetOrphans puts jobs left "running" by a process that died back in the
// queue. Only call it while holding the data directory's lock (no other
// process can be working them): then nothing can legitimately be running,
// and a killed server's work resumes at once instead of after River's
// rescuer notices, minutes later.
//
// On PostgreSQL other instances may be running jobs, so it takes back only
// those whose last attempt was this queue's ID's (Options.ID): the process
// that had them was this instance before it was killed, and no other
// process has its name. Without an ID it does nothing, and River's rescuer
// (RescueStuckJobsAfter) takes back the ones whose process is gone.
func (q *Queue) ResetOrphans(ctx context.Context) (int64, error) {
	if q.db.Engine == sqlite.Postgres {
		if q.id == "" {
			return 0, nil
		}
		res, err := q.db.Write.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
			WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = ?`, q.id)
		if err != nil {
			return 0, fmt.Errorf("reset orphaned jobs: %w", err)
		}
		return res.RowsAffected()
	}
	res, err := q.db.Write.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec') WHERE state = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("reset orphaned jobs: %w", err)
	}
	return res.RowsAffected()
}

// Start begins working jobs.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop waits for running jobs until ctx ends, then cancels them; cancelled
// jobs go back to the queue and run again after the next start.
func (q *Queue) Stop(ctx context.Context) error {
	defer q.closeListen()
	err := q.client.Stop(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stop job queue: %w", err)
	}
	q.log.Warn("jobs still running at shutdown: cancelling them; they run again at the next start")
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := q.client.StopAndCancel(cctx); err != nil {
		return fmt.Errorf("stop job queue: %w", err)
	}
	return nil
}

// closeListen closes the listener's pool, if any.
func (q *Queue) closeListen() {
	if q.listen != nil {
		q.listen.Close()
		q.listen = nil
	}
}

// Counts reports how many jobs wait and how many run, for /api/health.
func Counts(ctx context.Context, ex sqlite.Execer) (queued, running int, err error) {
	const q = `SELECT count(*) FILTER (WHERE state <> 'running'), count(*) FILTER (WHERE state = 'running')
		FROM river_job WHERE state IN ('available', 'retryable', 'scheduled', 'pending', 'running')`
	if err := ex.QueryRowContext(ctx, q).Scan(&queued, &running); err != nil {
		return 0, 0, fmt.Errorf("count jobs: %w", err)
	}
	return queued, running, nil
}

// quiet keeps River's info chatter (producer counts every few seconds) out
// of the server log; its warnings and errors stay.
func quiet(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(levelFloor{l.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(as), h.min}
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(name), h.min}
}
