package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 keeps files in an S3-compatible bucket, under prefix/ab/abcdef… — the
// local layout, as keys — so several instances share one store.
//
// Its lock is this process's, as Local's is, and, when S3Config.Lock is
// set, one every instance sharing the bucket takes too (a PostgreSQL
// advisory lock): so a Release on one instance and a writer reusing the
// same file on another exclude each other.
type S3 struct {
	scratch string
	client  *minio.Client
	bucket  string
	prefix  string // "" or ending in "/"
	inUse   InUse
	mu      sync.Mutex
	shared  Locker
	now     func() time.Time
}

// S3Config is where the bucket is and how to reach it. Endpoint is a URL
// (https://s3.amazonaws.com when empty); the credentials are AWS's usual
// environment names, read by the caller.
type S3Config struct {
	Bucket, Prefix            string
	Endpoint                  string
	Region                    string
	AccessKey, SecretKey, STS string
	// Scratch is a local directory for uploads on their way in and
	// copies PDFium reads (UPLOAD_DIR).
	Scratch string
	// Lock, when set, is taken with the process lock by WithLock and
	// Release: the lock every instance sharing the bucket takes.
	Lock Locker
}

// Locker takes a lock shared by every instance and returns its unlock.
type Locker func(ctx context.Context) (unlock func(), err error)

// lock takes the process lock, then the shared one.
func (s *S3) lock(ctx context.Context) (func(), error) {
	s.mu.Lock()
	if s.shared == nil {
		return s.mu.Unlock, nil
	}
	unlock, err := s.shared(ctx)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("blob: %w", err)
	}
	return func() { unlock(); s.mu.Unlock() }, nil
}

// ParseURL reads BLOB_URL=s3://bucket/prefix into a bucket and a prefix,
// with the words a person needs when it is wrong.
func ParseURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return "", "", errors.New("must look like s3://bucket/prefix (the prefix may be empty)")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", errors.New("must be s3://bucket/prefix only: credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the endpoint in AWS_ENDPOINT_URL")
	}
	bucket = u.Host
	if bucket == "" || len(bucket) < 3 || len(bucket) > 63 || strings.ToLower(bucket) != bucket || strings.ContainsAny(bucket, "_ :") {
		return "", "", fmt.Errorf("names the bucket %q: a bucket name is 3 to 63 lower-case letters, digits, dots and hyphens", bucket)
	}
	prefix = strings.Trim(u.Path, "/")
	if strings.Contains(prefix, "//") || slices.Contains(strings.Split(prefix, "/"), "..") {
		return "", "", errors.New("has a prefix with an empty or '..' segment")
	}
	return bucket, prefix, nil
}

// NewS3 returns a store on the bucket; it does not contact it (Check does).
func NewS3(c S3Config, inUse InUse) (*S3, error) {
	endpoint := c.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("blob: the S3 endpoint %q must be an http:// or https:// URL", endpoint)
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.STS),
		Secure: u.Scheme == "https",
		Region: c.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	prefix := strings.Trim(c.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{shared: c.Lock, now: time.Now, scratch: c.Scratch, client: client, bucket: c.Bucket, prefix: prefix, inUse: inUse}, nil
}

// Check reports whether the bucket can be reached and exists.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob: reach bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("blob: the bucket %s does not exist", s.bucket)
	}
	return nil
}

func (s *S3) key(sum string) (string, error) {
	if !validSum(sum) {
		return "", ErrBadSum
	}
	return s.prefix + sum[:2] + "/" + sum, nil
}

func isMissing(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// Put uploads r's bytes as sum's object. The upload is one PUT (or a
// multipart upload completed only at the end), so a failed one leaves no
// object; bytes that turn out not to hash to sum are removed again.
func (s *S3) Put(ctx context.Context, sum string, r io.Reader) error {
	k, err := s.key(sum)
	if err != nil {
		return err
	}
	if ok, err := s.Exists(ctx, sum); err != nil || ok {
		return err
	}
	h := sha256.New()
	if _, err := s.client.PutObject(ctx, s.bucket, k, io.TeeReader(r, h), -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		// An unsigned payload (the signature covers the headers): on https
		// minio-go sends this anyway, and on plain http (a local MinIO, the
		// tests' fake) the bytes are checked against sum here instead.
		DisableContentSha256: true,
	}); err != nil {
		return fmt.Errorf("store %s: %w", sum, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		if err := s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, k, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("store %s: %w (and removing it: %v)", sum, ErrSumMismatch, err)
		}
		return fmt.Errorf("store %s: %w", sum, ErrSumMismatch)
	}
	return nil
}

