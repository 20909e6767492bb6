package document

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// Errors a professor sees when an upload is refused; nothing is kept.
var (
	ErrNotMultipart = errs.New(errs.Unsupported, "send the file as multipart/form-data in a field named \"file\"")
	ErrNoFile       = errs.InvalidFields(errs.FieldError{Field: "file", Message: "is required: send the PDF in a multipart field named \"file\""})
	ErrEmptyFile    = errs.New(errs.Unsupported, "the file is empty")
	// ErrDiskFull: the server's disk is full (or nearly: see
	// sqlite.DiskReserve); the upload left nothing behind.
	ErrDiskFull = errs.New(errs.InsufficientStorage, "the server's disk is full, so the file was not stored (nothing of it was kept); ask the server's administrator to free space, then upload it again")
)

// wrongField refuses a file sent in a field not named "file".
func wrongField(name string) error {
	return errs.InvalidFields(errs.FieldError{Field: "file", Message: fmt.Sprintf("is required: send the PDF in a multipart field named \"file\", not %q", name)})
}

// maxOtherParts bounds the bytes of form fields other than "file" that are
// read (and thrown away) before the file arrives.
const maxOtherParts = 64 << 10

// received is an upload written to a temporary file.
type received struct {
	tmp      string // temporary path; the caller renames or removes it
	sum      string // sha256, hex
	size     int64
	filename string // the client's name, cleaned, for display only
}

func (r received) discard() { _ = os.Remove(r.tmp) }

// receive streams the "file" part of a multipart body into a temporary file
// under tmpDir, hashing it on the way, and stops reading as soon as it passes
// maxSize. It checks that the bytes begin like a PDF; a refused upload
// leaves nothing on disk.
func receive(body io.Reader, contentType, tmpDir string, maxSize int64) (received, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return received{}, ErrNotMultipart
	}
	mr := multipart.NewReader(body, params["boundary"])
	other := int64(0)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return received{}, ErrNoFile
		}
		if err != nil {
			return received{}, malformed(err)
		}
		if part.FormName() != "file" {
			// A file, or a field too big to be anything but one, sent under
			// another name is the commonest client mistake: say which name
			// to use rather than "too large" or "no file".
			if part.FileName() != "" {
				return received{}, wrongField(part.FormName())
			}
			n, err := io.Copy(io.Discard, io.LimitReader(part, maxOtherParts-other+1))
			other += n
			if err != nil {
				return received{}, malformed(err)
			}
			if other > maxOtherParts {
				return received{}, wrongField(part.FormName())
			}
			continue
		}
		return receiveReader(part, part.FileName(), tmpDir, maxSize)
	}
}

// receiveReader copies one file's bytes from r (see receive).
func receiveReader(part io.Reader, name, tmpDir string, maxSize int64) (received, error) {
	if err := os.MkdirAll(tmpDir, 0o750); err != nil {
		return received{}, fmt.Errorf("upload: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return received{}, fmt.Errorf("upload: %w", err)
	}
	r := received{tmp: f.Name(), filename: cleanFilename(name)}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			r.discard()
		}
	}()
	h := sha256.New()
	head := &prefix{max: 1024}
	n, err := io.Copy(io.MultiWriter(f, h, head), io.LimitReader(part, maxSize+1))
	if err != nil {
		if sqlite.IsFull(err) {
			return received{}, fmt.Errorf("upload: %w", err) // the server's disk, not the client's body
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return received{}, tooLarge(maxSize)
		}
		return received{}, malformed(err)
	}
	if n > maxSize {
		return received{}, tooLarge(maxSize)
	}
	if n == 0 {
		return received{}, ErrEmptyFile
	}
	if err := sniffPDF(head.buf.Bytes()); err != nil {
		return received{}, err
	}
	if err := f.Sync(); err != nil {
		return received{}, fmt.Errorf("upload: %w", err)
	}
	if err := f.Close(); err != nil {
		return received{}, fmt.Errorf("upload: %w", err)
	}
	r.sum, r.size, ok = hex.EncodeToString(h.Sum(nil)), n, true
	return r, nil
}

func tooLarge(max int64) error {
	return errs.TooLargeLimit("file", max)
}

// malformed is a body that ended early or broke the multipart format.
func malformed(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.New(errs.TooLarge, "the request is too large")
	}
	return errs.New(errs.Invalid, "the upload was cut short or is not valid multipart/form-data")
}

// sniffPDF judges by bytes: a PDF's header "%PDF-" must appear in its first
// 1024 bytes (readers accept leading junk that far). Anything else is named
// for what it looks like, so the professor knows what they sent.
func sniffPDF(head []byte) error {
	if bytes.Contains(head, []byte("%PDF-")) {
		return nil
	}
	kind := http.DetectContentType(head)
	what := "it is not a PDF"
	switch {
	case strings.HasPrefix(kind, "image/"):
		what = "it is an image (" + strings.TrimPrefix(kind, "image/") + "), not a PDF; export or scan it to PDF"
	case strings.HasPrefix(kind, "text/"):
		what = "it is a text file, not a PDF"
	case kind == "application/zip":
		what = "it is a zip archive (perhaps a Word document), not a PDF; save it as PDF"
	}
	return errs.New(errs.Unsupported, "this file cannot be used: "+what)
}

// prefix keeps the first max bytes written to it.
type prefix struct {
	buf bytes.Buffer
	max int
}

func (p *prefix) Write(b []byte) (int, error) {
	if room := p.max - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// cleanFilename keeps a client's file name for display only (it never names
// a file on disk): the last path element, without control or invisible
// characters, at most 255 characters.
func cleanFilename(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = filepath.Base("/" + name)
	var sb strings.Builder
	n := 0
	for _, r := range name {
		if r == utf8.RuneError || auth.Hidden(r) {
			continue
		}
		if n == 255 {
			break
		}
		sb.WriteRune(r)
		n++
	}
	out := strings.TrimSpace(sb.String())
	if out == "" || out == "/" || out == "." || out == ".." {
		return "document.pdf"
	}
	return out
}
