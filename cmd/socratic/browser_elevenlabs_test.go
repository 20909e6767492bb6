package main

// The web client in ElevenLabs agent mode (issue 17, acceptance: "the
// browser test of the web client runs the ElevenLabs path against the
// fake, SDK transport stubbed at the WebSocket"): the real binary with
// VOICE_PROVIDER=elevenlabs against the fake ElevenLabs API (which mints
// the signed URL at start), and the official SDK, vendored, running in the
// page — only its WebSocket is a stub that speaks the conversation
// protocol (external-apis.md §2(b)) and records what the SDK sent.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/voice/elevenfake"
)

// elevenSocket is an init script that replaces window.WebSocket, for
// ElevenLabs' conversation address only, with a stub of the agent's side:
// it opens (or, with window.__elRefuse, fails as a refused connection
// does: error, then close 1006), answers the SDK's
// conversation_initiation_client_data with conversation_initiation_metadata,
// and records in window.__el the addresses and subprotocols the SDK
// connected with, every message it sent (audio chunks only counted) and
// how the SDK closed it. window.__elEmit(event) delivers a server event.
// It also records the answer to the session's start (window.__startAnswer)
// as the server sent it.
const elevenSocket = `(() => {
  const Real = window.WebSocket;
  const el = window.__el = { urls: [], protocols: [], sent: [], audio: 0, sockets: [], closed: null };
  class StubSocket extends EventTarget {
    constructor(url, protocols) {
      super();
      if (!/\/v1\/convai\/conversation\b/.test(String(url))) return new Real(url, protocols);
      this.url = String(url);
      this.protocol = 'convai';
      this.readyState = 0;
      this.binaryType = 'blob';
      el.urls.push(this.url);
      el.protocols.push([].concat(protocols || []));
      el.sockets.push(this);
      setTimeout(() => {
        if (window.__elRefuse) {
          this.readyState = 3;
          this.dispatchEvent(new Event('error'));
          this.dispatchEvent(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
          return;
        }
        this.readyState = 1;
        this.dispatchEvent(new Event('open'));
      }, 30);
    }
    send(data) {
      if (this.readyState !== 1) throw new DOMException('not open', 'InvalidStateError');
      let m;
      try { m = JSON.parse(data); } catch { el.sent.push({ unparsed: String(data) }); return; }
      if (m.user_audio_chunk !== undefined) { el.audio++; return; }
      el.sent.push(m);
      if (m.type === 'conversation_initiation_client_data') {
        setTimeout(() => this.emit({ type: 'conversation_initiation_metadata', conversation_initiation_metadata_event: {
          conversation_id: 'conv_browser_test_1', agent_output_audio_format: 'pcm_16000', user_input_audio_format: 'pcm_16000' } }), 20);
      }
    }
    emit(ev) {
      if (this.readyState !== 1) return;
      this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(ev) }));
    }
    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      el.closed = { code, reason };
      setTimeout(() => this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean: true })), 0);
    }
  }
  StubSocket.CONNECTING = 0; StubSocket.OPEN = 1; StubSocket.CLOSING = 2; StubSocket.CLOSED = 3;
  window.WebSocket = StubSocket;
  window.__elEmit = (ev) => el.sockets[el.sockets.length - 1].emit(ev);

  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    const u = typeof input === 'string' ? input : input.url;
    if (/\/api\/sessions\/start$/.test(u) && res.ok) window.__startAnswer = await res.clone().json();
    return res;
  };
})();`

const elevenAgentID = "agent_7101browsertest0000000000"

// startElevenApp is the binary in ElevenLabs agent mode against a fake.
func startElevenApp(t *testing.T) (*appServer, *elevenfake.Server) {
	t.Helper()
	fake := elevenfake.New(t)
	a := startApp(t, "VOICE_PROVIDER=elevenlabs", "ELEVENLABS_API_KEY="+elevenfake.Key,
		"ELEVENLABS_BASE_URL="+fake.URL, "ELEVENLABS_AGENT_ID="+elevenAgentID)
	return a, fake
}

// startElevenSession signs the student in and starts a session of the
// week from its page; it returns the start's answer as the page got it.
func startElevenSession(t *testing.T, p *page, sc courseWorld, username string) map[string]any {
	t.Helper()
	p.signIn(username, studentPassword)
	p.visit(fmt.Sprintf("/weeks/%d", sc.weekID))
	p.click("button", "Start session")
	p.waitFor("timer", "Time left")
	var start map[string]any
	raw := p.evalString(`JSON.stringify(window.__startAnswer || null)`)
	if err := json.Unmarshal([]byte(raw), &start); err != nil || start == nil {
		t.Fatalf("the start's answer was not seen: %q %v", raw, err)
	}
	return start
}

