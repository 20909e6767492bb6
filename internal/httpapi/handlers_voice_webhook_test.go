package httpapi

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/voice"
)

const testWebhookSecret = "wsec_test_0123456789abcdef"

func withWebhookSecret(c *cfgT) { c.ElevenLabsWebhookSecret = testWebhookSecret }

// transcriptionEvent is a post_call_transcription as §2 shows it, the
// client's initiation data carrying init.
func transcriptionEvent(conv string, start time.Time, init map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": "post_call_transcription", "event_timestamp": start.Unix() + 60,
		"data": map[string]any{
			"agent_id": "agent_1", "conversation_id": conv, "status": "done", "user_id": "u-1",
			"transcript": []any{
				map[string]any{"role": "agent", "message": "Let's explore this week's readings.", "tool_calls": nil, "time_in_call_secs": 0},
				map[string]any{"role": "user", "message": "The officer saw two men flee.", "time_in_call_secs": 4},
			},
			"metadata":                            map[string]any{"start_time_unix_secs": start.Unix(), "call_duration_secs": 22, "cost": 296, "termination_reason": ""},
			"analysis":                            map[string]any{"evaluation_criteria_results": map[string]any{}, "data_collection_results": map[string]any{}, "call_successful": "success", "transcript_summary": "The student discussed flight."},
			"conversation_initiation_client_data": init,
			"has_audio":                           true, "has_user_audio": true, "has_response_audio": true,
		},
	})
	return b
}

// audioEvent is a post_call_audio carrying audio as base64, its slashes
// escaped as some JSON encoders do.
func audioEvent(conv string, audio []byte) []byte {
	enc := strings.ReplaceAll(base64.StdEncoding.EncodeToString(audio), "/", `\/`)
	return []byte(`{"type":"post_call_audio","event_timestamp":1739537400,"data":{"agent_id":"agent_1","conversation_id":"` + conv + `","full_audio":"` + enc + `"}}`)
}

func (w *sessionWorld) webhook(body []byte, header string) response {
	h := map[string]string{}
	if header != "" {
		h["elevenlabs-signature"] = header // any case
	}
	return w.f.do(request{method: "POST", path: "/api/voice/webhook", body: string(body), header: h})
}

func (w *sessionWorld) signed(body []byte) string {
	return voice.SignWebhook(testWebhookSecret, body, w.clock.Now())
}

