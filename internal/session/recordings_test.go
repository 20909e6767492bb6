package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lawtutor/socratic/internal/blob"
)

// recordingStores runs fn with the session service keeping recordings in
// SESSION_DIR (the default) and in an S3 bucket (gofakes3, in process),
// as BLOB_URL chooses.
func recordingStores(t *testing.T, fn func(t *testing.T, e *env, store blob.Named)) {
	t.Run("local", func(t *testing.T) {
		e := newEnv(t, nil)
		fn(t, e, e.svc.o.Recordings)
	})
	t.Run("s3", func(t *testing.T) {
		backend := s3mem.New()
		if err := backend.CreateBucket("files"); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(gofakes3.New(backend).Server())
		t.Cleanup(srv.Close)
		s3, err := blob.NewS3(blob.S3Config{Bucket: "files", Prefix: "school", Endpoint: srv.URL, Region: "us-east-1", AccessKey: "test", SecretKey: "test-secret"},
			func(context.Context, string) (bool, error) { return false, nil })
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, nil)
		e.svc.o.Recordings = s3.Named("recordings")
		fn(t, e, e.svc.o.Recordings)
	})
}

// wavForm is a multipart body carrying a WAV recording in field "audio".
func wavForm(t *testing.T, payload string) (*bytes.Buffer, string, []byte) {
	t.Helper()
	wav := append([]byte("RIFF\x24\x00\x10\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x10\x00"), payload...)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("audio", "../../etc/passwd.wav")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(wav)
	w.Close()
	return &body, w.FormDataContentType(), wav
}

// A recording sent with End is kept in the store under a name the server
// chose, read back through Audio, deleted by the retention sweep and by an
// erasure — on the folder and on the bucket alike — and no temporary file
// stays behind.
func TestRecordingsThroughTheStore(t *testing.T) {
	recordingStores(t, func(t *testing.T, e *env, store blob.Named) {
		ctx := context.Background()
		e.svc.o.AudioRetention = 24 * time.Hour
		end := func(who string) (int64, string, []byte) {
			t.Helper()
			st := e.start(t, who)
			body, ct, wav := wavForm(t, who+" speaking")
			res, err := e.svc.End(ctx, e.users[who], st.Session.ID, body, ct)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Session.HasAudio() || res.Session.AudioSize != int64(len(wav)) {
				t.Fatalf("ended session %+v: want its recording of %d bytes", res.Session, len(wav))
			}
			return st.Session.ID, res.Session.AudioName, wav
		}
		id, name, wav := end("student")
		if !validStoredName(name) {
			t.Fatalf("stored as %q", name)
		}
		f, sess, err := e.svc.Audio(ctx, e.users["student"], id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, wav) || sess.AudioType != "audio/wav" {
			t.Fatalf("Audio read %d bytes (%v), type %q; want the %d bytes sent", len(got), err, sess.AudioType, len(wav))
		}
		left, _ := os.ReadDir(filepath.Join(e.audioDir, "tmp"))
		if len(left) != 0 {
			t.Errorf("%d temporary files left", len(left))
		}

		// Retention: a day after the classmate's session ended, the
		// sweeper deletes its recording from the store.
		otherID, otherName, _ := end("classmate")
		e.clock.Add(25 * time.Hour)
		if _, err := e.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Open(ctx, otherName); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the expired recording is still stored: %v", err)
		}
		if _, _, err := e.svc.Audio(ctx, e.users["classmate"], otherID); !errors.Is(err, ErrNoAudio) {
			t.Errorf("Audio of an expired recording: %v", err)
		}
		if _, err := store.Open(ctx, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the student's recording, also past retention, is still stored: %v", err)
		}

		// Erasure: a fresh recording goes with its student.
		e.svc.o.AudioRetention = 0
		_, kept, _ := end("student")
		if r, err := store.Open(ctx, kept); err != nil {
			t.Fatal(err)
		} else {
			r.Close()
		}
		if err := e.svc.EraseUser(ctx, e.users["admin"], e.users["student"].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Open(ctx, kept); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the erased student's recording is still stored: %v", err)
		}
	})
}

func validStoredName(name string) bool {
	return len(name) > len("session-") && name[:8] == "session-" && filepath.Base(name) == name
}

// The voice platform's recording of a call goes through the same store:
// it replaces the browser's upload, whose file is deleted from the store.
func TestVoiceAudioThroughTheStore(t *testing.T) {
	recordingStores(t, func(t *testing.T, e *env, store blob.Named) {
		ctx := context.Background()
		st := e.start(t, "student")
		body, ct, _ := wavForm(t, "the browser's recording")
		res, err := e.svc.End(ctx, e.users["student"], st.Session.ID, body, ct)
		if err != nil {
			t.Fatal(err)
		}
		browser := res.Session.AudioName
		if _, err := e.db.Write.Exec(`INSERT INTO voice_conversations (session_id, conversation_id, created_at) VALUES (?, 'conv-1', '2026-11-18T10:00:00.000000Z')`, st.Session.ID); err != nil {
			t.Fatal(err)
		}
		_, _, wav := wavForm(t, "both voices, as the call was heard")
		a, err := e.svc.ReceiveVoiceAudio(bytes.NewReader(wav))
		if err != nil {
			t.Fatal(err)
		}
		if stored, err := e.svc.StoreVoiceAudio(ctx, "conv-1", a); err != nil || !stored {
			t.Fatalf("stored %v, %v", stored, err)
		}
		f, sess, err := e.svc.Audio(ctx, e.users["student"], st.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(f)
		f.Close()
		if !bytes.Equal(got, wav) || sess.AudioName == browser {
			t.Fatalf("Audio gives %d bytes as %s; want the platform's %d bytes", len(got), sess.AudioName, len(wav))
		}
		if _, err := store.Open(ctx, browser); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the replaced browser recording is still stored: %v", err)
		}
		left, _ := os.ReadDir(filepath.Join(e.audioDir, "tmp"))
		if len(left) != 0 {
			t.Errorf("%d temporary files left", len(left))
		}
	})
}
