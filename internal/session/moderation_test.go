package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/tutor"
)

// stubClassifier fails, or waits, as told.
type stubClassifier struct {
	wait time.Duration
	err  error
}

func (c stubClassifier) Classify(ctx context.Context, _, _ string) (moderation.Verdict, error) {
	select {
	case <-time.After(c.wait):
		return moderation.Verdict{}, c.err
	case <-ctx.Done():
		return moderation.Verdict{}, ctx.Err()
	}
}

func withClassifier(e *env, c tutor.Classifier, wait time.Duration) {
	e.svc.tutor = tutor.New(retrieval.NewSearcher(nil, 0, nil), nil).WithClassifier(c, wait)
}

// TestUnverifiedTurnsAreNotStrikes: when the classifier cannot clear a
// turn, the student is asked to say it again and professors see a flag, but the
// student is not counted against and the session goes on.
func TestUnverifiedTurnsAreNotStrikes(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		withClassifier(e, stubClassifier{err: errors.New("overloaded")}, time.Second)
		st := e.start(t, "student")
		for range MaxModerated + 1 {
			a, err := e.say(context.Background(), "student", st.Session.ID, "Is an acceptance by mail effective on dispatch?", "")
			if err != nil || !a.Moderated || a.Text != moderation.UnverifiedReply {
				t.Fatalf("turn: %+v %v", a, err)
			}
		}
		got, err := e.svc.Get(context.Background(), e.users["professor"], st.Session.ID)
		if err != nil || got.Status != Active || got.ModeratedCount != 0 || len(got.Flags) != MaxModerated+1 || got.Flags[0].Categories[0] != moderation.Unverified {
			t.Errorf("session %+v %v", got, err)
		}
		if got.Transcript[1].Moderated || !got.Transcript[2].Moderated {
			t.Errorf("the student's turn was marked, or the reply was not: %+v", got.Transcript[1:3])
		}
		if list, _, _ := e.svc.List(context.Background(), e.users["professor"], Filter{Moderated: true, Limit: 10}); len(list) != 1 {
			t.Errorf("moderated=true lists %d sessions", len(list))
		}
	})
}

// TestLeavingWhileTheClassifierThinks: a student who goes away before the
// verdict leaves an unanswered turn, not a stored redirect.
func TestLeavingWhileTheClassifierThinks(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		withClassifier(e, stubClassifier{wait: time.Second}, 2*time.Second)
		st := e.start(t, "student")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := e.say(ctx, "student", st.Session.ID, "Is an acceptance by mail effective on dispatch?", "c-1"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("run: %v", err)
		}
		tr := e.turns(t, st.Session.ID)
		if len(tr) != 2 || !tr[1].Unanswered || tr[1].Moderated {
			t.Errorf("transcript %+v", tr)
		}
		if n := e.count(t, `SELECT count(*) FROM turns WHERE role = 'assistant' AND moderated = TRUE`); n != 0 {
			t.Errorf("a redirect was stored for a student who left")
		}
	})
}

// TestEndWhileAnswering: ending a session while a turn is being answered
// keeps the answer out of the ended session, so End answers the same every
// time it is asked.
func TestEndWhileAnswering(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		fake := llmtest.NewAnthropic(t, slowed(llmtest.Text("Why put the risk ", "on the offeror?"), 400*time.Millisecond))
		e := newEnvOn(t, db, claude(t, fake))
		ctx := context.Background()
		st := e.start(t, "student")
		done := e.answering(t, st.Session.ID, "It is effective on dispatch.")
		time.Sleep(100 * time.Millisecond)
		first, err := e.svc.End(ctx, e.users["student"], st.Session.ID, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != ErrEnded {
			t.Errorf("the answer in flight: %v", err)
		}
		again, err := e.svc.End(ctx, e.users["student"], st.Session.ID, nil, "")
		if err != nil || len(again.Transcript) != len(first.Transcript) || len(first.Transcript) != 2 || !first.Transcript[1].Unanswered {
			t.Errorf("end %+v, then %+v (%v)", first.Transcript, again.Transcript, err)
		}
	})
}