func (w *sessionWorld) conversations(t testing.TB) string {
	t.Helper()
	var s string
	if err := w.f.db.Read.QueryRow(`SELECT coalesce(string_agg(session_id||'|'||conversation_id||'|'||coalesce(transcript_at,'')||'|'||coalesce(audio_name,''), ';' ORDER BY session_id, conversation_id), '') FROM voice_conversations`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// audioFiles lists what is under the recordings directory, temporary
// files included.
func (w *sessionWorld) audioFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(w.f.cfg.SessionDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestVoiceWebhookTranscriptStoredOnce: a signed transcription is kept
// against the session its token names, once however often it is
// delivered (one after another, or at the same instant).
func TestVoiceWebhookTranscriptStoredOnce(t *testing.T) {
	w := newSessionWorld(t, nil, withWebhookSecret)
	id := w.startAs(t, "enrolled")
	ev := transcriptionEvent("conv_1", w.clock.Now(), map[string]any{
		"custom_llm_extra_body": map[string]any{"session_token": w.voiceToken(t, id)},
		"dynamic_variables":     map[string]any{"student_first_name": "Ana", "session_id": 999999},
	})
	for i := range 3 {
		res := w.webhook(ev, w.signed(ev))
		if res.status != 200 || res.json(t)["stored"] != (i == 0) {
			t.Errorf("delivery %d: %d %s", i, res.status, res.body)
		}
	}
	var n int
	var transcript, analysis string
	var session int64
	w.f.db.Read.QueryRow(`SELECT count(*), max(session_id), max(transcript), max(analysis) FROM voice_conversations`).Scan(&n, &session, &transcript, &analysis)
	if n != 1 || session != id || !strings.Contains(transcript, "The officer saw two men flee.") || !strings.Contains(analysis, "call_successful") {
		t.Errorf("%d rows, session %d (want %d), transcript %s, analysis %s", n, session, id, transcript, analysis)
	}

	// Named by its token in the dynamic variables, three deliveries at
	// once: stored once.
	ev2 := transcriptionEvent("conv_2", w.clock.Now().Add(time.Minute), map[string]any{"dynamic_variables": map[string]any{"session_token": w.voiceToken(t, id)}})
	var stored atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			res := w.webhook(ev2, w.signed(ev2))
			if res.status != 200 {
				t.Errorf("concurrent delivery: %d %s", res.status, res.body)
			}
			if res.json(t)["stored"] == true {
				stored.Add(1)
			}
		})
	}
	wg.Wait()
	w.f.db.Read.QueryRow(`SELECT count(*) FROM voice_conversations WHERE conversation_id = 'conv_2' AND session_id = ?`, id).Scan(&n)
	if n != 1 || stored.Load() != 1 {
		t.Errorf("conv_2: %d rows, stored %d times", n, stored.Load())
	}
	// A bare session id, even for a call during the session, names
	// nothing: the client chooses it, so another student could file their
	// call (and its audio) into this session.
	evBare := transcriptionEvent("conv_bare", w.clock.Now().Add(time.Minute), map[string]any{"dynamic_variables": map[string]any{"session_id": strconv.FormatInt(id, 10)}})
	if res := w.webhook(evBare, w.signed(evBare)); res.status != 200 || res.json(t)["stored"] != false || strings.Contains(w.conversations(t), "conv_bare") {
		t.Errorf("a call named only by session id: %d %s", res.status, res.body)
	}
	// A bare session id for a call long after the session: not filed.
	ev3 := transcriptionEvent("conv_3", w.clock.Now().Add(time.Hour), map[string]any{"dynamic_variables": map[string]any{"session_id": id}})
	if res := w.webhook(ev3, w.signed(ev3)); res.status != 200 || res.json(t)["stored"] != false || strings.Contains(w.conversations(t), "conv_3") {
		t.Errorf("a call outside the session: %d %s", res.status, res.body)
	}
}

// TestVoiceWebhookRefusesBadSignatures: a missing header, a wrong or
// stale signature, a body changed after signing, or no secret configured:
// 401, and nothing is stored, audio included.
func TestVoiceWebhookRefusesBadSignatures(t *testing.T) {
	w := newSessionWorld(t, nil, withWebhookSecret)
	id := w.startAs(t, "enrolled")
	tr := transcriptionEvent("conv_1", w.clock.Now(), map[string]any{"custom_llm_extra_body": map[string]any{"session_token": w.voiceToken(t, id)}})
	au := audioEvent("conv_1", recordings["mp3 (ID3)"])
	now := w.clock.Now()
	before, files := w.f.sessionState(), w.audioFiles(t)
	for _, ev := range [][]byte{tr, au} {
		for _, c := range []struct{ name, header string }{
			{"missing", ""},
			{"not a signature", "sha256=abc"},
			{"wrong secret", voice.SignWebhook("another secret", ev, now)},
			{"stale", voice.SignWebhook(testWebhookSecret, ev, now.Add(-31*time.Minute))},
			{"body changed", voice.SignWebhook(testWebhookSecret, append(bytes.Clone(ev), ' '), now)},
		} {
			res := w.webhook(ev, c.header)
			if res.status != 401 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: %d %s", c.name, res.status, res.body)
			}
		}
	}
	if got := w.conversations(t); got != "" {
		t.Errorf("stored %s", got)
	}
	if after := w.f.sessionState(); after != before || len(w.audioFiles(t)) != len(files) {
		t.Errorf("sessions or files changed: %v", w.audioFiles(t))
	}
	// No secret configured: nothing can be verified, so nothing is taken.
	w.f.cfg.ElevenLabsWebhookSecret = ""
	w.f.srv = New(Deps{Config: w.f.cfg, DB: w.f.db, Auth: w.f.auth, Courses: w.f.courses, Documents: w.f.docs, Sessions: w.svc, Logger: w.f.srv.log})
	if res := w.webhook(tr, w.signed(tr)); res.status != 401 || w.conversations(t) != "" {
		t.Errorf("without a secret: %d %s", res.status, res.body)
	}
}

