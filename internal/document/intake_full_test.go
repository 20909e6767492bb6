package document

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// An upload bigger than the space left fails as the server's disk being
// full (not as the client's malformed body) and leaves no partial file.
func TestReceiveOnAFullDiskKeepsNothing(t *testing.T) {
	disk := testenv.SmallDisk(t, 1<<20)
	incoming := filepath.Join(disk, ".incoming")
	body := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("0"), 2<<20)...)
	_, err := receiveReader(bytes.NewReader(body), "big.pdf", incoming, 50<<20)
	if err == nil {
		t.Fatal("a 2 MB upload was received on a 1 MB disk")
	}
	if !sqlite.IsFull(err) {
		t.Fatalf("upload on a full disk: %v; want an error sqlite.IsFull recognises (it was reported as the client's fault)", err)
	}
	left, rerr := os.ReadDir(incoming)
	if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		t.Fatal(rerr)
	}
	if len(left) != 0 {
		t.Fatalf("a failed upload left %d file(s) in %s", len(left), incoming)
	}
}
