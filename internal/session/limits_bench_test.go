package session

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkTurnLimits measures what the per-turn checks add to Begin's
// write transaction, in a session one turn short of its cap whose student
// has a day of answers: pace is the per-session rate and turn cap (the
// check on the session row Begin already loads, and the update of its
// counters), budget the daily tokens, enrolment the course policy asked
// again (mayStillStudy). Run:
//
//	go test ./internal/session -run '^$' -bench TurnLimits -benchtime 20000x
func BenchmarkTurnLimits(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	st, err := e.svc.Start(ctx, e.users["student"], e.week, "")
	if err != nil {
		b.Fatal(err)
	}
	tx, err := e.db.Write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	now := e.clock.Now()
	sess := st.Session
	for i := range DefaultMaxTurns - 1 {
		at := now.Add(time.Duration(i) * time.Second)
		turn, err := insertTurn(ctx, tx, sess.ID, Student, fmt.Sprintf("student turn %d about the mailbox rule", i), at, "answered", "", 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := insertTurn(ctx, tx, sess.ID, Tutor, "Why would dispatch matter?", at, "done", "", turn); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE turns SET input_tokens = 1500, output_tokens = 40 WHERE reply_to = ?`, turn); err != nil {
			b.Fatal(err)
		}
	}
	sess.StudentTurns, sess.LastTurnAt = DefaultMaxTurns-1, now
	later := now.Add(time.Hour)
	b.Run("pace", func(b *testing.B) {
		for b.Loop() {
			if err := e.svc.checkPace(sess, later); err != nil {
				b.Fatal(err)
			}
			if err := recordPace(ctx, tx, sess.ID, later, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	e.svc.o.DailyTokens = 1 << 40
	b.Run("budget", func(b *testing.B) {
		for b.Loop() {
			if err := e.svc.checkBudget(ctx, tx, e.users["student"], later); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("enrolment", func(b *testing.B) {
		for b.Loop() {
			if err := mayStillStudy(ctx, tx, e.users["student"], sess); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-select-1", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT 1`).Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
}
