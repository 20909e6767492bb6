package e2e

import (
	"context"
	"fmt"
	"testing"
)

// TestHarness drives one whole session through the harness against the
// fake model, restarts the server on the same data directory, and finds
// the turns in the database: the harness itself works.
func TestHarness(t *testing.T) {
	m := StartModel(t, 0, 0)
	s := StartServer(t, m.Env()...)
	c := s.Client()
	w := SetupCourse(t, s, c, SmallPDF)
	tok := c.AddStudent(t, w, "ada")
	st := c.StartSession(t, tok, w.WeekID)
	if st.OpeningMessage == "" {
		t.Fatal("no opening message")
	}
	for i := range 2 {
		mk := fmt.Sprintf("smoke-%d", i)
		tr, err := c.StreamTurn(context.Background(), tok, st.SessionID, "What is the rule? [m:"+mk+"]", mk)
		if err != nil || !tr.Acknowledged() {
			t.Fatalf("turn %d: %v %+v\n%s", i, err, tr, s.Logs.String())
		}
		if m.Calls(mk) != 1 || m.Rewrites(mk) != 0 {
			t.Errorf("turn %d: %d model calls, %d query rewrites (QUERY_REWRITE is off)", i, m.Calls(mk), m.Rewrites(mk))
		}
	}
	s.Stop()
	s.Restart()
	if n := c.EndSession(t, tok, st.SessionID); n != 5 {
		t.Errorf("transcript after restart: %d turns, want 5", n)
	}
	s.Kill()
	db := s.DB(t)
	s.IntegrityCheck(t, db)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ?`, st.SessionID).Scan(&n); err != nil || n != 5 {
		t.Fatalf("turns in the database: %d %v", n, err)
	}
}

// TestQueryRewrite: with QUERY_REWRITE on, the real server asks the fast
// model for each turn's search query (the student's words inside it) and
// the turn is answered as before.
func TestQueryRewrite(t *testing.T) {
	m := StartModel(t, 0, 0)
	s := StartServer(t, append(m.Env(), "QUERY_REWRITE=true", "QUERY_REWRITE_WAIT=5s")...)
	c := s.Client()
	w := SetupCourse(t, s, c, SmallPDF)
	tok := c.AddStudent(t, w, "ada")
	st := c.StartSession(t, tok, w.WeekID)
	for i := range 2 {
		mk := fmt.Sprintf("rewrite-%d", i)
		tr, err := c.StreamTurn(context.Background(), tok, st.SessionID, "I think it's the second one [m:"+mk+"]", mk)
		if err != nil || !tr.Acknowledged() || tr.Response != ModelReply {
			t.Fatalf("turn %d: %v %+v\n%s", i, err, tr, s.Logs.String())
		}
		if m.Rewrites(mk) != 1 || m.Calls(mk) != 1 {
			t.Errorf("turn %d: %d query rewrites and %d tutor calls, want one each", i, m.Rewrites(mk), m.Calls(mk))
		}
	}
}
