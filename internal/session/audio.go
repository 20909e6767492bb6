package session

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/lawtutor/socratic/internal/errs"
)

// AudioFormat is a recording format the server keeps.
type AudioFormat struct {
	Ext, MediaType string
}

// sniffAudio judges a recording by its first bytes, never by its name or
// declared type: WebM, Ogg, WAV, MP3 or M4A (MP4 audio).
func sniffAudio(head []byte) (AudioFormat, bool) {
	switch {
	case len(head) >= 4 && bytes.Equal(head[:4], []byte{0x1a, 0x45, 0xdf, 0xa3}):
		// EBML: WebM when the DocType element in the header says so.
		if bytes.Contains(head[:min(len(head), 64)], []byte("webm")) {
			return AudioFormat{"webm", "audio/webm"}, true
		}
	case bytes.HasPrefix(head, []byte("OggS\x00")):
		return AudioFormat{"ogg", "audio/ogg"}, true
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WAVE")):
		return AudioFormat{"wav", "audio/wav"}, true
	case bytes.HasPrefix(head, []byte("ID3")) && len(head) >= 10 && head[3] <= 4:
		return AudioFormat{"mp3", "audio/mpeg"}, true
	case isMP3Frame(head):
		return AudioFormat{"mp3", "audio/mpeg"}, true
	case len(head) >= 12 && bytes.Equal(head[4:8], []byte("ftyp")) && isAudioBrand(head[8:12]):
		return AudioFormat{"m4a", "audio/mp4"}, true
	}
	return AudioFormat{}, false
}

// isMP3Frame: an MPEG audio layer III frame header (sync, a valid version,
// bit rate and sample rate).
func isMP3Frame(h []byte) bool {
	if len(h) < 4 || h[0] != 0xff || h[1]&0xe0 != 0xe0 {
		return false
	}
	version, layer := (h[1]>>3)&3, (h[1]>>1)&3
	bitrate, rate := h[2]>>4, (h[2]>>2)&3
	return version != 1 && layer == 1 && bitrate != 0 && bitrate != 15 && rate != 3
}

// isAudioBrand: MP4 major brands that browsers and phones record audio in.
func isAudioBrand(b []byte) bool {
	switch string(b) {
	case "M4A ", "M4B ", "mp41", "mp42", "isom", "iso2", "iso4", "iso5", "iso6", "dash", "3gp4", "3gp5", "3gp6", "MSNV":
		return true
	}
	return false
}

// receivedAudio is a recording written to a temporary file.
type receivedAudio struct {
	tmp    string
	size   int64
	format AudioFormat
}

// ErrNotAudio names the refusal of a file that is not a recording.
var ErrNotAudio = errs.New(errs.Unsupported, "the recording must be WebM, Ogg, WAV, MP3 or M4A audio (judged by its contents)")

// receiveAudio streams the multipart field "audio", if the body has one,
// into a temporary file under dir, stopping as soon as it passes maxSize.
// A body that is not multipart, or an empty field, carries no recording
// (nil, nil). Anything refused leaves nothing on disk.
// maxOtherParts is how many form fields besides audio an end request may
// carry before it is refused.
const maxOtherParts = 32