// TestBrowserElevenLabsAgent: a session in agent mode connects the SDK to
// the signed URL minted at start, passing the session token (as
// custom_llm_extra_body), the dynamic variables and the first message;
// answers the agent's pings; shows what the agent and the student said
// (the SDK's agent_response and user_transcript events) in the
// conversation log, without repeating the opening question; the countdown
// runs; mute reaches the SDK; End closes the conversation and ends the
// session on the server.
func TestBrowserElevenLabsAgent(t *testing.T) {
	a, fake := startElevenApp(t)
	sc := setupCourse(t, a)
	tok := a.addStudent(t, sc, "eli.vance", "Eli Vance")
	p := openPage(t, a.base, withInitScript(elevenSocket), withInitScript(`if (sessionStorage.getItem('test.forgetActivation')) {
  Object.defineProperty(navigator, 'userActivation', { value: { hasBeenActive: false, isActive: false } });
}`))
	start := startElevenSession(t, p, sc, "eli.vance")
	id := sessionIDFromPage(t, p)

	v, _ := start["voice"].(map[string]any)
	if v["provider"] != "elevenlabs" || v["mode"] != "agent" {
		t.Fatalf("the start's voice block: %v", v)
	}
	signed, _ := v["signed_url"].(string)
	sessTok, _ := v["session_token"].(string)
	first, _ := v["first_message"].(string)
	if signed == "" || sessTok == "" || first == "" {
		t.Fatalf("the start's voice block lacks the signed URL, session token or first message: %v", v)
	}
	if n := fake.Count(elevenfake.RouteSignedURL); n != 1 {
		t.Errorf("the fake minted %d signed URLs, want 1", n)
	}
	if u, err := url.Parse(signed); err != nil || !strings.HasPrefix(fake.URL, "http://"+u.Host) || u.Query().Get("agent_id") != elevenAgentID {
		t.Errorf("the signed URL %q is not the fake's for agent %s", signed, elevenAgentID)
	}

	// The SDK connected to the signed URL (it adds its source and version)
	// and sent the initiation data: the session token, the dynamic
	// variables and the first message, as start gave them.
	waitUntil(t, p, wait, "the SDK's initiation data", `window.__el.sent.some(m => m.type === 'conversation_initiation_client_data')`)
	urls := p.evalStrings(`window.__el.urls`)
	if len(urls) != 1 || !strings.HasPrefix(urls[0], signed+"&source=") {
		t.Errorf("the SDK connected to %q, want the signed URL %q", urls, signed)
	}
	if protos := p.evalStrings(`window.__el.protocols[0]`); len(protos) != 1 || protos[0] != "convai" {
		t.Errorf("the SDK asked for subprotocols %v", protos)
	}
	var init struct {
		Override struct {
			Agent struct {
				FirstMessage string `json:"first_message"`
			} `json:"agent"`
		} `json:"conversation_config_override"`
		Extra   map[string]any `json:"custom_llm_extra_body"`
		Dynamic map[string]any `json:"dynamic_variables"`
	}
	raw := p.evalString(`JSON.stringify(window.__el.sent.find(m => m.type === 'conversation_initiation_client_data'))`)
	if err := json.Unmarshal([]byte(raw), &init); err != nil {
		t.Fatal(err)
	}
	if init.Extra["session_token"] != sessTok {
		t.Errorf("custom_llm_extra_body %v, want the start's session token", init.Extra)
	}
	wantDyn, _ := v["dynamic_variables"].(map[string]any)
	if len(wantDyn) == 0 || fmt.Sprint(init.Dynamic) != fmt.Sprint(wantDyn) {
		t.Errorf("dynamic_variables sent %v, want the start's %v", init.Dynamic, wantDyn)
	}
	if init.Dynamic["session_id"] != strconv.Itoa(id) || init.Dynamic["student_first_name"] != "Eli" {
		t.Errorf("dynamic_variables %v: not this session's and student's", init.Dynamic)
	}
	if init.Override.Agent.FirstMessage != first {
		t.Errorf("first_message override %q, want %q", init.Override.Agent.FirstMessage, first)
	}
	p.waitText("status", "", "Voice connected")

	// The agent's pings are answered with the same event id; the
	// microphone's audio flows to the agent.
	p.eval(`window.__elEmit({type: 'ping', ping_event: {event_id: 41, ping_ms: 25}})`)
	waitUntil(t, p, wait, "a pong for ping 41", `window.__el.sent.some(m => m.type === 'pong' && m.event_id === 41)`)
	waitUntil(t, p, wait, "the microphone's audio sent to the agent", `window.__el.audio > 0`)

	// The conversation as the platform heard and spoke it joins the log;
	// the agent's first words (the opening question, already shown) are
	// not repeated.
	const said = "The state has to give notice and a hearing before it cuts off welfare benefits."
	const reply = "Good. What kind of hearing did Goldberg v. Kelly require, and why before the termination?"
	p.eval(fmt.Sprintf(`window.__elEmit({type: 'agent_response', agent_response_event: {agent_response: %q, event_id: 1}})`, first))
	p.eval(fmt.Sprintf(`window.__elEmit({type: 'user_transcript', user_transcription_event: {user_transcript: %q, event_id: 2}})`, said))
	p.eval(fmt.Sprintf(`window.__elEmit({type: 'agent_response', agent_response_event: {agent_response: %q, event_id: 3}})`, reply))
	p.waitText("log", "Conversation", reply)
	turns := p.evalStrings(`[...document.querySelectorAll('[role="log"] li')].map(li => li.children[0].textContent + ': ' + li.children[1].textContent.trim())`)
	want := []string{"Tutor: " + first, "You: " + said, "Tutor: " + reply}
	if strings.Join(turns, "\n") != strings.Join(want, "\n") {
		t.Errorf("the log shows\n%s\nwant\n%s", strings.Join(turns, "\n"), strings.Join(want, "\n"))
	}

	// The countdown runs from the server's expires_at.
	t1 := p.text("timer", "Time left")
	time.Sleep(2200 * time.Millisecond)
	t2 := p.text("timer", "Time left")
	if !clock.MatchString(t1) || !clock.MatchString(t2) || secondsOf(t2) >= secondsOf(t1) {
		t.Errorf("the timer went from %q to %q", t1, t2)
	}

	// Mute: the tutor's voice and the microphone, as toggles.
	p.click("button", "Mute tutor voice")
	if !p.evalBool(`[...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Mute tutor voice' && b.getAttribute('aria-pressed') === 'true')`) {
		t.Error("Mute tutor voice is not pressed after a press")
	}
	p.click("button", "Mute microphone")
	p.waitText("status", "", "microphone is muted")
	p.axe("session (ElevenLabs agent)")
	p.screenshot("student-session-elevenlabs")

	// A reload in a browser that forgets the press on the page across it
	// (Chromium keeps it; the test makes this page forget it): the browser
	// lets the SDK start its audio only after a press, so the student
	// presses Start talking; the conversation connects again with the same
	// session token.
	p.eval(`sessionStorage.setItem('test.forgetActivation', '1'); location.reload()`)
	p.waitFor("button", "Start talking")
	p.waitText("status", "", "Press Start talking")
	if n := len(p.evalStrings(`window.__el.urls`)); n != 0 {
		t.Errorf("after a reload the SDK connected before a press (%d connections)", n)
	}
	p.click("button", "Start talking")
	p.waitText("status", "", "Voice connected")
	if got := p.evalString(`window.__el.sent.find(m => m.type === 'conversation_initiation_client_data').custom_llm_extra_body.session_token`); got != sessTok {
		t.Errorf("after a reload the SDK passed session token %q", got)
	}
	p.waitText("log", "Conversation", first)

	// End closes the conversation (normally, 1000) and ends the session.
	p.click("button", "End session")
	p.waitText("status", "", "You ended the session")
	if code := p.evalFloat(`window.__el.closed ? window.__el.closed.code : -1`); code != 1000 {
		t.Errorf("the SDK closed the conversation with %v, want 1000", code)
	}
	s, _ := sessionDetail(t, a, tok, id)
	if s["status"] != "ended" {
		t.Errorf("after End the server has the session %v", s["status"])
	}
	if !p.evalBool(`document.querySelector('textarea').disabled`) {
		t.Error("the message box is still enabled after End")
	}
}

