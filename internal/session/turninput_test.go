package session

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// TestTurnInputReadsHistoryAndWeekTogether: the tutor is given the
// answered conversation before the turn (moderated exchanges and later
// turns left out) and the week's themes; once the week is deleted, or its
// id belongs to a week created later, the same conversation and no week.
func TestTurnInputReadsHistoryAndWeekTogether(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		id := st.Session.ID
		if _, err := e.say(ctx, "student", id, "Is acceptance effective on dispatch?", ""); err != nil {
			t.Fatal(err)
		}
		// A moderated exchange, then the turn being answered and one after.
		for _, q := range []string{
			`INSERT INTO turns (session_id, role, content, at, state, moderated) VALUES (?, 'user', 'who won the game?', '2026-11-18T16:00:10.000000Z', 'answered', TRUE)`,
			`INSERT INTO turns (session_id, role, content, at, state, moderated) VALUES (?, 'assistant', 'Back to the reading.', '2026-11-18T16:00:11.000000Z', 'done', TRUE)`,
			`INSERT INTO turns (session_id, role, content, at, state) VALUES (?, 'user', 'And revocation?', '2026-11-18T16:00:12.000000Z', 'pending')`,
			`INSERT INTO turns (session_id, role, content, at, state) VALUES (?, 'user', 'later', '2026-11-18T16:00:13.000000Z', 'answered')`,
		} {
			if _, err := db.Write.ExecContext(ctx, q, id); err != nil {
				t.Fatal(err)
			}
		}
		tr := e.turns(t, id)
		var pending int64
		if err := db.Read.QueryRowContext(ctx, `SELECT id FROM turns WHERE session_id = ? AND state = 'pending'`, id).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		sess, err := findSession(ctx, db.Read, id)
		if err != nil {
			t.Fatal(err)
		}
		wantHistory := []llm.Message{{Role: "assistant", Text: st.Opening}, {Role: "user", Text: tr[1].Content}, {Role: "assistant", Text: tr[2].Content}}
		for round, tc := range []struct {
			name   string
			change string
			weekID int64
			themes []string
		}{
			{"the week", "", e.week, []string{"the mailbox rule", "revocation"}},
			{"again, through the prepared statement", "", e.week, []string{"the mailbox rule", "revocation"}},
			{"a later week with the id", `UPDATE weeks SET created_at = '2027-01-01T00:00:00.000000Z' WHERE id = ?`, 0, nil},
			{"the week deleted", `DELETE FROM weeks WHERE id = ?`, 0, nil},
		} {
			if tc.change != "" {
				if _, err := db.Write.ExecContext(ctx, tc.change, e.week); err != nil {
					t.Fatal(err)
				}
			}
			// As begin reads it on SQLite: in a write, through the write
			// connection's prepared statements; and as turnInput reads it
			// when begin did not (PostgreSQL): on the pool.
			inTx := &Pending{s: e.svc, sess: sess, turnID: pending, text: "And revocation?"}
			err := db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
				pr, err := readPrior(ctx, db.WriteStmts.In(tx), sess, pending)
				inTx.prior = &pr
				return err
			})
			if err != nil {
				t.Fatalf("%d %s: %v", round, tc.name, err)
			}
			fromTx, err := e.svc.turnInput(ctx, inTx)
			if err != nil {
				t.Fatalf("%d %s: %v", round, tc.name, err)
			}
			onPool := &Pending{s: e.svc, sess: sess, turnID: pending, text: "And revocation?"}
			in, err := e.svc.turnInput(ctx, onPool)
			if err != nil {
				t.Fatalf("%d %s: %v", round, tc.name, err)
			}
			if !reflect.DeepEqual(fromTx, in) {
				t.Errorf("%s: read in the write %+v, on the pool %+v", tc.name, fromTx, in)
			}
			if in.WeekID != tc.weekID || !reflect.DeepEqual(in.Week.Themes, tc.themes) || in.Week.Title != "Acceptance" || in.Week.Course != "Contracts" {
				t.Errorf("%s: week %d %+v, want %d with themes %q", tc.name, in.WeekID, in.Week, tc.weekID, tc.themes)
			}
			// The week's versions, read in the same write, go with it
			// (the search then need not read them); none without a week.
			switch v, err := retrieval.ReadWeekVersion(ctx, db.Read, e.week); {
			case err != nil:
				t.Fatal(err)
			case tc.weekID == 0 && in.WeekVersion != nil:
				t.Errorf("%s: week version %+v without a week", tc.name, *in.WeekVersion)
			case tc.weekID != 0 && (in.WeekVersion == nil || *in.WeekVersion != v || v.Passages == 0):
				t.Errorf("%s: week version %v, want %+v", tc.name, in.WeekVersion, v)
			}
			if !reflect.DeepEqual(in.History, wantHistory) || in.Student != "And revocation?" {
				t.Errorf("%s: history %+v, want %+v", tc.name, in.History, wantHistory)
			}
		}
	})
}

// TestBeginReadsPriorTurnsInItsWriteOnSQLite: on SQLite, Begin reads what
// was said before (and the week's versions) in the write that stores the
// turn, where the write connection's page cache is warm; on PostgreSQL it
// leaves the read to the answer, on the pool, out of the write that holds
// the session's row. Either way the answer is given the same
// conversation.
func TestBeginReadsPriorTurnsInItsWriteOnSQLite(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		if _, err := e.say(ctx, "student", st.Session.ID, "Is acceptance effective on dispatch?", ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute)
		p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "And revocation?", "")
		if err != nil {
			t.Fatal(err)
		}
		if read := p.prior != nil; read != (db.Engine == sqlite.SQLite) {
			t.Errorf("%s: prior turns read by Begin: %v", db.Engine, read)
		}
		if p.prior != nil && (len(p.prior.history) != 3 || !p.prior.weekFound || p.prior.version.Passages == 0) {
			t.Errorf("read by Begin: %+v", p.prior)
		}
		in, err := e.svc.turnInput(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(in.History) != 3 || in.History[0].Text != st.Opening || in.WeekVersion == nil || in.WeekVersion.Passages == 0 {
			t.Errorf("%s: turn input %+v", db.Engine, in)
		}
		if _, err := p.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})
}
