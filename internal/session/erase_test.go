package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
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
