// Package datadir guards DATA_DIR against two servers at once: the database,
// the uploads and the job queue assume one process owns them (a restarted
// server resumes jobs left running, which is only safe when no other process
// could be running them).
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrLocked says another process holds the directory.
var ErrLocked = errors.New("another socratic process is using this data directory")

// Lock takes DATA_DIR/.lock for the life of the process (or until release).
func Lock(dir string) (release func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, dir)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	return f.Close, nil // closing the file releases the lock
}