// TestBrowserElevenLabsFallback: the agent's connection is refused; the
// student reads why in words, and the session goes on by text (the
// reply streams into the log as in browser mode).
func TestBrowserElevenLabsFallback(t *testing.T) {
	a, _ := startElevenApp(t)
	sc := setupCourse(t, a)
	tok := a.addStudent(t, sc, "fay.wong", "Fay Wong")
	p := openPage(t, a.base, withInitScript(elevenSocket), withInitScript(`window.__elRefuse = true;`), withMobile())
	startElevenSession(t, p, sc, "fay.wong")
	id := sessionIDFromPage(t, p)

	note := p.waitText("status", "", "voice conversation is not available")
	if !strings.Contains(note, "could not be reached") || strings.Contains(note, "{") {
		t.Errorf("the fallback says %q, want why in words", note)
	}
	if n := len(p.evalStrings(`window.__el.urls`)); n != 1 {
		t.Errorf("the SDK tried %d connections, want 1", n)
	}
	// Where the browser can listen, its own push-to-talk takes over.
	if p.evalBool(`!!(window.SpeechRecognition || window.webkitSpeechRecognition)`) {
		if !strings.Contains(note, "press Speak") {
			t.Errorf("the fallback says %q, want the browser's own voice offered", note)
		}
		p.waitFor("button", "Speak")
	}
	if p.evalBool(`[...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'Mute microphone')`) {
		t.Error("Mute microphone is offered with no voice conversation")
	}

	const msg = "Due process requires notice and an opportunity to be heard."
	p.fill("textbox", "Message", msg)
	p.press("\r")
	replies := waitReplyDone(t, p, 2)
	_, stored := sessionDetail(t, a, tok, id)
	if len(stored) != 3 || stored[1].Content != msg || stored[2].Content != replies[1] {
		t.Errorf("the stored transcript %+v; want the typed message and the reply shown (%q)", stored, replies)
	}
	p.axe("session (ElevenLabs fallback)")
	p.screenshot("student-session-elevenlabs-fallback")
}