// TestVoiceWebhookAudio: the call's audio becomes the session's recording
// once its transcript has named the session: kept once, replacing a
// recording the browser uploaded, never an earlier call's; audio of a
// conversation nobody holds is acknowledged and dropped.
func TestVoiceWebhookAudio(t *testing.T) {
	w := newSessionWorld(t, nil, withWebhookSecret, func(c *cfgT) { c.RateLimitConversationsPerWeek = 10 })
	id := w.startAs(t, "enrolled")
	token := w.voiceToken(t, id)
	// The student ends the session with the browser's recording.
	body, ct := multipartBody("audio", "rec.webm", recordings["webm"])
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: body, contentType: ct}); res.status != 200 {
		t.Fatalf("end: %d %s", res.status, res.body)
	}
	var browserFile string
	w.f.db.Read.QueryRow(`SELECT audio_name FROM sessions WHERE id = ?`, id).Scan(&browserFile)

	mp3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x21"), bytes.Repeat([]byte("call audio "), 3000)...)
	au := audioEvent("conv_1", mp3)
	// Before its transcript the conversation names no session.
	if res := w.webhook(au, w.signed(au)); res.status != 200 || res.json(t)["stored"] != false {
		t.Errorf("audio first: %d %s", res.status, res.body)
	}
	tr := transcriptionEvent("conv_1", w.clock.Now(), map[string]any{"dynamic_variables": map[string]any{"secret__session_token": token}})
	if res := w.webhook(tr, w.signed(tr)); res.status != 200 || res.json(t)["stored"] != true {
		t.Fatalf("transcript: %d %s", res.status, res.body)
	}
	for i := range 3 {
		if res := w.webhook(au, w.signed(au)); res.status != 200 || res.json(t)["stored"] != (i == 0) {
			t.Errorf("audio delivery %d: %d %s", i, res.status, res.body)
		}
	}
	got := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id) + "/audio", token: w.persona["teaching"]})
	if got.status != 200 || !bytes.Equal(got.body, mp3) || got.header.Get("Content-Type") != "audio/mpeg" {
		t.Errorf("recording: %d %s, %d bytes", got.status, got.header.Get("Content-Type"), len(got.body))
	}
	if _, err := os.Stat(filepath.Join(w.f.cfg.SessionDir, browserFile)); !os.IsNotExist(err) {
		t.Errorf("the browser's recording %s is still on disk: %v", browserFile, err)
	}
	// A second call of the same session does not replace the first's.
	tr2 := transcriptionEvent("conv_2", w.clock.Now(), map[string]any{"custom_llm_extra_body": map[string]any{"session_token": token}})
	au2 := audioEvent("conv_2", recordings["mp3"])
	for _, ev := range [][]byte{tr2, au2} {
		if res := w.webhook(ev, w.signed(ev)); res.status != 200 {
			t.Fatalf("second call: %d %s", res.status, res.body)
		}
	}
	if got := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id) + "/audio", token: w.persona["enrolled"]}); !bytes.Equal(got.body, mp3) {
		t.Errorf("the second call's audio replaced the first's")
	}
	// Not audio, or not base64: refused in words once verified; nothing
	// is left behind.
	for _, c := range []struct {
		name string
		ev   []byte
		want int
	}{
		{"not audio", audioEvent("conv_1", []byte("%PDF-1.7 not a recording at all")), 415},
		{"not base64", []byte(`{"type":"post_call_audio","data":{"conversation_id":"conv_1","full_audio":"!!!!"}}`), 422},
		{"not JSON", []byte(`{"type":"post_call_audio","data":{"conversation_id":"conv_1","full_audio":"AAAA"`), 422},
	} {
		if res := w.webhook(c.ev, w.signed(c.ev)); res.status != c.want {
			t.Errorf("%s: %d %s", c.name, res.status, res.body)
		}
	}
	if files := w.audioFiles(t); len(files) != 1 {
		t.Errorf("files on disk: %v", files)
	}
}

