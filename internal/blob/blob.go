// Package blob keeps uploaded files named by the sha256 of their bytes: the
// server chooses every name, so no client-supplied text ever reaches a path
// or a key, and the same bytes are stored once however many weeks use them.
// Store is the contract; Local (a directory, the default) and S3 (an
// S3-compatible bucket, for several instances, BLOB_URL=s3://…) keep it.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// ErrBadSum is returned for anything that is not a lower-case hex sha256.
var ErrBadSum = errors.New("blob: not a sha256 hex digest")

// Store keeps files by content hash.
//
// A file may be shared by several database rows, so "is it still used?" and
// "remove it" must be one step with respect to "store it and insert a row
// naming it": Release runs under the store's lock, and writers hold it
// (WithLock) around Put and their insert.
type Store interface {
	// Put stores r's bytes as sum's file. The bytes must hash to sum, or
	// nothing is stored and ErrSumMismatch is returned; a file already
	// stored is kept (its bytes are the same) and r is not read. A failed
	// Put leaves no file behind.
	Put(ctx context.Context, sum string, r io.Reader) error
	// Open reads sum's file; a missing one is an error satisfying
	// errors.Is(err, fs.ErrNotExist).
	Open(ctx context.Context, sum string) (io.ReadCloser, error)
	// Exists reports whether sum's file is stored.
	Exists(ctx context.Context, sum string) (bool, error)
	// LocalPath gives a path on this machine holding sum's bytes, for
	// readers that need a file (PDFium): the file itself for Local, a copy
	// in tmpDir for S3. done removes the copy; call it when finished.
	LocalPath(ctx context.Context, sum, tmpDir string) (path string, done func(), err error)
	// List returns every stored file's sum, sorted.
	List(ctx context.Context) ([]string, error)
	// Sweepable returns the sums a start-up sweep may offer to Release as
	// possible orphans: every file for Local (the data directory's lock
	// keeps any other instance out), only files older than SweepGrace for
	// S3 (another instance may be between storing a file and committing
	// the row that names it).
	Sweepable(ctx context.Context) ([]string, error)
	// Adopt stores the local file src, whose sha256 is sum, as sum's file,
	// inside WithLock: Local moves it into place (a rename on one file
	// system, synced), S3 uploads it. existed says the file was stored
	// already (src is left as it is); otherwise undo removes the stored
	// file again, for a caller whose row naming it did not commit.
	Adopt(ctx context.Context, sum, src string) (existed bool, undo func(), err error)
	// Scratch is a local directory for files on their way in.
	Scratch() string
	// WithLock runs fn while no Release can remove a file.
	WithLock(fn func() error) error
	// Release removes each file InUse reports unused, and says how many
	// it removed; missing files are not an error.
	Release(ctx context.Context, sums []string) (int, error)
}

// ErrSumMismatch is Put's answer for bytes that do not hash to their name.
var ErrSumMismatch = errors.New("blob: the bytes do not match their sha256")

// Local is a directory of files named by content hash: dir/ab/abcdef….
//
// A file may be shared by several database rows, so "is it still used?" and
// "remove it" must be one step with respect to "write it and insert a row
// naming it": both sides hold the store's lock (Release here, WithLock for
// writers), or a delete could remove a file an upload just decided to reuse.
type Local struct {
	dir   string
	inUse InUse
	mu    sync.Mutex
}

// InUse reports whether anything still names the file with this digest.
type InUse func(ctx context.Context, sum string) (bool, error)

// New returns a store rooted at dir (created on first write); inUse is
// what Release asks before removing a file.
func New(dir string, inUse InUse) *Local { return &Local{dir: dir, inUse: inUse} }

// Dir is the store's root.
func (s *Local) Dir() string { return s.dir }

// Path is where the file with this digest lives: dir/ab/abcdef….
func (s *Local) Path(sum string) (string, error) {
	if !validSum(sum) {
		return "", ErrBadSum
	}
	return filepath.Join(s.dir, sum[:2], sum), nil
}