// secondsOf reads m:ss.
func secondsOf(s string) int {
	m, sec, _ := strings.Cut(s, ":")
	a, _ := strconv.Atoi(m)
	b, _ := strconv.Atoi(sec)
	return a*60 + b
}

// recordPlays is an init script that records each audio the page plays
// (window.__plays: its source, the type and size of the blob behind it,
// and how playing went), playing it as usual.
const recordPlays = `(() => {
  window.__plays = [];
  const blobs = new Map();
  const create = URL.createObjectURL;
  URL.createObjectURL = function (b) { const u = create.call(URL, b); blobs.set(u, b); return u; };
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    const b = blobs.get(this.src);
    const rec = { src: this.src, type: b ? b.type : '', size: b ? b.size : 0, outcome: 'pending' };
    window.__plays.push(rec);
    const p = play.call(this);
    p.then(() => { rec.outcome = 'playing'; }, (e) => { rec.outcome = e.name; });
    return p;
  };
})();`

// TestBrowserElevenLabsPipeline: without an agent (pipeline mode) the
// session is held by text and the opening question and each finished reply
// are spoken by the server
// (POST /speech, ElevenLabs' streamed text-to-speech of the stored reply,
// never text the page sends) and played by the page.
func TestBrowserElevenLabsPipeline(t *testing.T) {
	fake := elevenfake.New(t)
	a := startApp(t, "VOICE_PROVIDER=elevenlabs", "ELEVENLABS_API_KEY="+elevenfake.Key, "ELEVENLABS_BASE_URL="+fake.URL)
	sc := setupCourse(t, a)
	a.addStudent(t, sc, "gus.berg", "Gus Berg")
	p := openPage(t, a.base, withInitScript(elevenSocket), withInitScript(recordPlays))
	start := startElevenSession(t, p, sc, "gus.berg")
	if v, _ := start["voice"].(map[string]any); v["mode"] != "pipeline" {
		t.Fatalf("the start's voice block: %v", v)
	}
	// The opening question is spoken (a reply arriving meanwhile would
	// interrupt it, so the test waits).
	waitUntil(t, p, wait, "the opening played", `window.__plays.length === 1 && window.__plays[0].outcome !== 'pending'`)
	p.fill("textbox", "Message", "Notice has to come before the hearing.")
	p.press("\r")
	replies := waitReplyDone(t, p, 2)
	waitUntil(t, p, wait, "the reply played", `window.__plays.length === 2 && window.__plays[1].outcome !== 'pending'`)
	plays := p.evalStrings(`window.__plays.map(p => p.type + ' ' + p.outcome + ' ' + (p.size > 0))`)
	if plays[0] != "audio/mpeg playing true" || plays[1] != "audio/mpeg playing true" {
		t.Errorf("the page played %q, want the server's audio/mpeg, twice", plays)
	}
	tts := fake.Requests(elevenfake.RouteTTS)
	if len(tts) != 2 {
		t.Fatalf("ElevenLabs was asked to speak %d times, want 2 (the opening and the reply)", len(tts))
	}
	for i, r := range tts {
		var body struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(r.Body, &body)
		if body.Text != replies[i] {
			t.Errorf("ElevenLabs spoke %q, want the tutor's words shown, %q", body.Text, replies[i])
		}
	}
	if n := len(p.evalStrings(`window.__el.urls`)); n != 0 {
		t.Errorf("pipeline mode opened %d agent conversations", n)
	}
	// Muted, the next reply is not spoken.
	p.click("button", "Mute tutor voice")
	p.fill("textbox", "Message", "And the hearing must be before termination.")
	p.press("\r")
	waitReplyDone(t, p, 3)
	time.Sleep(500 * time.Millisecond)
	if n := fake.Count(elevenfake.RouteTTS); n != 2 {
		t.Errorf("muted, the reply was still sent to be spoken (%d requests)", n)
	}
}
