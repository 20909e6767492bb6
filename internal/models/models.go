// Package models downloads the files the local embedder needs — the
// all-MiniLM-L6-v2 ONNX export and tokenizer from the Hugging Face hub,
// and ONNX Runtime's shared library — each checked against a sha256
// pinned here, so that a changed or corrupted file is refused, never used.
package models

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// File is one pinned download.
type File struct {
	URL    string
	SHA256 string // of what URL serves
	Size   int64  // of what URL serves; 0: not checked before the hash
	// Dest is the path, relative to the target folder, the file (or the
	// archive member) is written to.
	Dest string
	// Member, when set, names the file to take out of a .tgz download.
	Member string
}

// Fetch downloads f into dir unless Dest is already there, and reports
// whether it downloaded. The download goes to a temporary file beside the
// destination and is renamed into place only once its hash matches: a
// failed or interrupted fetch leaves nothing that looks complete.
func Fetch(ctx context.Context, client *http.Client, f File, dir string) (bool, error) {
	dest := filepath.Join(dir, filepath.FromSlash(f.Dest))
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return false, err
	}
	// Temporary files an interrupted run left behind.
	bases := []string{filepath.Base(dest)}
	if f.Member != "" {
		bases = append(bases, path.Base(f.Member))
	}
	for _, base := range bases {
		old, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), "."+base+".part-*"))
		for _, p := range old {
			os.Remove(p)
		}
	}
	if fi, err := os.Stat(dest); err == nil && !fi.IsDir() {
		// The file (or, for an archive member, the file as extracted from
		// the archive with the pinned hash, as its stamp records) is kept
		// when it is intact; anything else is fetched again.
		want := f.SHA256
		if f.Member != "" {
			want = stampedHash(dest, f.SHA256)
		}
		if ok, err := hasHash(dest, want); err != nil || ok {
			return false, err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := download(ctx, client, f, tmp); err != nil {
		return false, err
	}
	final := tmp.Name()
	if f.Member != "" {
		member, err := extract(tmp.Name(), f.Member, filepath.Dir(dest))
		if err != nil {
			return false, err
		}
		defer os.Remove(member)
		final = member
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Chmod(final, 0o644); err != nil {
		return false, err
	}
	if f.Member != "" {
		sum, err := FileSHA256(final)
		if err != nil {
			return false, err
		}
		if err := os.WriteFile(dest+".sha256", []byte(f.SHA256+" "+sum+"\n"), 0o644); err != nil {
			return false, err
		}
	}
	if err := os.Rename(final, dest); err != nil {
		return false, err
	}
	return true, nil
}

// stampedHash is the sha256 a member was extracted with, as recorded in
// its stamp beside it, when the stamp names the archive's pinned hash; ""
// (matching nothing) otherwise.
func stampedHash(dest, archive string) string {
	b, err := os.ReadFile(dest + ".sha256")
	if err != nil {
		return ""
	}
	a, m, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok || a != archive || !validHex(m, 64) {
		return ""
	}
	return m
}

// download writes what f.URL serves to w, checking size and hash.
func download(ctx context.Context, client *http.Client, f File, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", f.URL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", f.URL, res.Status)
	}
	if f.Size > 0 && res.ContentLength > 0 && res.ContentLength != f.Size {
		return fmt.Errorf("download %s: %d bytes offered, %d expected", f.URL, res.ContentLength, f.Size)
	}
	h := sha256.New()
	limit := f.Size
	if limit <= 0 {
		limit = maxDownload
	}
	body := io.LimitReader(res.Body, limit+1) // never more than expected
	n, err := io.Copy(io.MultiWriter(w, h), body)
	if err != nil {
		return fmt.Errorf("download %s: %w", f.URL, err)
	}
	if f.Size > 0 && n != f.Size {
		return fmt.Errorf("download %s: %d bytes received, %d expected", f.URL, n, f.Size)
	}
	if n > limit {
		return fmt.Errorf("download %s: more than %d bytes: refused", f.URL, limit)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("download %s: sha256 %s, expected %s: refused", f.URL, got, f.SHA256)
	}
	return nil
}

// extract copies one member of a .tgz into a temporary file in dir and
// returns its path.
func extract(archive, member, dir string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", member, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("the archive has no %s", member)
		}
		if err != nil {
			return "", fmt.Errorf("read archive: %w", err)
		}
		if path.Clean(hdr.Name) != member || hdr.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.CreateTemp(dir, "."+path.Base(member)+".part-*")
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			os.Remove(out.Name())
			return "", fmt.Errorf("extract %s: %w", member, err)
		}
		if err := out.Close(); err != nil {
			os.Remove(out.Name())
			return "", err
		}
		return out.Name(), nil
	}
}

// maxDownload bounds a download whose size is not pinned.
const maxDownload = 1 << 30

func hasHash(p, want string) (bool, error) {
	sum, err := FileSHA256(p)
	return err == nil && sum == want, err
}

// FileSHA256 is the hex sha256 of a file's bytes.
func FileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// validHex is a lower-case hex string of n digits.
func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
