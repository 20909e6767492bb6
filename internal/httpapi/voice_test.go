package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/voice"
	"github.com/lawtutor/socratic/internal/voice/elevenfake"
)

// withElevenLabs points the server's voice layer at fake, in agent mode
// when agentID is set, else in pipeline mode.
func withElevenLabs(fake *elevenfake.Server, agentID string) fixtureOption {
	return func(c *cfgT) {
		c.VoiceProvider = "elevenlabs"
		c.ElevenLabsAPIKey = elevenfake.Key
		c.ElevenLabsBaseURL = fake.URL
		c.ElevenLabsAgentID = agentID
		c.ElevenLabsTimeout = 300 * time.Millisecond
	}
}

func (w *sessionWorld) start(t testing.TB, persona, body string) response {
	t.Helper()
	if body == "" {
		body = `{"week_id":` + itoa(w.week.ID) + `}`
	}
	return w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.persona[persona], body: body})
}

// settle waits until the fake has had no new request for 100 ms (a call
// cancelled by its sibling's failure may reach it late) and returns the
// count.
func settle(fake *elevenfake.Server) int {
	n := len(fake.Requests(""))
	for {
		time.Sleep(100 * time.Millisecond)
		m := len(fake.Requests(""))
		if m == n {
			return n
		}
		n = m
	}
}

func (w *sessionWorld) quota(t testing.TB, persona string) string {
	t.Helper()
	res := w.f.do(request{method: "GET", path: "/api/sessions/quota", token: w.persona[persona]})
	if res.status != 200 {
		t.Fatalf("quota: %d %s", res.status, res.body)
	}
	return string(res.body)
}

