// Package blob keeps uploaded files under one directory, named by the sha256
// of their bytes: the server chooses every name, so no client-supplied text
// ever reaches a path, and the same bytes are stored once however many weeks
// use them.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrBadSum is returned for anything that is not a lower-case hex sha256.
var ErrBadSum = errors.New("blob: not a sha256 hex digest")

// Store is a directory of files named by content hash.
//
// A file may be shared by several database rows, so "is it still used?" and
// "remove it" must be one step with respect to "write it and insert a row
// naming it": both sides hold the store's lock (Release here, WithLock for
// writers), or a delete could remove a file an upload just decided to reuse.
type Store struct {
	dir   string
	inUse InUse
	mu    sync.Mutex
}

// InUse reports whether anything still names the file with this digest.
type InUse func(ctx context.Context, sum string) (bool, error)

// New returns a store rooted at dir (created on first write); inUse is
// what Release asks before removing a file.
func New(dir string, inUse InUse) *Store { return &Store{dir: dir, inUse: inUse} }

// Dir is the store's root.
func (s *Store) Dir() string { return s.dir }

// Path is where the file with this digest lives: dir/ab/abcdef….
func (s *Store) Path(sum string) (string, error) {
	if !validSum(sum) {
		return "", ErrBadSum
	}
	return filepath.Join(s.dir, sum[:2], sum), nil
}

// WithLock runs fn while no Release can remove a file.
func (s *Store) WithLock(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn()
}

// Release removes each file the store's InUse reports no longer used, and
// says how many it removed. Missing files are not an error (a crash may
// have removed one already); every sum is tried and all failures are
// returned together.
func (s *Store) Release(ctx context.Context, sums []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	removed := 0
	seen := map[string]bool{}
	for _, sum := range sums {
		if seen[sum] {
			continue
		}
		seen[sum] = true
		p, err := s.Path(sum)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		used, err := s.inUse(ctx, sum)
		if err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", sum, err))
			continue
		}
		if used {
			continue
		}
		err = os.Remove(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("release %s: %w", sum, err))
			continue
		}
		if err == nil {
			removed++
		}
		// The fan-out directory goes when it empties; if it still holds
		// files, Remove fails harmlessly.
		_ = os.Remove(filepath.Dir(p))
	}
	return removed, errors.Join(errs...)
}

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
