package httpapi

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

// wav is a valid RIFF/WAVE file of n bytes of silence.
func wav(n int) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+n))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(1), uint32(16000), uint32(32000), uint16(2), uint16(16)})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(n))
	b.Write(make([]byte, n))
	return b.Bytes()
}

// recordings are the first bytes of each format a browser or phone
// records, padded with silence.
var recordings = map[string][]byte{
	"webm":      append([]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04"), make([]byte, 4000)...),
	"ogg":       append([]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), make([]byte, 4000)...),
	"wav":       wav(4000),
	"mp3 (ID3)": append([]byte("ID3\x04\x00\x00\x00\x00\x00\x21"), make([]byte, 4000)...),
	"mp3":       append([]byte{0xff, 0xfb, 0x90, 0x64}, make([]byte, 4000)...),
	"m4a":       append([]byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00"), make([]byte, 4000)...),
}

var recordingTypes = map[string]string{"webm": "audio/webm", "ogg": "audio/ogg", "wav": "audio/wav", "mp3 (ID3)": "audio/mpeg", "mp3": "audio/mpeg", "m4a": "audio/mp4"}

// TestRecordings: each format is judged by its bytes and kept under a
// name of the server's choosing; anything else, or anything too big, is
// refused and leaves the session as it was.
func TestRecordings(t *testing.T) {
	w := newSessionWorld(t, nil, func(c *cfgT) {
		c.RateLimitConversationsPerWeek = 100
		c.MaxAudioSize = 64 << 10
	})
	end := func(id int64, filename string, data []byte) response {
		body, ct := multipartBody("audio", filename, data)
		return w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: body, contentType: ct})
	}
	for name, data := range recordings {
		t.Run(name, func(t *testing.T) {
			id := w.startAs(t, "enrolled")
			res := end(id, "../../etc/passwd", data)
			if res.status != 200 || res.json(t)["message"] != "Session ended successfully" {
				t.Fatalf("end: %d %s", res.status, res.body)
			}
			got := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id) + "/audio", token: w.persona["teaching"]})
			if got.status != 200 || !bytes.Equal(got.body, data) || got.header.Get("Content-Type") != recordingTypes[name] {
				t.Errorf("audio: %d %s, %d bytes", got.status, got.header.Get("Content-Type"), len(got.body))
			}
			if d := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t); d["has_audio"] != true {
				t.Errorf("has_audio %v", d["has_audio"])
			}
		})
	}
	files := func() []string {
		var out []string
		entries, _ := os.ReadDir(w.f.cfg.SessionDir)
		for _, e := range entries {
			if !e.IsDir() {
				out = append(out, e.Name())
			}
		}
		tmp, _ := os.ReadDir(w.f.cfg.SessionDir + "/tmp")
		for _, e := range tmp {
			out = append(out, "tmp/"+e.Name())
		}
		return out
	}
	kept := files()
	if len(kept) != len(recordings) {
		t.Fatalf("files kept: %v", kept)
	}
	for _, name := range kept {
		if !strings.HasPrefix(name, "session-") || strings.Contains(name, "passwd") {
			t.Errorf("a recording kept as %q", name)
		}
	}

	elf := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...)
	for name, c := range map[string]struct {
		filename string
		data     []byte
		status   int
	}{
		"an executable named .webm": {"talk.webm", append([]byte("MZ\x90\x00\x03"), make([]byte, 200)...), 415},
		"an ELF named .mp3":         {"talk.mp3", elf, 415},
		"text":                      {"talk.wav", []byte("just some words, not a recording"), 415},
		"over MAX_AUDIO_SIZE":       {"talk.wav", wav(64 << 10), 413},
	} {
		t.Run(name, func(t *testing.T) {
			id := w.startAs(t, "enrolled")
			before := w.f.sessionState()
			res := end(id, c.filename, c.data)
			if res.status != c.status {
				t.Fatalf("%d, want %d: %s", res.status, c.status, res.body)
			}
			assertProblem(t, res)
			if after := w.f.sessionState(); after != before {
				t.Errorf("a refused recording changed the session")
			}
			if now := files(); len(now) != len(kept) {
				t.Errorf("files after a refusal: %v", now)
			}
		})
	}

	// Ending an ended session answers the same; a recording sent then is
	// kept if it had none (the sweeper may have ended it).
	// An empty file field (a form whose recorder caught nothing) is no
	// recording.
	id := w.startAs(t, "enrolled")
	first := end(id, "", nil)
	if first.status != 200 || first.json(t)["duration_seconds"] != 0.0 {
		t.Fatalf("end with an empty recording: %d %s", first.status, first.body)
	}
	w.clock.Add(3e9)
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"]}); res.status != 200 || string(res.body) != string(first.body) {
		t.Errorf("end again: %d %s, first %s", res.status, res.body, first.body)
	}
	if res := end(id, "late.wav", wav(100)); res.status != 200 {
		t.Errorf("a late recording: %d %s", res.status, res.body)
	}
	if got := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id) + "/audio", token: w.persona["enrolled"]}); got.status != 200 || len(got.body) != len(wav(100)) {
		t.Errorf("late recording: %d", got.status)
	}
	if got := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(w.startAs(t, "enrolled")) + "/audio", token: w.persona["enrolled"]}); got.status != 404 {
		t.Errorf("no recording: %d", got.status)
	}
}