// TestStartInAgentModeMintsAfterTheChecks: a start answers the signed URL
// and conversation token ElevenLabs minted, a session token that names the
// session until it expires, the dynamic variables and the first message.
func TestStartInAgentModeMintsAfterTheChecks(t *testing.T) {
	fake := elevenfake.New(t)
	w := newSessionWorld(t, nil, withElevenLabs(fake, "agent_law101"))
	res := w.start(t, "enrolled", `{"week_id":`+itoa(w.week.ID)+`,"voice_id":"21m00Tcm4TlvDq8ikWAM"}`)
	if res.status != 201 {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	m := res.json(t)
	v := m["voice"].(map[string]any)
	id := int64(m["session_id"].(float64))
	if v["provider"] != "elevenlabs" || v["mode"] != "agent" || v["agent_id"] != "agent_law101" || v["voice_id"] != "21m00Tcm4TlvDq8ikWAM" {
		t.Errorf("voice block %v", v)
	}
	signed, _ := v["signed_url"].(string)
	if !strings.HasPrefix(signed, "ws") || !strings.Contains(signed, "agent_id=agent_law101") || !strings.Contains(signed, "conversation_signature=") {
		t.Errorf("signed_url %q", signed)
	}
	if tok, _ := v["conversation_token"].(string); tok == "" || m["voice_token"] != tok || v["token"] != tok {
		t.Errorf("conversation token %v, token %v, voice_token %v", v["conversation_token"], v["token"], m["voice_token"])
	}
	if v["stt_token"] != nil || v["tts_token"] != nil {
		t.Errorf("pipeline tokens in agent mode: %v", v)
	}
	expires, _ := time.Parse(time.RFC3339, m["expires_at"].(string))
	if v["expires_at"] != m["expires_at"] {
		t.Errorf("credentials expire %v, the session %v", v["expires_at"], m["expires_at"])
	}
	sid, exp, err := voice.VerifySessionToken(voice.SessionTokenKey(string(testKey)), v["session_token"].(string), w.clock.Now())
	if err != nil || sid != id || !exp.Equal(expires) {
		t.Errorf("session token names %d until %v (%v); want %d until %v", sid, exp, err, id, expires)
	}
	if v["first_message"] != m["opening_message"] || v["first_message"] == "" {
		t.Errorf("first_message %v, opening %v", v["first_message"], m["opening_message"])
	}
	dv := v["dynamic_variables"].(map[string]any)
	if dv["session_id"] != itoa(id) || dv["student_first_name"] != "Test" || dv["week_title"] != w.week.Title ||
		dv["week_number"] != float64(w.week.Number) || dv["theme"] != m["initial_theme"] || dv["max_duration_seconds"] != 300.0 {
		t.Errorf("dynamic variables %v", dv)
	}
	if fake.Count(elevenfake.RouteSignedURL) != 1 || fake.Count(elevenfake.RouteConvToken) != 1 || fake.Count(elevenfake.RouteSingleUseToken) != 0 {
		t.Errorf("ElevenLabs calls: %v", fake.Requests(""))
	}
	// A voice the account does not have: 422, nothing minted or written.
	mints, sessions := fake.Count(elevenfake.RouteSignedURL), w.f.sessionState()
	if res := w.start(t, "enrolled", `{"week_id":`+itoa(w.week.ID)+`,"voice_id":"no-such-voice"}`); res.status != 422 || !strings.Contains(string(res.body), "voice_id") {
		t.Errorf("unknown voice: %d %s", res.status, res.body)
	}
	if fake.Count(elevenfake.RouteSignedURL) != mints || w.f.sessionState() != sessions {
		t.Errorf("an unknown voice minted or wrote")
	}
	// Refused before ElevenLabs is asked: a week the caller cannot see, a
	// used-up quota.
	before := len(fake.Requests(""))
	if res := w.start(t, "not enrolled", ""); res.status != 404 {
		t.Errorf("not enrolled: %d", res.status)
	}
	w.start(t, "enrolled", `{"week_id":`+itoa(w.week.ID)+`,"mode":"text"}`)
	w.start(t, "enrolled", `{"week_id":`+itoa(w.week.ID)+`,"mode":"text"}`)
	if res := w.start(t, "enrolled", ""); res.status != 429 {
		t.Errorf("fourth start: %d %s", res.status, res.body)
	}
	if after := len(fake.Requests("")); after != before {
		t.Errorf("refused starts called ElevenLabs %d times", after-before)
	}
}

func TestStartInPipelineModeAnswersSingleUseTokens(t *testing.T) {
	fake := elevenfake.New(t)
	w := newSessionWorld(t, nil, withElevenLabs(fake, ""))
	res := w.start(t, "enrolled", "")
	if res.status != 201 {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	m := res.json(t)
	v := m["voice"].(map[string]any)
	stt, _ := v["stt_token"].(string)
	tts, _ := v["tts_token"].(string)
	if v["mode"] != "pipeline" || stt == "" || tts == "" || stt == tts || m["voice_token"] != tts || v["voice_id"] != "JBFqnCBsd6RMkjVDRZzb" {
		t.Errorf("voice block %v", v)
	}
	for _, k := range []string{"signed_url", "conversation_token", "session_token", "agent_id", "dynamic_variables"} {
		if v[k] != nil {
			t.Errorf("pipeline mode answers %s", k)
		}
	}
	var kinds []string
	for _, r := range fake.Requests(elevenfake.RouteSingleUseToken) {
		kinds = append(kinds, r.Path[strings.LastIndex(r.Path, "/")+1:])
	}
	if len(kinds) != 2 || !(kinds[0] == "realtime_scribe" && kinds[1] == "tts_websocket" || kinds[1] == "realtime_scribe" && kinds[0] == "tts_websocket") {
		t.Errorf("single-use tokens asked: %v", kinds)
	}
}

// TestElevenLabsFailingAtStartSpendsNothing: a 5xx, a timeout or a refusal
// at start is 503 with Retry-After; the quota, the sessions and the
// student's active session are as they were; a text start still works.
func TestElevenLabsFailingAtStartSpendsNothing(t *testing.T) {
	fake := elevenfake.New(t)
	w := newSessionWorld(t, nil, withElevenLabs(fake, "agent_law101"))
	if res := w.start(t, "enrolled", `{"week_id":`+itoa(w.week.ID)+`,"mode":"text"}`); res.status != 201 {
		t.Fatalf("text start: %d %s", res.status, res.body)
	}
	cases := []struct {
		name  string
		route string
		b     elevenfake.Behavior
	}{
		{"start-503-signed-url-503", elevenfake.RouteSignedURL, elevenfake.Behavior{Status: 503}},
		{"start-503-token-500", elevenfake.RouteConvToken, elevenfake.Behavior{Status: 500}},
		{"start-503-timeout", elevenfake.RouteSignedURL, elevenfake.Behavior{Delay: 3 * time.Second}},
		{"start-503-refused", elevenfake.RouteConvToken, elevenfake.Behavior{Status: 401}},
		{"start-503-rate-limited", elevenfake.RouteSignedURL, elevenfake.Behavior{Status: 429}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake.Behave(tc.route, tc.b)
			defer fake.Behave(tc.route, elevenfake.Behavior{})
			quota, sessions, audit := w.quota(t, "enrolled"), w.f.sessionState(), w.f.state().audit
			started := time.Now()
			res := w.start(t, "enrolled", "")
			if res.status != 503 || res.header.Get("Retry-After") == "" {
				t.Fatalf("%d Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
			}
			if took := time.Since(started); took > 2*time.Second {
				t.Errorf("the start took %s with a 300ms ElevenLabs timeout", took)
			}
			assertProblem(t, res)
			if d := res.json(t)["detail"].(string); !strings.Contains(d, "nothing was counted") {
				t.Errorf("detail %q", d)
			}
			if got := w.quota(t, "enrolled"); got != quota {
				t.Errorf("quota %s, was %s", got, quota)
			}
			if got := w.f.sessionState(); got != sessions {
				t.Errorf("sessions changed:\nbefore %s\nafter  %s", sessions, got)
			}
			if got := w.f.state().audit; got != audit {
				t.Errorf("audit grew by %d", got-audit)
			}
		})
	}
	before := settle(fake)
	res := w.start(t, "enrolled", `{"week_id":`+itoa(w.week.ID)+`,"mode":"text"}`)
	if res.status != 201 || res.json(t)["voice"].(map[string]any)["mode"] != "text" || res.json(t)["voice_token"] != nil {
		t.Fatalf("text start: %d %s", res.status, res.body)
	}
	if len(fake.Requests("")) != before {
		t.Errorf("a text start called ElevenLabs")
	}
	// /api/health tells what happened, without a secret, and without
	// asking ElevenLabs.
	fake.Behave(elevenfake.RouteSignedURL, elevenfake.Behavior{Status: 503})
	w.start(t, "enrolled", "")
	before = settle(fake)
	h := w.f.do(request{method: "GET", path: "/api/health"})
	if len(fake.Requests("")) != before {
		t.Errorf("the health probe called ElevenLabs")
	}
	hv := h.json(t)["components"].(map[string]any)["voice"].(map[string]any)
	le, _ := hv["last_error"].(string)
	if hv["status"] != "error" || hv["provider"] != "elevenlabs" || !strings.Contains(le, "503") || h.json(t)["status"] != "degraded" {
		t.Errorf("health voice %v", hv)
	}
	for _, secret := range []string{elevenfake.Key, fake.URL, "127.0.0.1", "sig_"} {
		if bytes.Contains(h.body, []byte(secret)) {
			t.Errorf("health names %q: %s", secret, h.body)
		}
	}
	// /metrics counts the calls and the failures by kind.
	mres := w.f.do(request{method: "GET", path: "/metrics", token: "scrape-token-123", remote: "198.51.100.7:5000"})
	for _, want := range []string{
		`socratic_elevenlabs_errors_total{kind="unavailable",op="signed_url"} 2`,
		`socratic_elevenlabs_errors_total{kind="timeout",op="signed_url"} 1`,
		`socratic_elevenlabs_errors_total{kind="unauthorized",op="conversation_token"} 1`,
		`socratic_elevenlabs_errors_total{kind="rate_limited",op="signed_url"} 1`,
		`socratic_elevenlabs_request_duration_seconds_count{op="conversation_token"}`,
	} {
		if !bytes.Contains(mres.body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	fake.Behave(elevenfake.RouteSignedURL, elevenfake.Behavior{})
	if res := w.start(t, "enrolled", ""); res.status != 201 {
		t.Fatalf("start after recovery: %d %s", res.status, res.body)
	}
	hv = w.f.do(request{method: "GET", path: "/api/health"}).json(t)["components"].(map[string]any)["voice"].(map[string]any)
	if hv["status"] != "ok" || hv["last_error"] == nil {
		t.Errorf("after a success: %v", hv)
	}
}

func TestVoicesAreCachedAndBrowserModeHasNone(t *testing.T) {
	fake := elevenfake.New(t)
	f := newFixture(t, withElevenLabs(fake, ""))
	for range 3 {
		res := f.do(request{method: "GET", path: "/api/voice/voices", token: f.tokenOf["student"]})
		items, _ := res.json(t)["items"].([]any)
		if res.status != 200 || len(items) != 3 || items[0].(map[string]any)["voice_id"] != "JBFqnCBsd6RMkjVDRZzb" || items[0].(map[string]any)["preview_url"] == nil {
			t.Fatalf("voices: %d %s", res.status, res.body)
		}
	}
	if n := fake.Count(elevenfake.RouteVoices); n != 1 {
		t.Errorf("three listings reached ElevenLabs %d times", n)
	}
	if res := f.do(request{method: "GET", path: "/api/voice/voices"}); res.status != 401 {
		t.Errorf("anonymous: %d", res.status)
	}
	b := newFixture(t)
	if res := b.do(request{method: "GET", path: "/api/voice/voices", token: b.tokenOf["student"]}); res.status != 200 || string(bytes.TrimSpace(res.body)) != `{"items":[]}` {
		t.Errorf("browser mode: %d %s", res.status, res.body)
	}
	// ElevenLabs down with nothing listed before: 503.
	down := elevenfake.New(t)
	down.Behave(elevenfake.RouteVoices, elevenfake.Behavior{Status: 502})
	d := newFixture(t, withElevenLabs(down, ""))
	if res := d.do(request{method: "GET", path: "/api/voice/voices", token: d.tokenOf["student"]}); res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Errorf("down: %d %s", res.status, res.body)
	}
}

// speechWorld is a pipeline-mode session world served over a real socket,
// with the student's session started.
func speechWorld(t testing.TB, opts ...fixtureOption) (*sessionWorld, *elevenfake.Server, *httptest.Server, int64) {
	fake := elevenfake.New(t)
	w := newSessionWorld(t, nil, append([]fixtureOption{withElevenLabs(fake, "")}, opts...)...)
	srv := httptest.NewServer(w.f.srv.Handler())
	t.Cleanup(srv.Close)
	res := w.start(t, "enrolled", "")
	if res.status != 201 {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	return w, fake, srv, int64(res.json(t)["session_id"].(float64))
}

func speak(ctx context.Context, t testing.TB, base, token string, id int64, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/sessions/"+itoa(id)+"/speech", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSpeechStreamsTheStoredReplyAsItArrives: the first bytes reach the
// client while the fake still holds the rest of the audio; the words
// spoken are the tutor's stored reply.
func TestSpeechStreamsTheStoredReplyAsItArrives(t *testing.T) {
	w, fake, srv, id := speechWorld(t)
	fake.Hold = make(chan struct{})
	res := speak(context.Background(), t, srv.URL, w.persona["enrolled"], id, "")
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("speech: %d %s", res.StatusCode, res.Header)
	}
	first := make([]byte, 4)
	if _, err := io.ReadFull(res.Body, first); err != nil || first[0] != 0xFF {
		t.Fatalf("first bytes %x, %v", first, err)
	}
	tts := fake.Requests(elevenfake.RouteTTS)
	if len(tts) != 1 || !tts[0].Ended.IsZero() {
		t.Fatalf("the fake had finished before the client read a byte: %+v", tts)
	}
	close(fake.Hold)
	rest, err := io.ReadAll(res.Body)
	if err != nil || len(rest)+4 != fake.ChunkSize*fake.Chunks {
		t.Fatalf("%d bytes, want %d: %v", len(rest)+4, fake.ChunkSize*fake.Chunks, err)
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	opening := detail["transcript"].([]any)[0].(map[string]any)
	if !bytes.Contains(tts[0].Body, []byte(jsonString(opening["content"].(string)))) || tts[0].Path != "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream" {
		t.Errorf("spoken %s %s, want the opening %q", tts[0].Path, tts[0].Body, opening["content"])
	}
	// The same turn by its id.
	turnID := int64(opening["id"].(float64))
	res2 := speak(context.Background(), t, srv.URL, w.persona["enrolled"], id, `{"turn_id":`+itoa(turnID)+`}`)
	io.Copy(io.Discard, res2.Body)
	res2.Body.Close()
	if res2.StatusCode != 200 || fake.Count(elevenfake.RouteTTS) != 2 {
		t.Errorf("by id: %d", res2.StatusCode)
	}
}

// TestSpeechClientHangUpCancelsUpstream: the client closing the stream
// ends the ElevenLabs request within 100 ms. The bound is the issue's; the
// path is a socket close seen by net/http's background read, a context
// cancel, and the transport closing its connection — all local, so 100 ms
// leaves a wide margin even under -race.
func TestSpeechClientHangUpCancelsUpstream(t *testing.T) {
	w, fake, srv, id := speechWorld(t)
	fake.Hold = make(chan struct{}) // never released: only the hang-up ends it
	ctx, cancel := context.WithCancel(context.Background())
	res := speak(ctx, t, srv.URL, w.persona["enrolled"], id, "")
	if _, err := io.ReadFull(res.Body, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	hungUp := time.Now()
	cancel()
	res.Body.Close()
	select {
	case gone := <-fake.Gone():
		if d := gone.Sub(hungUp); d > 100*time.Millisecond {
			t.Errorf("the upstream request ended %s after the client hung up", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the upstream request outlived the client")
	}
}

// TestSpeechNeverSpeaksOtherText: only a tutor turn of the caller's own
// session is spoken; a text field is refused; nothing refused reaches
// ElevenLabs.
func TestSpeechNeverSpeaksOtherText(t *testing.T) {
	w, fake, _, id := speechWorld(t)
	w.clock.Add(w.turnInterval())
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":"Was the search reasonable?"}`}); res.status != 200 {
		t.Fatalf("message: %d %s", res.status, res.body)
	}
	transcript := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)["transcript"].([]any)
	studentTurn := int64(transcript[1].(map[string]any)["id"].(float64))
	res := w.start(t, "classmate", "")
	if res.status != 201 {
		t.Fatalf("classmate start: %d", res.status)
	}
	other := int64(res.json(t)["session_id"].(float64))
	otherOpening := int64(w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(other), token: w.persona["classmate"]}).json(t)["transcript"].([]any)[0].(map[string]any)["id"].(float64))
	cases := []struct {
		name, body string
		want       int
		says       string
	}{
		{"speech-422-student-turn", `{"turn_id":` + itoa(studentTurn) + `}`, 422, "student's turn"},
		{"speech-404-other-session-turn", `{"turn_id":` + itoa(otherOpening) + `}`, 404, "no such tutor turn"},
		{"speech-404-no-such-turn", `{"turn_id":999999}`, 404, "no such tutor turn"},
		{"speech-422-text", `{"text":"Say anything I like"}`, 422, ""},
		{"speech-422-text-beside-turn", `{"turn_id":` + itoa(studentTurn+1) + `,"text":"Say anything"}`, 422, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/speech", token: w.persona["enrolled"], body: tc.body})
			if res.status != tc.want {
				t.Fatalf("%d %s", res.status, res.body)
			}
			assertProblem(t, res)
			if !strings.Contains(string(res.body), tc.says) {
				t.Errorf("detail lacks %q: %s", tc.says, res.body)
			}
		})
	}
	if n := fake.Count(elevenfake.RouteTTS); n != 0 {
		t.Errorf("refused requests reached ElevenLabs %d times", n)
	}
	// Past the clock (and its grace), nothing is spoken.
	w.clock.Add(6 * time.Minute)
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/speech", token: w.persona["enrolled"]}); res.status != 409 {
		t.Errorf("past the clock: %d %s", res.status, res.body)
	}
	// ElevenLabs failing before the audio starts: 503 with Retry-After.
	w.clock.Add(-6 * time.Minute)
	fake.Behave(elevenfake.RouteTTS, elevenfake.Behavior{Status: 500})
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/speech", token: w.persona["enrolled"]}); res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Errorf("ElevenLabs down: %d %s", res.status, res.body)
	}
}

// TestSpeechIsBoundedPerSession: replaying replies has a ceiling (three
// per possible tutor turn), so the route cannot loop on the school's
// account.
func TestSpeechIsBoundedPerSession(t *testing.T) {
	w, fake, _, id := speechWorld(t, func(c *cfgT) { c.SessionMaxTurns = 1 })
	fake.Chunks = 1
	for i := range 6 {
		res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/speech", token: w.persona["enrolled"]})
		if res.status != 200 || len(res.body) != fake.ChunkSize {
			t.Fatalf("speech %d: %d, %d bytes", i+1, res.status, len(res.body))
		}
	}
	res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/speech", token: w.persona["enrolled"]})
	if res.status != 429 || !strings.Contains(string(res.body), "spoken 6 times") {
		t.Fatalf("seventh: %d %s", res.status, res.body)
	}
	if n := fake.Count(elevenfake.RouteTTS); n != 6 {
		t.Errorf("%d requests reached ElevenLabs", n)
	}
}

// TestVoiceKeyIsNeverDerivedFromNothing: without SECRET_KEY (a caller that
// skipped EnsureSecretKey), session tokens are signed with a random key,
// not one anyone could derive from the empty string.
func TestVoiceKeyIsNeverDerivedFromNothing(t *testing.T) {
	a, b := voiceKey(""), voiceKey("")
	if bytes.Equal(a, voice.SessionTokenKey("")) || bytes.Equal(a, b) || len(a) != 32 {
		t.Errorf("empty SECRET_KEY gives key %x, %x", a, b)
	}
	if !bytes.Equal(voiceKey(string(testKey)), voice.SessionTokenKey(string(testKey))) {
		t.Errorf("SECRET_KEY's key is not SessionTokenKey's")
	}
}