// TestVoiceWebhookLargeAudioStreams: a 20 MB call recording, sent chunked
// as the platform sends it (27 MB of base64 JSON), is stored whole while
// the process's resident memory grows by under 50 MB.
//
// The measure: the kernel's peak resident set (VmHWM in /proc/self/status)
// is reset to the current one (writing 5 to /proc/self/clear_refs) after a
// garbage collection that returns free memory, then read after the
// request: the growth is the peak during the request over where it began,
// client and server both (they share the process), whatever the GC did.
// If the reset is not allowed, a sampler reads VmRSS every 2 ms instead.
// Go's heap in use is sampled too and logged. Holding the body whole would
// cost at least its 27 MB, and decoding it in memory 20 MB more.
func TestVoiceWebhookLargeAudioStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 27 MB")
	}
	w := newSessionWorld(t, nil, withWebhookSecret)
	id := w.startAs(t, "enrolled")
	tr := transcriptionEvent("conv_big", w.clock.Now(), map[string]any{"custom_llm_extra_body": map[string]any{"session_token": w.voiceToken(t, id)}})
	if res := w.webhook(tr, w.signed(tr)); res.status != 200 {
		t.Fatalf("transcript: %d %s", res.status, res.body)
	}
	const size = 20 << 20
	// The body, made as it is sent (twice: once to sign it).
	audio := func() io.Reader {
		head := []byte("ID3\x04\x00\x00\x00\x00\x00\x21")
		return io.MultiReader(bytes.NewReader(head), io.LimitReader(rand.NewChaCha8([32]byte{7}), size-int64(len(head))))
	}
	event := func() io.Reader {
		pr, pw := io.Pipe()
		go func() {
			enc := base64.NewEncoder(base64.StdEncoding, pw)
			_, err := io.Copy(enc, audio())
			if err == nil {
				err = enc.Close()
			}
			pw.CloseWithError(err)
		}()
		return io.MultiReader(strings.NewReader(`{"type":"post_call_audio","event_timestamp":1739537400,"data":{"agent_id":"agent_1","conversation_id":"conv_big","full_audio":"`),
			pr, strings.NewReader(`"}}`))
	}
	ts := strconv.FormatInt(w.clock.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(testWebhookSecret))
	mac.Write([]byte(ts + "."))
	if _, err := io.Copy(mac, event()); err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	io.Copy(want, audio())
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()

	runtime.GC()
	debug.FreeOSMemory()
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	start := procStatus(t, "VmRSS")
	var heap0 runtime.MemStats
	runtime.ReadMemStats(&heap0)
	var peakRSS, peakHeap atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			if r := procStatus(t, "VmRSS"); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peakHeap.Load() {
				peakHeap.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	req, _ := http.NewRequest("POST", srv.URL+"/api/voice/webhook", event())
	req.ContentLength = -1 // chunked, as the platform sends it
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ElevenLabs-Signature", "t="+ts+",v0="+hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resBody, _ := io.ReadAll(res.Body)
	res.Body.Close()
	close(stop)
	sampler.Wait()
	peak := peakRSS.Load()
	if reset {
		peak = max(peak, procStatus(t, "VmHWM"))
	}
	growth := int64(peak) - int64(start)
	t.Logf("20 MB recording: resident set %d MB → peak %d MB (growth %.1f MB; peak from %s); Go heap in use %.1f → peak %.1f MB",
		start>>20, peak>>20, float64(growth)/(1<<20), map[bool]string{true: "VmHWM after a reset", false: "VmRSS sampled every 2 ms"}[reset],
		float64(heap0.HeapInuse)/(1<<20), float64(peakHeap.Load())/(1<<20))
	if res.StatusCode != 200 || !strings.Contains(string(resBody), `"stored":true`) {
		t.Fatalf("webhook: %d %s", res.StatusCode, resBody)
	}
	if growth >= 50<<20 {
		t.Errorf("resident memory grew by %.1f MB receiving a 20 MB recording (limit 50 MB)", float64(growth)/(1<<20))
	}
	var name string
	var stored int64
	w.f.db.Read.QueryRow(`SELECT audio_name, audio_size FROM sessions WHERE id = ?`, id).Scan(&name, &stored)
	f, err := os.Open(filepath.Join(w.f.cfg.SessionDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := sha256.New()
	io.Copy(got, f)
	if stored != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("stored %d bytes, sha256 match %v", stored, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
}

// procStatus reads one "kB" field of /proc/self/status, in bytes.
func procStatus(t testing.TB, field string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: resident memory cannot be measured here")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Skipf("no %s in /proc/self/status", field)
	return 0
}

// walk runs the webhook's streaming reader over doc, the audio string
// collected whole.
func walk(doc string) (out []byte, audio string, err error) {
	w := &jsonWalker{r: bufio.NewReader(strings.NewReader(doc)), max: 1 << 20, onAudio: func(r io.Reader) error {
		b, err := io.ReadAll(r)
		audio = string(b)
		return err
	}}
	err = w.document()
	return w.out, audio, err
}

// TestWebhookWalker: the streaming reader keeps every JSON value as it
// was (white space aside), hands data.full_audio over unescaped, and
// refuses what is not JSON without a panic.
func TestWebhookWalker(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` [ ] `, `{"type":"x","n":-1.5e+3,"t":true,"f":false,"z":null,"s":"a\"b\\c\u00e9\/","arr":[1,[2,{"k":[]}]]}`,
		`{"data":{"conversation_id":"c","full_audio":"QUJD\/RA==\n","after":{"full_audio":"kept"}},"full_audio":"top level is kept"}`,
		"{\"a\" :\t[1 , 2]\r\n}",
	} {
		out, audio, err := walk(doc)
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		var got, want any
		json.Unmarshal([]byte(doc), &want)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Errorf("%s: the copy %s is not JSON: %v", doc, out, err)
			continue
		}
		m, _ := want.(map[string]any)
		if d, ok := m["data"].(map[string]any); ok {
			if audio != "QUJD/RA==\n" {
				t.Errorf("audio %q", audio)
			}
			d["full_audio"] = ""
		}
		if a, b := mustJSON(got), mustJSON(want); a != b {
			t.Errorf("%s:\n got %s\nwant %s", doc, a, b)
		}
	}
	for _, doc := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1 2]`, `{"a":"unterminated`, `{} {}`, `{"data":{"full_audio":"AB`,
		`{"data":{"full_audio":"A\qB"}}`, strings.Repeat("[", 100) + strings.Repeat("]", 100)} {
		if _, _, err := walk(doc); err == nil {
			t.Errorf("%q: accepted", doc)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// FuzzWebhookWalker: never a panic; what it accepts without an audio
// string, it copies as JSON of the same value.
func FuzzWebhookWalker(f *testing.F) {
	f.Add(`{"type":"post_call_transcription","data":{"conversation_id":"c","transcript":[{"role":"user","message":"hi"}]}}`)
	f.Add(`{"data":{"full_audio":"QUJD"}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		out, _, err := walk(doc)
		if err != nil || strings.Contains(doc, "full_audio") || !json.Valid([]byte(doc)) {
			return
		}
		var got, want any
		json.Unmarshal([]byte(doc), &want)
		if err := json.Unmarshal(out, &got); err != nil || mustJSON(got) != mustJSON(want) {
			t.Errorf("%q copied as %q (%v)", doc, out, err)
		}
	})
}

// TestVoiceWebhookRepeatedAudioLeavesNothing: a body that repeats
// full_audio, under a forged signature, is refused and leaves no file
// behind — each copy was once a temporary file left until a restart, a
// way to fill the disk without credentials.
func TestVoiceWebhookRepeatedAudioLeavesNothing(t *testing.T) {
	w := newSessionWorld(t, nil, withWebhookSecret)
	files := func() int {
		n := 0
		filepath.WalkDir(w.f.cfg.SessionDir, func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	before := files()
	one := base64.StdEncoding.EncodeToString(recordings["mp3"])
	body := []byte(`{"type":"post_call_audio","data":{"agent_id":"agent_1","conversation_id":"conv_x","full_audio":"` + one + `","full_audio":"` + one + `","full_audio":"` + one + `"}}`)
	forged := "t=" + strconv.FormatInt(w.clock.Now().Unix(), 10) + ",v0=" + strings.Repeat("0", 64)
	for _, sig := range []string{forged, w.signed(body)} {
		if res := w.webhook(body, sig); res.status == 200 {
			t.Errorf("a body with full_audio three times: %d %s", res.status, res.body)
		}
	}
	if after := files(); after != before {
		t.Errorf("%d files under the session directory after the refusals, %d before", after, before)
	}
}
