package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// markArgs asks for a row of marks to be marked done.
type markArgs struct {
	ID int64 `json:"id"`
}

func (markArgs) Kind() string { return "test_mark" }

type markWorker struct {
	river.WorkerDefaults[markArgs]
	db *sqlite.DB
}

func (w *markWorker) Work(ctx context.Context, j *river.Job[markArgs]) error {
	_, err := w.db.Write.ExecContext(ctx, `UPDATE marks SET done = done + 1 WHERE id = ?`, j.Args.ID)
	return err
}

// prepared migrates River's tables and makes the table the test job marks.
func prepared(t *testing.T, db *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	if err := jobs.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.ExecContext(ctx, `CREATE TABLE marks (id bigint PRIMARY KEY, done bigint NOT NULL DEFAULT 0)`); err != nil {
		t.Fatal(err)
	}
}

// working starts a queue on db that runs test_mark jobs; it stops with
// the test.
func working(t *testing.T, db *sqlite.DB) *jobs.Queue {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &markWorker{db: db})
	q, err := jobs.New(db, jobs.Options{Workers: workers, MaxWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return q
}

// insertOnly is a queue on db with no workers (its listener's pool, on
// PostgreSQL, closed with the test).
func insertOnly(t *testing.T, db *sqlite.DB) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })
	return q
}

// insertWith stores mark id and its job in one transaction, committed or
// rolled back.
func insertWith(t *testing.T, db *sqlite.DB, q *jobs.Queue, id int64, commit bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO marks (id) VALUES (?)`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Client().InsertTx(ctx, tx, markArgs{ID: id}, nil); err != nil {
		t.Fatal(err)
	}
	if commit {
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// doneWithin waits until mark id has been marked (or the limit passes)
// and returns how many times it was.
func doneWithin(t *testing.T, db *sqlite.DB, id int64, limit time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var done int
		if err := db.Read.QueryRow(`SELECT done FROM marks WHERE id = ?`, id).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done > 0 || time.Now().After(deadline) {
			return done
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestJobsRunWithTheirRows: a job inserted in the transaction that stores
// its row runs once that commits; one whose transaction rolls back leaves
// neither row nor job. The queue's counts and stats read River's table on
// each engine.
func TestJobsRunWithTheirRows(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		prepared(t, db)
		q := working(t, db)
		insertWith(t, db, q, 1, true)
		insertWith(t, db, q, 2, false)
		if n := doneWithin(t, db, 1, 20*time.Second); n != 1 {
			t.Fatalf("the committed job ran %d times", n)
		}
		var rows, jobRows int
		if err := db.Read.QueryRow(`SELECT count(*) FROM marks`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if err := db.Read.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'test_mark'`).Scan(&jobRows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 || jobRows != 1 {
			t.Errorf("%d rows and %d jobs stored, want the committed one of each", rows, jobRows)
		}
		// River marks the job completed just after Work returns.
		deadline := time.Now().Add(10 * time.Second)
		var st jobs.QueueStats
		for {
			var err error
			if st, err = jobs.Stats(context.Background(), db.Read, db.Engine); err != nil {
				t.Fatal(err)
			}
			if st.ByKindState[[2]string{"test_mark", "completed"}] == 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st.ByKindState[[2]string{"test_mark", "completed"}] != 1 || st.OldestWaiting != 0 {
			t.Errorf("stats %+v", st)
		}
		if queued, running, err := jobs.Counts(context.Background(), db.Read); err != nil || queued != 0 || running != 0 {
			t.Errorf("counts: %d queued, %d running, %v", queued, running, err)
		}
	})
}

// TestJobsWaitingAreCounted: a job that cannot run yet (no worker) is
// counted as queued, and its wait is measured, on each engine.
func TestJobsWaitingAreCounted(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		prepared(t, db)
		q := insertOnly(t, db)
		insertWith(t, db, q, 1, true)
		time.Sleep(50 * time.Millisecond)
		queued, running, err := jobs.Counts(context.Background(), db.Read)
		if err != nil || queued != 1 || running != 0 {
			t.Errorf("counts: %d queued, %d running, %v", queued, running, err)
		}
		st, err := jobs.Stats(context.Background(), db.Read, db.Engine)
		if err != nil || st.ByKindState[[2]string{"test_mark", "available"}] != 1 || st.OldestWaiting <= 0 || st.OldestWaiting > 60 {
			t.Errorf("stats %+v %v", st, err)
		}
	})
}

// TestJobsRunOnAnyInstance: a job inserted through one instance (a queue
// with no workers) is run by another instance's worker on the same
// database.
func TestJobsRunOnAnyInstance(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		prepared(t, a)
		inserter := insertOnly(t, a)
		working(t, b)
		insertWith(t, a, inserter, 7, true)
		if n := doneWithin(t, b, 7, 20*time.Second); n != 1 {
			t.Fatalf("the job ran %d times on the other instance", n)
		}
	})
}

// TestResetOrphansOnPostgresTakesBackOnlyItsOwn: on PostgreSQL a restarted
// instance (the same Options.ID) takes back at once the jobs its killed
// predecessor left running, and only those: a job another instance is
// running, or one it ran last after ours, stays as it is; a queue without
// an ID takes back nothing (River's rescuer does, later).
func TestResetOrphansOnPostgresTakesBackOnlyItsOwn(t *testing.T) {
	testenv.OnlyPostgres(t)
	ctx := context.Background()
	db := sqlitetest.OpenPostgres(t)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	prepared(t, db)
	q, err := jobs.New(db, jobs.Options{ID: "socratic@host-a:8000"})
	if err != nil {
		t.Fatal(err)
	}
	// Four jobs left running, as a kill -9 leaves them: by us; by another
	// instance; by us first and then by the other; by the other and then us.
	attempts := [][]string{{"socratic@host-a:8000"}, {"socratic@host-b:8000"}, {"socratic@host-a:8000", "socratic@host-b:8000"}, {"socratic@host-b:8000", "socratic@host-a:8000"}}
	ids := make([]int64, len(attempts))
	for i, by := range attempts {
		res, err := q.Client().Insert(ctx, markArgs{ID: int64(i)}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.Job.ID
		if _, err := db.Write.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(), attempted_by = ? WHERE id = ?`, by, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	state := func(id int64) string {
		var s string
		if err := db.Read.QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = ?`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	anonymous, err := jobs.New(db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := anonymous.ResetOrphans(ctx); err != nil || n != 0 {
		t.Fatalf("a queue without an ID took back %d jobs (%v), want 0", n, err)
	}
	n, err := q.ResetOrphans(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ResetOrphans = %d, %v; want 2 (the jobs whose last attempt was ours)", n, err)
	}
	for i, want := range []string{"available", "running", "running", "available"} {
		if got := state(ids[i]); got != want {
			t.Errorf("job last attempted by %v: %s, want %s", attempts[i], got, want)
		}
	}
}
