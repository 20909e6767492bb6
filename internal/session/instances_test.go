package session

import (
	"context"
	stdcsv "encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// instance is a second server on db (another handle on e's database):
// the same options, its own service, pools and caches.
func (e *env) instance(db *sqlite.DB) *Service {
	o := e.svc.o
	o.Rand = nil
	return NewService(db, o)
}

// TestStartsAcrossInstancesStayWithinTheQuota: fifty starts at once by one
// student, split across two instances on one database, make exactly
// three sessions (PerWeek), one of them active. On PostgreSQL this holds
// by the lock start takes on the student's row (starterForUpdate): under
// READ COMMITTED two instances would otherwise count the same sessions.
func TestStartsAcrossInstancesStayWithinTheQuota(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		e := newEnvOn(t, a, nil)
		svcs := []*Service{e.svc, e.instance(b)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[errs.Code]int{}
		for i := range 50 {
			svc := svcs[i%2]
			wg.Go(func() {
				_, err := svc.Start(context.Background(), e.users["student"], e.week, "")
				mu.Lock()
				outcomes[codeOf(err)]++
				mu.Unlock()
				if err != nil && codeOf(err) != errs.TooMany {
					t.Errorf("start: %v", err)
				}
			})
		}
		wg.Wait()
		if outcomes[""] != 3 || outcomes[errs.TooMany] != 47 {
			t.Errorf("outcomes %v, want 3 started and 47 refused", outcomes)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions`); n != 3 {
			t.Errorf("%d sessions stored", n)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE status = 'active'`); n != 1 {
			t.Errorf("%d active sessions", n)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE status = 'ended' AND end_reason = 'replaced'`); n != 2 {
			t.Errorf("%d sessions ended by a later start, want 2", n)
		}
	})
}

// TestOneTurnAtATimeAcrossInstances: messages sent at once to one session
// through two instances store one pending turn; the others are refused
// (ErrBusy), as within one instance. On PostgreSQL this holds by the lock
// begin takes on the session's row (sessionForTurn).
func TestOneTurnAtATimeAcrossInstances(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		e := newEnvOn(t, a, nil)
		svcs := []*Service{e.svc, e.instance(b)}
		st := e.start(t, "student")
		var wg sync.WaitGroup
		var mu sync.Mutex
		var began []*Pending
		busy := 0
		for i := range 10 {
			svc := svcs[i%2]
			wg.Go(func() {
				p, err := svc.Begin(context.Background(), e.users["student"], st.Session.ID, "Is it effective on dispatch?", "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					began = append(began, p)
				case err == ErrBusy:
					busy++
				default:
					t.Errorf("begin: %v", err)
				}
			})
		}
		wg.Wait()
		if len(began) != 1 || busy != 9 {
			t.Fatalf("%d turns began and %d were refused, want 1 and 9", len(began), busy)
		}
		if n := e.count(t, `SELECT count(*) FROM turns WHERE state = 'pending'`); n != 1 {
			t.Errorf("%d pending turns stored", n)
		}
		if _, err := began[0].Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		// Answered, the session takes the next message, on either instance.
		p, err := svcs[1].Begin(context.Background(), e.users["student"], st.Session.ID, "Because the offeror chose the mail.", "")
		if err != nil {
			t.Fatalf("after the answer: %v", err)
		}
		if _, err := p.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReadsOnBothEngines: what professors, admins and students read of
// sessions — the list, the counts, the course's CSV, the model's token
// totals, a student's export — and a voice call's transcript stored once,
// on each engine.
func TestReadsOnBothEngines(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		if _, err := e.say(ctx, "student", st.Session.ID, "Is an acceptance by mail effective on dispatch?", ""); err != nil {
			t.Fatal(err)
		}
		e.start(t, "classmate")
		list, total, err := e.svc.List(ctx, e.users["professor"], Filter{CourseID: e.courseID, Limit: 10})
		if err != nil || total != 2 || len(list) != 2 || list[0].Student == nil {
			t.Fatalf("professor's list: %d of %d %+v %v", len(list), total, list, err)
		}
		if mine, total, err := e.svc.List(ctx, e.users["student"], Filter{Limit: 10}); err != nil || total != 1 || mine[0].ID != st.Session.ID {
			t.Errorf("student's list: %+v %d %v", mine, total, err)
		}
		if c, err := e.svc.Count(ctx); err != nil || c.ThisWeek != 2 || c.Total != 2 || c.Moderated != 0 {
			t.Errorf("counts %+v %v", c, err)
		}
		var csv strings.Builder
		if err := e.svc.CourseCSV(ctx, e.users["professor"], e.courseID, &csv); err != nil {
			t.Fatal(err)
		}
		if recs, err := stdcsv.NewReader(strings.NewReader(csv.String())).ReadAll(); err != nil || len(recs) != 3 || recs[1][2] != "student" || !strings.Contains(recs[1][14], "Student: Is an acceptance") {
			t.Errorf("csv %q: %v", recs, err)
		}
		// The offline tutor costs nothing: give the session a cost.
		if _, err := db.Write.Exec(`UPDATE sessions SET tokens_used = 1234 WHERE id = ?`, st.Session.ID); err != nil {
			t.Fatal(err)
		}
		if ms, err := e.svc.ModelStats(ctx); err != nil || ms.TokensTotal != 1234 || ms.TokensToday != 1234 {
			t.Errorf("model stats %+v %v", ms, err)
		}
		ex, err := e.svc.ExportOf(ctx, e.users["student"])
		if err != nil || len(ex.Sessions) != 1 || len(ex.Sessions[0].Transcript) != 3 || len(ex.Enrolled) != 1 || ex.Account.Username != "student" {
			t.Errorf("export %+v %v", ex, err)
		}
		conv := VoiceConversation{ConversationID: "conv-1", AgentID: "agent", Status: "done", Transcript: json.RawMessage(`[{"role":"user","message":"hello"}]`)}
		m := VoiceMatch{SessionID: st.Session.ID, Expires: st.Session.ExpiresAt}
		for i, want := range []bool{true, false} {
			if stored, err := e.svc.StoreVoiceTranscript(ctx, m, conv); err != nil || stored != want {
				t.Errorf("transcript delivery %d: stored %v, %v", i+1, stored, err)
			}
		}
	})
}

// TestEndsAcrossInstancesRecordOnce: a session past its clock, ended by its
// student through both instances and swept by both at once, is ended
// once: one end in the audit log. On PostgreSQL this holds by the lock on
// the session's row (sessionForUpdate, and the sweeper's SKIP LOCKED).
func TestEndsAcrossInstancesRecordOnce(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		e := newEnvOn(t, a, nil)
		svcs := []*Service{e.svc, e.instance(b)}
		st := e.start(t, "student")
		e.clock.Add(10 * time.Minute)
		var wg sync.WaitGroup
		for i := range 8 {
			svc := svcs[i%2]
			wg.Go(func() {
				var err error
				if i%4 < 2 {
					_, err = svc.End(context.Background(), e.users["student"], st.Session.ID, nil, "")
				} else {
					_, err = svc.Sweep(context.Background())
				}
				if err != nil {
					t.Errorf("end or sweep %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if n := e.count(t, `SELECT count(*) FROM audit_log WHERE action = 'session_end' AND target_id = ?`, st.Session.ID); n != 1 {
			t.Errorf("the session was ended %d times", n)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE status = 'active'`); n != 0 {
			t.Errorf("%d sessions still active", n)
		}
	})
}