// WithLock runs fn while no Release can remove a file.
func (s *Local) WithLock(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn()
}

// Release removes each file the store's InUse reports no longer used, and
// says how many it removed. Missing files are not an error (a crash may
// have removed one already); every sum is tried and all failures are
// returned together.
func (s *Local) Release(ctx context.Context, sums []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return releaseUnused(ctx, sums, s.inUse, func(sum string) (bool, error) {
		p, err := s.Path(sum)
		if err != nil {
			return false, err
		}
		err = os.Remove(p)
		// The fan-out directory goes when it empties; if it still holds
		// files, Remove fails harmlessly.
		defer os.Remove(filepath.Dir(p))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	})
}

// releaseUnused is Release for either store: each distinct sum that inUse
// reports unused is given to remove (true: a file was removed), every sum
// is tried, and all failures are returned together.
func releaseUnused(ctx context.Context, sums []string, inUse InUse, remove func(sum string) (bool, error)) (int, error) {
	var errs []error
	removed := 0
	seen := map[string]bool{}
	for _, sum := range sums {
		if seen[sum] {
			continue
		}
		seen[sum] = true
		if !validSum(sum) {
			errs = append(errs, ErrBadSum)
			continue
		}
		used, err := inUse(ctx, sum)
		if err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", sum, err))
			continue
		}
		if used {
			continue
		}
		ok, err := remove(sum)
		if err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", sum, err))
			continue
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// Put stores r's bytes as sum's file: written to a temporary file beside
// it, checked against sum, then renamed into place, so a failed or
// mismatched write leaves nothing under a sum's name.
func (s *Local) Put(ctx context.Context, sum string, r io.Reader) error {
	p, err := s.Path(sum)
	if err != nil {
		return err
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("store %s: %w", sum, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("store %s: %w", sum, err)
	}
	tmp := f.Name()
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && hex.EncodeToString(h.Sum(nil)) != sum {
		err = ErrSumMismatch
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store %s: %w", sum, err)
	}
	return nil
}

// Adopt moves src into place, synced before any row can name it.
func (s *Local) Adopt(_ context.Context, sum, src string) (bool, func(), error) {
	final, err := s.Path(sum)
	if err != nil {
		return false, nil, err
	}
	if _, err := os.Stat(final); err == nil {
		return true, func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return false, nil, fmt.Errorf("store upload: %w", err)
	}
	if err := os.Rename(src, final); err != nil {
		return false, nil, fmt.Errorf("store upload: %w", err)
	}
	// The rename must be on disk before the row that names the file.
	if err := syncDir(filepath.Dir(final)); err != nil {
		return false, nil, fmt.Errorf("store upload: %w", err)
	}
	return false, func() { _ = os.Remove(final) }, nil
}

// Scratch is the store's own directory: an upload received into it is
// adopted by a rename.
func (s *Local) Scratch() string { return s.dir }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open reads sum's file.
func (s *Local) Open(_ context.Context, sum string) (io.ReadCloser, error) {
	p, err := s.Path(sum)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Exists reports whether sum's file is stored.
func (s *Local) Exists(_ context.Context, sum string) (bool, error) {
	p, err := s.Path(sum)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// LocalPath is the file itself; done does nothing.
func (s *Local) LocalPath(_ context.Context, sum, _ string) (string, func(), error) {
	p, err := s.Path(sum)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(p); err != nil {
		return "", nil, err
	}
	return p, func() {}, nil
}

// List returns the sums of the files under dir/xx/ whose names are sums
// in their own fan-out directory (temporary files and strays are not).
func (s *Local) List(_ context.Context) ([]string, error) {
	fans, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sums []string
	for _, fan := range fans {
		if !fan.IsDir() || len(fan.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, fan.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if n := f.Name(); validSum(n) && n[:2] == fan.Name() {
				sums = append(sums, n)
			}
		}
	}
	slices.Sort(sums)
	return sums, nil
}

// Sweepable is every file: one instance holds the directory.
func (s *Local) Sweepable(ctx context.Context) ([]string, error) { return s.List(ctx) }

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
