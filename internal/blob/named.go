package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Named keeps files under names the server chose — session recordings,
// session-<id>-<random>.<ext> — rather than under their sha256: a
// recording belongs to one session and is never shared, so there is
// nothing to deduplicate and no "still used?" question; the name is
// unguessable and never anything a client sent. Local (SESSION_DIR, the
// default, files directly in the folder as before) and S3 (the bucket of
// BLOB_URL under prefix/recordings/, apart from the uploads' prefix/ab/…)
// keep it.
type Named interface {
	// Keep stores the local file src as name. On success src is consumed
	// (moved into place by Local, uploaded then removed by S3); on failure
	// nothing is stored under name and src is left for the caller. undo
	// removes the stored file again, for a caller whose row naming it did
	// not commit.
	Keep(ctx context.Context, name, src string) (undo func(), err error)
	// Open reads name's file, seekable (downloads serve ranges); a missing
	// one is an error satisfying errors.Is(err, fs.ErrNotExist).
	Open(ctx context.Context, name string) (io.ReadSeekCloser, error)
	// Remove deletes name's file; a missing one is not an error.
	Remove(ctx context.Context, name string) error
	// Sweepable lists the stored names a start-up sweep may remove when
	// no row names them: every file for Local (one instance, swept before
	// serving), only files older than SweepGrace for S3 (another instance
	// may be between storing a recording and committing its row).
	Sweepable(ctx context.Context) ([]string, error)
}

// ErrBadName is returned for a name that is not a plain file name of
// lower-case letters, digits, '-' and '.'.
var ErrBadName = errors.New("blob: not a stored file's name")

// validName accepts what the server names files: no separator, no "..",
// no leading dot, at most 128 bytes of [a-z0-9.-].
func validName(name string) bool {
	if name == "" || len(name) > 128 || name[0] == '.' || strings.Contains(name, "..") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// LocalNamed is a folder of named files: dir/name.
type LocalNamed struct{ dir string }

// NewNamed returns the named store in dir (created on first Keep).
func NewNamed(dir string) *LocalNamed { return &LocalNamed{dir: dir} }

func (s *LocalNamed) path(name string) (string, error) {
	if !validName(name) {
		return "", ErrBadName
	}
	return filepath.Join(s.dir, name), nil
}

// Keep renames src to dir/name (src is in dir/tmp, one file system).
func (s *LocalNamed) Keep(_ context.Context, name, src string) (func(), error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, err
	}
	if err := os.Rename(src, p); err != nil {
		return nil, err
	}
	return func() { os.Remove(p) }, nil
}

// Open opens dir/name.
func (s *LocalNamed) Open(_ context.Context, name string) (io.ReadSeekCloser, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Remove deletes dir/name.
func (s *LocalNamed) Remove(_ context.Context, name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Sweepable lists every regular file in dir with a valid name, sorted.
func (s *LocalNamed) Sweepable(context.Context) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && validName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// S3Named keeps named files in a bucket under their own prefix.
type S3Named struct {
	client *minio.Client
	bucket string
	prefix string // ends in "/"
	now    func() time.Time
}

// Named is the named-file store sharing s's bucket, under
// prefix/<folder>/ — "recordings" for session recordings. The uploads'
// keys are prefix/ab/<sha256>, two hex digits, so they never meet.
func (s *S3) Named(folder string) *S3Named {
	return &S3Named{client: s.client, bucket: s.bucket, prefix: s.prefix + strings.Trim(folder, "/") + "/", now: func() time.Time { return s.now() }}
}

func (s *S3Named) key(name string) (string, error) {
	if !validName(name) {
		return "", ErrBadName
	}
	return s.prefix + name, nil
}

// Keep uploads src as name (one PUT, or a multipart upload completed only
// at the end: a failed one leaves no object), then removes src.
func (s *S3Named) Keep(ctx context.Context, name, src string) (func(), error) {
	k, err := s.key(name)
	if err != nil {
		return nil, err
	}
	if _, err := s.client.FPutObject(ctx, s.bucket, k, src, minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	os.Remove(src)
	return func() { _ = s.client.RemoveObject(context.Background(), s.bucket, k, minio.RemoveObjectOptions{}) }, nil
}

// Open reads name's object; missing is fs.ErrNotExist.
func (s *S3Named) Open(ctx context.Context, name string) (io.ReadSeekCloser, error) {
	k, err := s.key(name)
	if err != nil {
		return nil, err
	}
	if _, err := s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{}); isMissing(err) {
		return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	o, err := s.client.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return o, nil
}

// Remove deletes name's object (S3 answers a missing key with success).
func (s *S3Named) Remove(ctx context.Context, name string) error {
	k, err := s.key(name)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && !isMissing(err) {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// Sweepable lists the objects older than SweepGrace, sorted.
func (s *S3Named) Sweepable(ctx context.Context) ([]string, error) {
	cutoff := s.now().Add(-SweepGrace)
	var out []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list: %w", o.Err)
		}
		name := strings.TrimPrefix(o.Key, s.prefix)
		if validName(name) && o.LastModified.Before(cutoff) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}