func receiveAudio(body io.Reader, contentType, dir string, maxSize int64) (*receivedAudio, error) {
	if body == nil || contentType == "" {
		return nil, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, nil
	}
	if params["boundary"] == "" {
		return nil, errs.New(errs.Invalid, "the multipart body has no boundary")
	}
	// multipart reads through a 4 KB buffer of its own: straight from the
	// connection that was a read call per 4 KB of a recording.
	br := audioReaders.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() {
		br.Reset(nil) // holds no request body while pooled
		audioReaders.Put(br)
	}()
	mr := multipart.NewReader(br, params["boundary"])
	// Fields that are not ours are read past, but not forever: the route
	// has no body limit (a recording is streamed to disk), so their count
	// and total size are bounded here.
	var otherBytes int64
	for parts := 0; ; parts++ {
		if parts > maxOtherParts {
			return nil, errs.New(errs.Invalid, fmt.Sprintf("the form has more than %d fields; send the recording in the field audio", maxOtherParts))
		}
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, badBody(err)
		}
		if part.FormName() != "audio" {
			// A file under another name would otherwise be dropped
			// silently (the session ends without its recording) or refused
			// as too large: name the field to use instead.
			if part.FileName() != "" {
				return nil, wrongAudioField(part.FormName())
			}
			// Other fields are not ours; read past them, within reason.
			n, err := io.Copy(io.Discard, io.LimitReader(part, 64<<10+1))
			if err != nil {
				return nil, badBody(err)
			}
			if n > 64<<10 {
				return nil, wrongAudioField(part.FormName())
			}
			if otherBytes += n; otherBytes > 64<<10 {
				return nil, errs.New(errs.Invalid, "the form's fields other than audio hold more than 64 KB; send only the recording, in the field audio")
			}
			continue
		}
		return saveAudio(part, dir, maxSize)
	}
}

// wrongAudioField refuses a recording sent in a field not named "audio".
func wrongAudioField(name string) error {
	return errs.InvalidFields(errs.FieldError{Field: "audio", Message: fmt.Sprintf("send the recording in a multipart field named \"audio\", not %q", name)})
}

func saveAudio(r io.Reader, dir string, maxSize int64) (*receivedAudio, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("store recording: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(dir, "tmp"), "audio-*")
	if err != nil {
		return nil, fmt.Errorf("store recording: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	head := make([]byte, 64)
	hn, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, badBody(err)
	}
	if hn == 0 {
		// An empty file field: a form whose recorder caught nothing.
		return nil, nil
	}
	format, known := sniffAudio(head[:hn])
	if !known {
		return nil, ErrNotAudio
	}
	if _, err := f.Write(head[:hn]); err != nil {
		return nil, fmt.Errorf("store recording: %w", err)
	}
	// A multipart part reads a few KB at a time; written as it came that
	// was a write call per 4 KB. Buffered, a megabyte is a few writes.
	// A failed write is the server's disk, not the client's body: it is
	// told apart from a read error (the upload cut short).
	bw := audioWriters.Get().(*bufio.Writer)
	bw.Reset(f)
	defer func() {
		bw.Reset(nil)
		audioWriters.Put(bw)
	}()
	w := &writeErr{w: bw}
	n, err := io.Copy(w, io.LimitReader(r, maxSize-int64(hn)+1))
	if err == nil && w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return nil, fmt.Errorf("store recording: %w", w.err)
	}
	if err != nil {
		return nil, badBody(err)
	}
	if int64(hn)+n > maxSize {
		return nil, errs.TooLargeLimit("recording", maxSize)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("store recording: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store recording: %w", err)
	}
	ok = true
	return &receivedAudio{tmp: f.Name(), size: int64(hn) + n, format: format}, nil
}

// audioReaders and audioWriters keep the buffers a recording passes
// through (64 KB from the connection, 256 KB to the file) from one end to
// the next: allocated afresh, every end cleared 320 KB for the collector
// to take back.
var (
	audioReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	audioWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 256<<10) }}
)

func badBody(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.New(errs.TooLarge, "the request is too large")
	}
	return errs.New(errs.Invalid, "the upload was cut short or is not valid multipart/form-data")
}

// audioName is a recording's stored name: the session and random bytes,
// never anything the client chose.
func audioName(sessionID int64, f AudioFormat) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("session-%d-%s.%s", sessionID, hex.EncodeToString(b[:]), f.Ext)
}

// writeErr remembers its writer's error, so a copy's failure can be told
// apart as the reader's or the writer's. (Being its own type, it also hides
// bufio's ReadFrom, which would hand the copy straight to the file's.)
type writeErr struct {
	w   *bufio.Writer
	err error
}

func (e *writeErr) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
