package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// A crash between an erasure's (or a retention sweep's) commit and the
// removal of its files leaves recordings no session names; the next start
// removes them and keeps every recording a session still names.
func TestRecoverRemovesOrphanRecordings(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := e.start(t, "student")
	if err := os.MkdirAll(e.audioDir, 0o750); err != nil {
		t.Fatal(err)
	}
	kept := fmt.Sprintf("session-%d-00112233.wav", st.Session.ID)
	orphan := "session-999-44556677.wav"
	unrelated := "notes.txt" // not ours to judge
	for _, n := range []string{kept, orphan, unrelated} {
		if err := os.WriteFile(filepath.Join(e.audioDir, n), []byte("RIFF"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.Write.Exec(`UPDATE sessions SET audio_name = ?, audio_type = 'audio/wav', audio_size = 4 WHERE id = ?`, kept, st.Session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[string]bool{kept: true, orphan: false, unrelated: true} {
		_, err := os.Stat(filepath.Join(e.audioDir, n))
		if got := err == nil; got != want {
			t.Errorf("%s present %v, want %v (%v)", n, got, want, err)
		}
	}
}

// TestEraseUserOnBothEngines: erasing a student takes their sessions and
// turns; erasing a professor takes their name off the courses they teach
// (matched without regard to case), and leaves the course and the
// student's sessions.
func TestEraseUserOnBothEngines(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "classmate")
		if _, err := e.say(ctx, "classmate", st.Session.ID, "Is an acceptance by mail effective on dispatch?", ""); err != nil {
			t.Fatal(err)
		}
		kept := e.start(t, "student")
		if _, err := db.Write.Exec(`UPDATE courses SET professor_name = 'TEST PROFESSOR' WHERE id = ?`, e.courseID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.EraseUser(ctx, e.users["admin"], e.users["classmate"].ID); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT count(*) FROM turns WHERE session_id = ?`, st.Session.ID); n != 0 {
			t.Errorf("%d turns of the erased student left", n)
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE user_id = ?`, e.users["classmate"].ID); n != 0 {
			t.Errorf("%d sessions of the erased student left", n)
		}
		if err := e.svc.EraseUser(ctx, e.users["admin"], e.users["professor"].ID); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT count(*) FROM courses WHERE id = ? AND professor_name = ''`, e.courseID); n != 1 {
			t.Errorf("the erased professor's name is still on the course")
		}
		if n := e.count(t, `SELECT count(*) FROM sessions WHERE id = ?`, kept.Session.ID); n != 1 {
			t.Errorf("another student's session went with the professor")
		}
	})
}