// TestRecoverLeavesOtherInstancesTurns: a server starting beside another
// on PostgreSQL leaves the turns the other is answering pending (until
// their lease runs out); on SQLite, where one process holds the data
// directory, every pending turn at start was a stopped server's and is
// given up. Each engine's half asserts its own rule.
func TestRecoverLeavesOtherInstancesTurns(t *testing.T) {
	sqlitetest.EachTwo(t, func(t *testing.T, a, b *sqlite.DB) {
		e := newEnvOn(t, a, nil)
		st := e.start(t, "student")
		if _, err := e.svc.Begin(context.Background(), e.users["student"], st.Session.ID, "Is it effective on dispatch?", ""); err != nil {
			t.Fatal(err)
		}
		starting := e.instance(b)
		n, err := starting.Recover(context.Background())
		want := int64(0)
		if b.Engine == sqlite.SQLite {
			want = 1
		}
		if err != nil || n != want {
			t.Fatalf("recover beside a running instance gave up %d turns (%v), want %d on %s", n, err, want, b.Engine)
		}
		if b.Engine == sqlite.Postgres {
			e.clock.Add(turnLease + time.Second)
			if n, err := starting.Recover(context.Background()); err != nil || n != 1 {
				t.Errorf("recover past the lease gave up %d turns (%v), want 1", n, err)
			}
		}
		if n := e.count(t, `SELECT count(*) FROM turns WHERE state = 'pending'`); n != 0 {
			t.Errorf("%d turns still pending", n)
		}
	})
}

// TestRecoverSparesOtherInstancesRecordings: a start removes the partial
// recordings a stopped server left, all of them on SQLite (one process
// holds the data directory) and on PostgreSQL when the folder is the
// process's own (inside its locked data directory), but on PostgreSQL
// with a folder that may be shared with instances receiving recordings
// now, only those older than an hour.
func TestRecoverSparesOtherInstancesRecordings(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		for _, own := range []bool{false, true} {
			e.svc.o.OwnAudioDir = own
			tmp := filepath.Join(e.audioDir, "tmp")
			if err := os.MkdirAll(tmp, 0o750); err != nil {
				t.Fatal(err)
			}
			old, fresh := filepath.Join(tmp, "audio-old"), filepath.Join(tmp, "audio-now")
			for _, p := range []string{old, fresh} {
				if err := os.WriteFile(p, []byte("RIFF"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			past := time.Now().Add(-time.Hour - time.Minute)
			if err := os.Chtimes(old, past, past); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(old); !os.IsNotExist(err) {
				t.Errorf("own folder %v: a partial recording older than an hour was kept: %v", own, err)
			}
			_, err := os.Stat(fresh)
			if shared := db.Engine == sqlite.Postgres && !own; shared && err != nil {
				t.Errorf("on PostgreSQL a recording another instance may be receiving was removed: %v", err)
			} else if !shared && !os.IsNotExist(err) {
				t.Errorf("on %s, own folder %v: a stopped server's partial recording was kept: %v", db.Engine, own, err)
			}
		}
	})
}