// Adopt uploads src as sum's object; src stays for the caller to remove.
func (s *S3) Adopt(ctx context.Context, sum, src string) (bool, func(), error) {
	k, err := s.key(sum)
	if err != nil {
		return false, nil, err
	}
	if ok, err := s.Exists(ctx, sum); err != nil || ok {
		return ok, func() {}, err
	}
	f, err := os.Open(src)
	if err != nil {
		return false, nil, fmt.Errorf("store upload: %w", err)
	}
	defer f.Close()
	if err := s.Put(ctx, sum, f); err != nil {
		return false, nil, fmt.Errorf("store upload: %w", err)
	}
	return false, func() { _ = s.client.RemoveObject(context.Background(), s.bucket, k, minio.RemoveObjectOptions{}) }, nil
}

// Scratch is the configured local directory.
func (s *S3) Scratch() string { return s.scratch }

// Open reads sum's object.
func (s *S3) Open(ctx context.Context, sum string) (io.ReadCloser, error) {
	k, err := s.key(sum)
	if err != nil {
		return nil, err
	}
	if ok, err := s.Exists(ctx, sum); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("open %s: %w", sum, fs.ErrNotExist)
	}
	o, err := s.client.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", sum, err)
	}
	return o, nil
}

// Exists reports whether sum's object is stored.
func (s *S3) Exists(ctx context.Context, sum string) (bool, error) {
	k, err := s.key(sum)
	if err != nil {
		return false, err
	}
	_, err = s.client.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if isMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", sum, err)
	}
	return true, nil
}

// LocalPath downloads sum's object to a private file in tmpDir.
func (s *S3) LocalPath(ctx context.Context, sum, tmpDir string) (string, func(), error) {
	r, err := s.Open(ctx, sum)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return "", nil, err
	}
	f, err := os.CreateTemp(tmpDir, ".fetch-*")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		done()
		return "", nil, fmt.Errorf("fetch %s: %w", sum, err)
	}
	return f.Name(), done, nil
}

// List returns the sums of the objects under the prefix laid out as
// prefix/ab/abcdef….
func (s *S3) List(ctx context.Context) ([]string, error) {
	return s.list(ctx, func(minio.ObjectInfo) bool { return true })
}

// SweepGrace is how old an object must be before a start-up sweep may
// offer it to Release: far longer than any upload takes between storing
// its file and committing its row.
const SweepGrace = time.Hour

// Sweepable lists the objects older than SweepGrace.
func (s *S3) Sweepable(ctx context.Context) ([]string, error) {
	cutoff := s.now().Add(-SweepGrace)
	return s.list(ctx, func(o minio.ObjectInfo) bool { return o.LastModified.Before(cutoff) })
}

func (s *S3) list(ctx context.Context, keep func(minio.ObjectInfo) bool) ([]string, error) {
	var sums []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list: %w", o.Err)
		}
		rest := strings.TrimPrefix(o.Key, s.prefix)
		fan, name := path.Split(rest)
		if validSum(name) && fan == name[:2]+"/" && keep(o) {
			sums = append(sums, name)
		}
	}
	slices.Sort(sums)
	return sums, nil
}

// WithLock runs fn while no Release (of any instance, with a shared Lock)
// can remove a file.
func (s *S3) WithLock(fn func() error) error {
	unlock, err := s.lock(context.Background())
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// Release removes each object InUse reports unused (see Local.Release).
func (s *S3) Release(ctx context.Context, sums []string) (int, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return releaseUnused(ctx, sums, s.inUse, func(sum string) (bool, error) {
		k, err := s.key(sum)
		if err != nil {
			return false, err
		}
		ok, err := s.Exists(ctx, sum)
		if err != nil || !ok {
			return false, err
		}
		return true, s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{})
	})
}
