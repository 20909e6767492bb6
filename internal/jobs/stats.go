package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// failures counts job attempts that failed (an error or a panic) since the
// process started, by job kind (a closed list: the registered workers).
var failures = struct {
	mu     sync.Mutex
	byKind map[string]int64
}{byKind: map[string]int64{}}

// Failures reports failed job attempts by kind since the process started;
// a job retried three times before it succeeds counts three.
func Failures() map[string]int64 {
	failures.mu.Lock()
	defer failures.mu.Unlock()
	out := make(map[string]int64, len(failures.byKind))
	for k, n := range failures.byKind {
		out[k] = n
	}
	return out
}

func countFailure(kind string) {
	failures.mu.Lock()
	failures.byKind[kind]++
	failures.mu.Unlock()
}

// failureCounter is River's error handler: it counts, and leaves the retry
// policy alone.
type failureCounter struct{}

var _ river.ErrorHandler = failureCounter{}

func (failureCounter) HandleError(_ context.Context, job *rivertype.JobRow, _ error) *river.ErrorHandlerResult {
	countFailure(job.Kind)
	return nil
}

func (failureCounter) HandlePanic(_ context.Context, job *rivertype.JobRow, _ any, _ string) *river.ErrorHandlerResult {
	countFailure(job.Kind)
	return nil
}

// QueueStats is the job table now, for /metrics.
type QueueStats struct {
	// Jobs by kind and state (available, scheduled, retryable, running,
	// discarded...); completed jobs are kept a day.
	ByKindState map[[2]string]int
	// OldestWaiting is how long the oldest job that could run now has
	// waited (0 with none waiting), in seconds.
	OldestWaiting float64
}

// Stats reads the job table: one grouped scan of a table River keeps small
// (completed jobs are deleted after a day).
func Stats(ctx context.Context, ex sqlite.Execer, engine sqlite.Engine) (QueueStats, error) {
	st := QueueStats{ByKindState: map[[2]string]int{}}
	rows, err := ex.QueryContext(ctx, `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		return st, fmt.Errorf("job stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return st, fmt.Errorf("job stats: %w", err)
		}
		st.ByKindState[[2]string{kind, state}] = n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("job stats: %w", err)
	}
	var age sql.NullFloat64
	if err := ex.QueryRowContext(ctx, oldestWaiting[engine]).Scan(&age); err != nil {
		return st, fmt.Errorf("job stats: %w", err)
	}
	if age.Valid && age.Float64 > 0 {
		st.OldestWaiting = age.Float64
	}
	return st, nil
}

// oldestWaiting is the age in seconds of the oldest job that could run now,
// per engine: River keeps scheduled_at as text in UTC on SQLite, as a
// timestamptz on PostgreSQL.
var oldestWaiting = map[sqlite.Engine]string{
	sqlite.SQLite: `SELECT (julianday('now') - julianday(min(scheduled_at))) * 86400 FROM river_job
		WHERE state IN ('available', 'retryable') AND scheduled_at <= datetime('now', 'subsec')`,
	sqlite.Postgres: `SELECT extract(epoch FROM now() - min(scheduled_at))::float8 FROM river_job
		WHERE state IN ('available', 'retryable') AND scheduled_at <= now()`,
}
