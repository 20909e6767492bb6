package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStartRemovesItsPredecessorsPartialFiles: a recording and an upload
// a killed server was receiving (their partial files, just written) are
// gone once the server is up again, on either engine. The folders are in
// the data directory, which one process holds at a time, so on PostgreSQL
// too they can be nobody else's (a TestFaultCrash run on PostgreSQL once
// found a partial recording kept after the restarts: the start spared
// every file younger than an hour, as if another instance shared them).
func TestStartRemovesItsPredecessorsPartialFiles(t *testing.T) {
	s := StartServer(t)
	s.Kill()
	left := []string{
		filepath.Join(s.Dir, "audio", "tmp", "audio-12345"),
		filepath.Join(s.Dir, "uploads", ".incoming", "upload-12345"),
	}
	for _, p := range left {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half a file"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.Restart()
	for _, p := range left {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			rel, _ := filepath.Rel(s.Dir, p)
			t.Errorf("%s is still there after the restart (%v)", rel, err)
		}
	}
}
