package session

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/testenv"
)

// A recording that meets a full disk is the server's failure (the disk
// error, which the handler answers as a full disk), not "the upload was cut
// short" (the client's), and leaves no temporary file.
func TestRecordingOnAFullDiskIsTheServersError(t *testing.T) {
	disk := testenv.SmallDisk(t, 2<<20)
	dir := filepath.Join(disk, "sessions")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		t.Fatal(err)
	}
	// Full but for 128 KB: the header is written, the body's first
	// buffered write fails.
	filler := filepath.Join(disk, "filler")
	n := testenv.Fill(t, filler)
	if err := os.Truncate(filler, n-128<<10); err != nil {
		t.Fatal(err)
	}
	// A WAV header, then more than the disk has room for.
	wav := append([]byte("RIFF\x24\x00\x10\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x10\x00"), make([]byte, 1<<20)...)
	_, err := saveAudio(bytes.NewReader(wav), dir, 8<<20)
	if err == nil {
		t.Fatal("a recording was stored on a full disk")
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("error %v: want the disk's ENOSPC", err)
	}
	var e *errs.Error
	if errors.As(err, &e) {
		t.Errorf("a full disk answered as the client's fault: %v", e)
	}
	left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(left) != 0 {
		t.Errorf("%d temporary files left behind", len(left))
	}
}
