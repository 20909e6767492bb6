package main

// The student's screens in headless Chromium against the real binary
// (issue 16, acceptance 2, 3 and 5): an account made through the UI, a
// course joined by code, a session held by text and by browser voice, the
// recording sent with End, a session that runs out of time, past sessions.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// studentPassword is the password addStudent (browser_app_test.go) gives.
const studentPassword = "a long enough password"

// paceStream is an init script that slows the network, not the app: it
// hands the page's fetch of a message stream one server-sent event at a
// time, __pace ms apart (300 unless the test sets another), and records
// each event in window.__streams at the moment it is handed over. The
// offline tutor answers in a few milliseconds, so without this every
// event of a reply arrives in one network read and "streaming" could not
// be told apart from "all at once".
const paceStream = `(() => {
  const realFetch = window.fetch.bind(window);
  window.__pace = 300;
  window.__streams = [];
  window.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    const url = typeof input === 'string' ? input : input.url;
    if (!/\/message\/stream$/.test(url) || !res.ok || !res.body) return res;
    const events = [];
    window.__streams.push(events);
    const reader = res.body.getReader();
    const dec = new TextDecoder(), enc = new TextEncoder();
    let buf = '';
    const body = new ReadableStream({
      async pull(ctrl) {
        for (;;) {
          const i = buf.indexOf('\n\n');
          if (i >= 0) {
            const ev = buf.slice(0, i + 2);
            buf = buf.slice(i + 2);
            await new Promise((r) => setTimeout(r, window.__pace));
            const name = (ev.match(/^event: ?(.*)$/m) || [])[1] || 'message';
            let data = null;
            try { data = JSON.parse((ev.match(/^data: ?(.*)$/m) || [])[1]); } catch {}
            events.push({ event: name, data, t: performance.now() });
            ctrl.enqueue(enc.encode(ev));
            return;
          }
          const { value, done } = await reader.read();
          if (done) { if (buf) ctrl.enqueue(enc.encode(buf)); buf = ''; ctrl.close(); return; }
          buf += dec.decode(value, { stream: true });
        }
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
})();`

// watchReplies is an init script that records, through a MutationObserver,
// every text the conversation's streaming reply shows, in
// window.__shown (one array of {s: text, t: when} per reply, in order).
const watchReplies = `(() => {
  window.__shown = [];
  const seen = new WeakMap();
  const obs = new MutationObserver(() => {
    for (const li of document.querySelectorAll('[role="log"] li[data-streaming="true"]')) {
      let list = seen.get(li);
      if (!list) { list = []; seen.set(li, list); window.__shown.push(list); }
      const said = li.children[1] ? li.children[1].textContent : '';
      if (!list.length || list[list.length - 1].s !== said) list.push({ s: said, t: performance.now() });
    }
  });
  document.addEventListener('DOMContentLoaded', () => obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true }));
})();`

// tutorReplies are the tutor's turns on screen, in order.
const tutorReplies = `[...document.querySelectorAll('[role="log"] li')].filter(li => li.firstElementChild && li.firstElementChild.textContent === 'Tutor').map(li => li.children[1].textContent.trim())`

// transcript is a session's turns as the server stores them.
type shownTurn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Sources []struct {
		Filename string `json:"filename"`
		Page     int    `json:"page"`
	} `json:"sources"`
}

func sessionDetail(t *testing.T, a *appServer, tok string, id int) (map[string]any, []shownTurn) {
	t.Helper()
	st, s := a.api(t, "GET", "/api/sessions/"+strconv.Itoa(id), tok, nil)
	if st != 200 {
		t.Fatalf("get session %d: %d %v", id, st, s)
	}
	raw, _ := json.Marshal(s["transcript"])
	var turns []shownTurn
	if err := json.Unmarshal(raw, &turns); err != nil {
		t.Fatal(err)
	}
	return s, turns
}

// sessionIDFromPage reads the session's id from the screen's address.
func sessionIDFromPage(t *testing.T, p *page) int {
	t.Helper()
	h := p.evalString(`location.hash`)
	m := regexp.MustCompile(`^#/sessions/(\d+)$`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("not on a session screen: %q", h)
	}
	id, _ := strconv.Atoi(m[1])
	return id
}

// waitReplyDone waits until the conversation holds n tutor replies and
// none is still streaming (the log is no longer aria-busy).
func waitReplyDone(t *testing.T, p *page, n int) []string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if p.evalBool(fmt.Sprintf(`document.querySelector('[role="log"]').getAttribute('aria-busy') === 'false' && (%s).length === %d`, tutorReplies, n)) {
			return p.evalStrings(tutorReplies)
		}
		if time.Now().After(deadline) {
			t.Fatalf("never %d finished tutor replies; page text:\n%s", n, p.bodyText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var clock = regexp.MustCompile(`^\d+:[0-5]\d$`)

// TestBrowserStudentTextSession (acceptance 2): a student creates an
// account through the UI, joins with the code, opens the week, starts a
// session, sends three messages by text — each reply streams into the log
// with its sources while the countdown runs — ends it, and finds the
// transcript under Past sessions.
func TestBrowserStudentTextSession(t *testing.T) {
	a := startApp(t)
	sc := setupCourse(t, a)
	p := openPage(t, a.base, withInitScript(paceStream), withInitScript(watchReplies))

	p.visit("/")
	p.waitFor("heading", "Sign in")
	p.axe("student sign-in")
	p.screenshot("student-sign-in")
	p.click("link", "Create an account")
	p.fill("textbox", "Email", "ana.lopez@students.example.edu")
	p.fill("textbox", "Username", "ana.lopez")
	p.fill("textbox", "Full name", "Ana López")
	p.fill("textbox", "Password", studentPassword)
	p.click("button", "Create account")
	p.waitFor("heading", "My courses")
	p.waitText("main", "", "not in any course yet")

	// A wrong code is refused in words; the right one joins.
	p.fill("textbox", "Join code", "NOPE-NOPE")
	p.click("button", "Join")
	if alert := p.waitText("alert", "", "code"); strings.Contains(alert, "{") {
		t.Errorf("the join error shows raw JSON: %q", alert)
	}
	p.fill("textbox", "Join code", sc.joinCode)
	p.click("button", "Join")
	p.waitText("status", "", "You joined "+sc.courseName)
	p.waitFor("link", sc.courseName)
	p.axe("my courses")
	p.screenshot("student-my-courses")

	p.click("link", sc.courseName)
	p.waitFor("heading", sc.courseName)
	p.click("link", "Week 1: Procedural due process")
	p.waitFor("heading", "Week 1: Procedural due process")
	p.waitText("main", "", sc.reading)
	start := p.find("button", "Start session", true)
	if !strings.Contains(start.name, "3 left this week") {
		t.Errorf("Start session reads %q, want the 3 sessions left this week", start.name)
	}
	p.axe("week")
	p.screenshot("student-week")

	p.click("button", "Start session")
	p.waitFor("timer", "Time left")
	first := p.text("timer", "Time left")
	if !clock.MatchString(first) {
		t.Errorf("the timer reads %q, want m:ss", first)
	}
	id := sessionIDFromPage(t, p)
	stuTok := a.login(t, "ana.lopez", studentPassword)
	_, opening := sessionDetail(t, a, stuTok, id)
	if len(opening) != 1 || opening[0].Role != "assistant" {
		t.Fatalf("a new session's transcript: %+v", opening)
	}
	p.waitText("log", "Conversation", opening[0].Content)

	messages := []string{
		"What does due process require before benefits are terminated?",
		"The government must give notice and a hearing before it takes away a property interest.",
		"Goldberg v. Kelly required an evidentiary hearing before welfare benefits ended.",
	}
	for i, msg := range messages {
		p.fill("textbox", "Message", msg)
		if i == 0 {
			p.press("\r") // Enter sends
		} else {
			p.click("button", "Send")
		}
		p.waitText("log", "Conversation", msg)
		if v := p.evalString(`document.querySelector('textarea').value`); v != "" {
			t.Errorf("after sending, the message box still holds %q", v)
		}
		replies := waitReplyDone(t, p, i+2) // the opening and i+1 answers
		if i == 1 {
			p.axe("session (active)")
			p.screenshot("student-session")
		}
		if replies[i+1] == "" {
			t.Fatalf("reply %d is empty", i+1)
		}
	}
	// The timer is the server's clock counting down, not a still label.
	later := p.text("timer", "Time left")
	if !clock.MatchString(later) || later == first {
		t.Errorf("the timer read %q at first and %q after three turns; want it to run", first, later)
	}

	// What the screen shows is what the server stored, reply for reply.
	_, stored := sessionDetail(t, a, stuTok, id)
	var storedReplies, storedMsgs []string
	for _, tr := range stored {
		if tr.Role == "assistant" {
			storedReplies = append(storedReplies, tr.Content)
		} else {
			storedMsgs = append(storedMsgs, tr.Content)
		}
	}
	shown := p.evalStrings(tutorReplies)
	if strings.Join(shown, "\n") != strings.Join(storedReplies, "\n") {
		t.Errorf("the replies on screen:\n%q\ndiffer from the stored transcript:\n%q", shown, storedReplies)
	}
	if strings.Join(storedMsgs, "\n") != strings.Join(messages, "\n") {
		t.Errorf("stored student turns %q, want %q", storedMsgs, messages)
	}
	// Each reply streamed in: the page showed part of it before all of it,
	// each delta's text within moments of its arrival.
	type shownText struct {
		S string  `json:"s"`
		T float64 `json:"t"`
	}
	type streamEvent struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
		T     float64         `json:"t"`
	}
	var streams [][]shownText
	var events [][]streamEvent
	raw, _ := json.Marshal(p.eval(`window.__shown`))
	json.Unmarshal(raw, &streams)
	raw, _ = json.Marshal(p.eval(`window.__streams`))
	json.Unmarshal(raw, &events)
	if len(streams) != len(messages) || len(events) != len(messages) {
		t.Fatalf("watched %d streaming replies and %d streams, want %d: %v", len(streams), len(events), len(messages), streams)
	}
	var lags []float64
	for i, texts := range streams {
		final := storedReplies[i+1]
		partial := false
		for _, s := range texts {
			s := strings.TrimSpace(s.S)
			if s != "" && s != final && strings.HasPrefix(final, s) {
				partial = true
			}
		}
		if !partial {
			t.Errorf("reply %d never showed part of itself before the whole (texts seen: %v)", i+1, texts)
		}
		so := ""
		for _, ev := range events[i] {
			if ev.Event != "delta" {
				continue
			}
			var d struct{ Text string }
			json.Unmarshal(ev.Data, &d)
			so += d.Text
			want := strings.TrimSpace(so)
			found := false
			for _, s := range texts {
				if s.T >= ev.T && strings.HasPrefix(strings.TrimSpace(s.S), want) {
					lags = append(lags, s.T-ev.T)
					found = true
					break
				}
			}
			if !found {
				t.Errorf("reply %d: the text up to %q never showed after its delta arrived", i+1, want)
			}
		}
	}
	if len(lags) > 0 {
		sort.Float64s(lags)
		t.Logf("delta arrival to its text on screen: median %.1f ms, max %.1f ms over %d deltas", lags[len(lags)/2], lags[len(lags)-1], len(lags))
	}
	// Each answer's sources, behind a button, name the uploaded reading.
	if n := p.evalFloat(`[...document.querySelectorAll('[role="log"] button')].filter(b => /^Sources/.test(b.textContent.trim())).length`); int(n) != len(messages) {
		t.Errorf("%v Sources buttons, want one per answer (%d)", n, len(messages))
	}
	for i, tr := range stored {
		if tr.Role == "assistant" && i > 0 && (len(tr.Sources) == 0 || tr.Sources[0].Filename != sc.reading) {
			t.Errorf("stored reply %d has sources %+v", i, tr.Sources)
		}
	}
	p.click("button", "Sources")
	p.waitFor("button", "Sources")
	if got := p.evalBool(`document.querySelector('[role="log"] button[aria-expanded="true"]') !== null`); !got {
		t.Error("Sources did not open")
	}
	p.waitText("log", "Conversation", sc.reading+", page")

	p.click("button", "End session")
	p.waitText("status", "", "You ended the session")
	if !p.evalBool(`document.querySelector('textarea').disabled`) {
		t.Error("the message box is still enabled after End session")
	}
	for _, r := range storedReplies {
		p.waitText("log", "Conversation", r) // the transcript stays readable
	}
	if s, _ := sessionDetail(t, a, stuTok, id); s["status"] != "ended" {
		t.Errorf("after End session the server has the session %v", s["status"])
	}

	p.click("link", "Past sessions")
	p.waitFor("heading", "Past sessions")
	p.waitFor("link", "Week 1: Procedural due process")
	p.axe("past sessions")
	p.screenshot("student-past-sessions")
	p.click("link", "Week 1: Procedural due process")
	p.waitFor("heading", "Week 1: Procedural due process")
	for _, m := range messages {
		p.waitText("log", "Transcript", m)
	}
	for _, r := range storedReplies {
		p.waitText("log", "Transcript", r)
	}
	p.waitText("main", "", "No recording")
	p.axe("past session transcript")
	p.screenshot("student-past-session")

	// The week now counts the session.
	p.visit(fmt.Sprintf("/weeks/%d", sc.weekID))
	if n := p.find("button", "Start session", true).name; !strings.Contains(n, "2 left this week") {
		t.Errorf("after one session, Start session reads %q", n)
	}
}

// fakeSpeech is an init script that replaces the Web Speech APIs with
// stubs the test drives and reads:
//   - SpeechRecognition: window.__recog.emit(text, isFinal) delivers a
//     result to the recognition that is listening, speechStart() says
//     the person began to talk; start/stop/abort are counted.
//   - speechSynthesis: speak() records each utterance in window.__spoken
//     with what had been handed to the page of the reply's stream at that
//     moment (paceStream's window.__streams), and — 60 ms later, when the
//     page has drawn it and before the next event (300 ms apart) — the
//     reply's text on screen. cancel() is counted in window.__cancels.
const fakeSpeech = `(() => {
  window.__recog = {
    current: null, started: 0, stopped: 0,
    speechStart() { const r = this.current; r.onspeechstart && r.onspeechstart(new Event('speechstart')); },
    emit(text, isFinal) {
      const r = this.current;
      if (!r) throw new Error('nobody is listening');
      const last = r._results[r._results.length - 1];
      const i = last && !last.isFinal ? r._results.length - 1 : r._results.length;
      r._results[i] = Object.assign([{ transcript: text, confidence: 0.9 }], { isFinal: !!isFinal });
      r.onresult && r.onresult({ resultIndex: i, results: r._results });
    },
  };
  class FakeRecognition {
    constructor() { this.lang = ''; this.continuous = false; this.interimResults = false; this._results = []; }
    start() {
      if (window.__recog.current) throw new DOMException('already started', 'InvalidStateError');
      window.__recog.current = this; window.__recog.started++;
    }
    stop() { this._end(); }
    abort() { this._end(); }
    _end() {
      window.__recog.stopped++;
      setTimeout(() => {
        if (window.__recog.current === this) window.__recog.current = null;
        this.onend && this.onend(new Event('end'));
      }, 20);
    }
  }
  window.SpeechRecognition = FakeRecognition;
  window.webkitSpeechRecognition = FakeRecognition;

  window.__spoken = [];
  window.__cancels = 0;
  const streaming = () => {
    const li = document.querySelector('[role="log"] li[data-streaming="true"]');
    return li && li.children[1] ? li.children[1].textContent.trim() : null;
  };
  const synth = {
    speaking: false, pending: false, paused: false, onvoiceschanged: null,
    speak(u) {
      const streams = window.__streams || [];
      const events = (streams[streams.length - 1] || []).map((e) => e.event);
      const entry = { text: u.text, stream: streams.length, events, reply: null };
      window.__spoken.push(entry);
      setTimeout(() => { entry.reply = streaming(); }, 60);
    },
    cancel() { window.__cancels++; },
    pause() {}, resume() {}, getVoices() { return []; },
    addEventListener() {}, removeEventListener() {},
  };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; this.lang = ''; } };
})();`

type spoken struct {
	Text   string   `json:"text"`
	Stream int      `json:"stream"`
	Events []string `json:"events"`
	Reply  *string  `json:"reply"`
}

func spokenSoFar(t *testing.T, p *page) []spoken {
	t.Helper()
	var out []spoken
	raw, _ := json.Marshal(p.eval(`window.__spoken`))
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// deltasOf is the text of each delta event of the page's nth stream (1-based).
func deltasOf(t *testing.T, p *page, n int) []string {
	t.Helper()
	return p.evalStrings(fmt.Sprintf(`window.__streams[%d].filter(e => e.event === 'delta').map(e => e.data.text)`, n-1))
}

// sentenceInside finds a sentence boundary inside s (a closing mark,
// white space, a capital), not counting citation abbreviations and
// initials ("v. Kelly", "U.S. Reports", "J. Frankfurter").
var sentenceInside = regexp.MustCompile(`(\S+)[.?!]["”’)]*\s+["“‘(]?[A-Z]`)

func oneSentence(s string) bool {
	for _, m := range sentenceInside.FindAllStringSubmatch(strings.TrimSpace(s), -1) {
		w := strings.ToLower(strings.TrimLeft(m[1], "\"“‘("))
		switch {
		case len([]rune(w)) == 1, strings.Contains(w, "."):
		case w == "v" || w == "vs" || w == "p" || w == "pp" || w == "no" || w == "mr" || w == "ms" || w == "dr" || w == "id" || w == "cf" || w == "st":
		default:
			return false
		}
	}
	return true
}

// TestBrowserStudentVoice (acceptance 3): browser voice with the Web
// Speech APIs stubbed. Push-to-talk shows the interim words and sends the
// final ones as the student's message (on screen and in the server's
// transcript); the reply is spoken sentence by sentence while it is still
// streaming; pressing Speak while the tutor talks silences it (barge-in);
// the mute toggle keeps it silent; and the microphone recording (Chromium's
// fake device) is uploaded with End.
func TestBrowserStudentVoice(t *testing.T) {
	// A model that streams its reply word by word (browser_model_test.go),
	// so the sentences complete one after another on the server's own
	// deltas; the page's stream is handed over unslowed (__pace 0), only
	// recorded.
	model := startTutorModel(t, 300*time.Millisecond, 100*time.Millisecond)
	a := startApp(t, model.env()...)
	sc := setupCourse(t, a)
	tok := a.addStudent(t, sc, "ben.okafor", "Ben Okafor")
	p := openPage(t, a.base, withInitScript(paceStream), withInitScript(`window.__pace = 0;`), withInitScript(fakeSpeech))
	p.signIn("ben.okafor", studentPassword)
	p.visit(fmt.Sprintf("/weeks/%d", sc.weekID))
	p.click("checkbox", "Record my voice")
	p.click("button", "Start session")
	p.waitFor("timer", "Time left")
	id := sessionIDFromPage(t, p)
	p.waitText("main", "", "Recording") // the fake microphone is recording
	if p.evalBool(`document.body.innerText.includes('Not recording')`) {
		t.Fatalf("the recording did not start:\n%s", p.bodyText())
	}
	waitReplyDone(t, p, 1) // the opening

	// Push to talk: the interim words show, the final ones are sent.
	cancels := p.evalFloat(`window.__cancels`)
	p.click("button", "Speak")
	if !p.evalBool(`window.__recog.current !== null && window.__recog.current.interimResults === true`) {
		t.Fatal("Speak did not start listening with interim results")
	}
	if p.evalFloat(`window.__cancels`) <= cancels {
		t.Error("pressing Speak did not silence the tutor (speechSynthesis.cancel)")
	}
	if pressed := p.evalString(`[...document.querySelectorAll('button')].find(b => b.textContent.includes('Speak')).getAttribute('aria-pressed')`); pressed != "true" {
		t.Errorf("while listening, Speak has aria-pressed=%q", pressed)
	}
	p.eval(`window.__recog.speechStart(), window.__recog.emit('what does due', false)`)
	p.waitText("main", "", "what does due")
	p.eval(`window.__recog.emit('what does due process require', false)`)
	p.waitText("main", "", "what does due process require")
	const said = "What does due process require before a hearing?"
	p.eval(fmt.Sprintf(`window.__recog.emit(%q, true)`, said))
	p.click("button", "Speak") // press again: stop listening, and the words go
	p.waitText("log", "Conversation", said)
	replies := waitReplyDone(t, p, 2)
	if v := p.evalString(`document.querySelector('textarea').value`); v != "" {
		t.Errorf("the spoken message was sent, but the box holds %q", v)
	}
	_, stored := sessionDetail(t, a, tok, id)
	if len(stored) != 3 || stored[1].Role != "user" || stored[1].Content != said || stored[2].Content != replies[1] {
		t.Fatalf("the server's transcript after the spoken turn: %+v (screen: %q)", stored, replies)
	}

	// The opening question was spoken when the session began.
	all := spokenSoFar(t, p)
	var opening, utter []spoken
	for _, u := range all {
		if u.Stream == 0 {
			opening = append(opening, u)
		} else {
			utter = append(utter, u)
		}
	}
	var openTexts []string
	for _, u := range opening {
		openTexts = append(openTexts, u.Text)
	}
	if strings.Join(openTexts, " ") != strings.Join(strings.Fields(stored[0].Content), " ") {
		t.Errorf("the opening was spoken as %q, want %q", openTexts, stored[0].Content)
	}

	// The reply was spoken sentence by sentence as it streamed.
	reply := stored[2].Content
	deltas := deltasOf(t, p, 1)
	if len(utter) < 2 {
		t.Fatalf("the reply %q was spoken as %d utterance(s): %+v", reply, len(utter), utter)
	}
	var texts []string
	for i, u := range utter {
		texts = append(texts, u.Text)
		if !oneSentence(u.Text) {
			t.Errorf("utterance %d is not one sentence: %q", i, u.Text)
		}
		if u.Stream != 1 {
			t.Errorf("utterance %d spoken during stream %d, want 1", i, u.Stream)
		}
	}
	if strings.Join(texts, " ") != strings.Join(strings.Fields(reply), " ") {
		t.Errorf("spoken %q, want the reply %q in full", texts, reply)
	}
	for _, u := range utter {
		t.Logf("spoke %q after %d of the reply's %d deltas had arrived", u.Text, countOf(u.Events, "delta"), len(deltas))
	}
	firstU := utter[0]
	if reply != TutorReply || len(deltas) < 10 {
		t.Errorf("the reply %q came in %d deltas; want the fake model's, word by word", reply, len(deltas))
	}
	if firstU.Events == nil || len(firstU.Events) >= len(deltas) {
		t.Errorf("the first sentence was spoken after %v of the reply's %d deltas arrived; want while it was still streaming", firstU.Events, len(deltas))
	}
	for _, e := range firstU.Events {
		if e == "done" || e == "sources" {
			t.Errorf("the first sentence was spoken only after the %q event", e)
		}
	}
	if firstU.Reply == nil || *firstU.Reply == "" || *firstU.Reply == reply || !strings.HasPrefix(reply, *firstU.Reply) {
		t.Errorf("when the first sentence was spoken, the screen showed %v of the reply %q; want part of it", firstU.Reply, reply)
	}

	// Barge-in: speaking while the tutor talks silences the rest of that
	// reply.
	p.fill("textbox", "Message", "The hearing must come before the benefits stop.")
	p.click("button", "Send")
	deadline := time.Now().Add(wait)
	for len(spokenSoFar(t, p)) == len(all) {
		if time.Now().After(deadline) {
			t.Fatal("the second reply was never spoken")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancels = p.evalFloat(`window.__cancels`)
	p.click("button", "Speak")
	bargedAt := len(spokenSoFar(t, p))
	if bargedAt-len(all) >= 3 {
		t.Fatalf("Speak landed only after the whole reply was spoken (%d sentences); barge-in was not tried", bargedAt-len(all))
	}
	if p.evalFloat(`window.__cancels`) <= cancels {
		t.Error("pressing Speak while the tutor spoke did not cancel its speech")
	}
	waitReplyDone(t, p, 3)
	if n := len(spokenSoFar(t, p)); n != bargedAt {
		t.Errorf("after barge-in, %d more sentence(s) of the reply were spoken", n-bargedAt)
	}
	p.click("button", "Speak") // stop listening; nothing was said
	p.waitText("status", "", "did not hear anything")

	// Mute: nothing of the next reply is spoken.
	p.click("button", "Mute tutor voice")
	if v := p.evalString(`[...document.querySelectorAll('button')].find(b => b.textContent.includes('Mute')).getAttribute('aria-pressed')`); v != "true" {
		t.Errorf("Mute tutor voice has aria-pressed=%q after pressing it", v)
	}
	before := len(spokenSoFar(t, p))
	p.fill("textbox", "Message", "So notice alone is not enough.")
	p.press("\r")
	waitReplyDone(t, p, 4)
	if n := len(spokenSoFar(t, p)); n != before {
		t.Errorf("muted, the tutor still spoke %d sentence(s)", n-before)
	}

	// End: the recording goes up with it. The first try fails (the
	// network drops the upload): the conversation stays, the error is
	// said in words, and trying again sends the same recording.
	p.eval(`(() => {
	  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
	  let failed = false;
	  XMLHttpRequest.prototype.open = function (m, u, ...rest) { this.__url = u; return open.call(this, m, u, ...rest); };
	  XMLHttpRequest.prototype.send = function (body) {
	    if (!failed && /\/end$/.test(this.__url)) { failed = true; setTimeout(() => this.onerror && this.onerror(new ProgressEvent('error')), 50); return; }
	    return send.call(this, body);
	  };
	  return true;
	})()`)
	p.click("button", "End session")
	if alert := p.waitText("alert", "", "could not be ended"); !strings.Contains(alert, "connection") {
		t.Errorf("a failed upload says %q", alert)
	}
	if s, _ := sessionDetail(t, a, tok, id); s["status"] != "active" {
		t.Fatalf("the upload failed, yet the session is %v", s["status"])
	}
	for _, r := range replies {
		p.waitText("log", "Conversation", r)
	}
	p.click("button", "Try ending again")
	p.waitText("status", "", "Your recording was sent")
	s, _ := sessionDetail(t, a, tok, id)
	if s["status"] != "ended" || s["has_audio"] != true {
		t.Fatalf("after End the session is %v with has_audio %v", s["status"], s["has_audio"])
	}
	st, _ := a.call("GET", "/api/sessions/"+strconv.Itoa(id)+"/audio", tok, "", nil)
	if st != 200 {
		t.Errorf("GET the recording: %d", st)
	}
	// Past sessions plays it.
	p.click("link", "Past sessions")
	p.click("link", "Week 1: Procedural due process")
	p.waitFor("heading", "Week 1: Procedural due process")
	deadline = time.Now().Add(wait)
	for !p.evalBool(`(() => { const a = document.querySelector('audio'); return !!a && a.src.startsWith('blob:') && a.controls; })()`) {
		if time.Now().After(deadline) {
			t.Fatalf("no audio player with the recording:\n%s", p.bodyText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A MediaRecorder webm has no duration in its header (Infinity), so
	// "loaded" is: the player read its metadata without an error.
	if !p.evalBool(`new Promise(r => { const a = document.querySelector('audio'); if (a.readyState >= 1) r(!a.error); else { a.onloadedmetadata = () => r(!a.error); a.onerror = () => r(false); } })`) {
		t.Error("the audio player could not load the recording")
	}
}

// waitUntil polls js (a boolean expression) until it holds, for up to d.
func waitUntil(t *testing.T, p *page, d time.Duration, what, js string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !p.evalBool(js) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; page text:\n%s", what, d, p.bodyText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserStudentTimeUp (acceptance 5): a session on the shortest clock
// the server allows (30 s) runs out while a reply is still arriving: the
// reply finishes, then the screen says the time is up, the message box is
// disabled, the session is ended on the server with its transcript and the
// recording sent.
func TestBrowserStudentTimeUp(t *testing.T) {
	a := startApp(t, "SESSION_MAX_DURATION_SECONDS=30")
	sc := setupCourse(t, a)
	tok := a.addStudent(t, sc, "cho.park", "Cho Park")
	p := openPage(t, a.base, withInitScript(paceStream), withMobile())
	p.signIn("cho.park", studentPassword)
	p.visit(fmt.Sprintf("/weeks/%d", sc.weekID))
	p.click("checkbox", "Record my voice")
	p.click("button", "Start session")
	p.waitFor("timer", "Time left")
	id := sessionIDFromPage(t, p)
	if got := p.text("timer", "Time left"); got != "0:30" && got != "0:29" {
		t.Errorf("a 30-second session starts at %q", got)
	}
	p.fill("textbox", "Message", "Due process means notice and a chance to be heard.")
	p.press("\r")
	waitReplyDone(t, p, 2)

	// The last message goes four seconds before the end; its reply
	// arrives slowly (2 s an event), so the clock runs out mid-reply.
	waitUntil(t, p, 40*time.Second, "the timer reaching 0:04", `document.querySelector('[role="timer"]').textContent.trim() === '0:04'`)
	p.eval(`window.__pace = 2000`)
	const last = "Then the hearing has to happen before the benefits stop."
	p.fill("textbox", "Message", last)
	p.click("button", "Send")
	waitUntil(t, p, 15*time.Second, "the clock at 0:00 with the reply still arriving",
		`document.querySelector('[role="timer"]').textContent.trim() === '0:00' && document.querySelector('[role="log"]').getAttribute('aria-busy') === 'true'`)
	p.waitText("status", "", "Time is up")
	if !p.evalBool(`document.querySelector('textarea').disabled`) {
		t.Error("the time is up but the message box is enabled")
	}
	ended := p.waitText("status", "", "this session has ended")
	if !strings.Contains(ended, "Time is up") {
		t.Errorf("the end says %q, want that the time is up", ended)
	}
	p.waitText("status", "", "Your recording was sent")
	replies := waitReplyDone(t, p, 3)
	p.axe("session (time up)")
	p.screenshot("student-session-time-up")

	s, stored := sessionDetail(t, a, tok, id)
	if s["status"] != "ended" {
		t.Errorf("the server has the session %v", s["status"])
	}
	if s["has_audio"] != true {
		t.Error("the recording was not kept with the ended session")
	}
	if len(stored) != 5 || stored[3].Content != last || stored[4].Content != replies[2] {
		t.Errorf("the stored transcript %+v; want the last message and the reply the screen finished showing (%q)", stored, replies)
	}
	// The reply that was arriving when the clock ran out was shown in full.
	if events := p.evalStrings(`window.__streams[1].map(e => e.event)`); len(events) == 0 || events[len(events)-1] != "done" {
		t.Errorf("the last reply's stream: %v", events)
	}
	if p.evalBool(`[...document.querySelectorAll('button')].some(b => b.textContent.trim() === 'End session' && !b.disabled)`) {
		t.Error("End session is still offered after the session ended")
	}
}

// TestBrowserStudentWeekLimits: Start session is disabled with the reason
// in words on a week without a reading and once the week's sessions are
// used up (with when they reset); a refused microphone is said in words
// and the session goes on; a reload keeps the clock and the unsent
// message; a message refused for the pace of turns is sent again by
// itself after Retry-After; a session ended elsewhere (another tab)
// ends gracefully here when the next message is refused, the typed
// message kept.
func TestBrowserStudentWeekLimits(t *testing.T) {
	a := startApp(t, "RATE_LIMIT_CONVERSATIONS_PER_WEEK=1", "SESSION_MIN_TURN_INTERVAL_SECONDS=4")
	sc := setupCourse(t, a)
	tok := a.addStudent(t, sc, "dana.ito", "Dana Ito")
	st, w2 := a.api(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", sc.courseID), sc.profToken, map[string]any{"week_number": 2, "title": "Substantive due process"})
	if st != 201 {
		t.Fatalf("week 2: %d %v", st, w2)
	}
	// This student's browser refuses the microphone.
	refuseMic := `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));`
	p := openPage(t, a.base, withMobile(), withInitScript(refuseMic))
	p.signIn("dana.ito", studentPassword)
	p.visit(fmt.Sprintf("/courses/%d", sc.courseID))
	p.click("link", "Week 2: Substantive due process")
	p.waitFor("heading", "Week 2")
	if b := p.find("button", "Start session", false); !b.disabled {
		t.Error("Start session is enabled on a week without a reading")
	}
	p.waitText("main", "", "this week has no reading")

	p.visit(fmt.Sprintf("/weeks/%d", sc.weekID))
	p.click("checkbox", "Record my voice")
	p.click("button", "Start session")
	p.waitFor("timer", "Time left")
	id := sessionIDFromPage(t, p)
	p.waitText("main", "", "Not recording: the microphone was refused")
	if p.evalBool(`document.querySelector('textarea').disabled`) {
		t.Error("without a microphone the message box is disabled")
	}
	// A reload keeps the clock (from the server's expires_at, not
	// restarted) and the unsent message.
	p.fill("textbox", "Message", "Half a thought")
	time.Sleep(2500 * time.Millisecond)
	p.eval(`location.reload(), true`)
	p.waitFor("timer", "Time left")
	p.waitText("log", "Conversation", "")
	if left := p.text("timer", "Time left"); !clock.MatchString(left) || left > "4:58" {
		t.Errorf("after a reload 2.5 s into the session the timer reads %q; want at most 4:58", left)
	}
	if v := p.evalString(`document.querySelector('textarea').value`); v != "Half a thought" {
		t.Errorf("after a reload the message box holds %q, want the unsent message", v)
	}
	// Two messages back to back, faster than the server's pace of one
	// every 4 s: the second is refused (429, Retry-After) and sent again
	// by itself once the wait is over — once.
	p.fill("textbox", "Message", "")
	p.fill("textbox", "Message", "Notice comes first.")
	p.press("\r")
	waitReplyDone(t, p, 2)
	const second = "Then a hearing."
	p.fill("textbox", "Message", second)
	p.press("\r")
	p.waitText("status", "", "Sending it again")
	waitReplyDone(t, p, 3)
	if v := p.evalString(`document.querySelector('textarea').value`); v != "" {
		t.Errorf("after the automatic resend the box holds %q", v)
	}
	_, stored := sessionDetail(t, a, tok, id)
	if n := len(stored); n != 5 || stored[3].Content != second {
		t.Errorf("after a paced resend the transcript is %+v; want the second message once, answered", stored)
	}
	if st, body := a.api(t, "POST", fmt.Sprintf("/api/sessions/%d/end", id), tok, nil); st != 200 {
		t.Fatalf("end elsewhere: %d %v", st, body)
	}
	const msg = "Is a hearing always required?"
	p.fill("textbox", "Message", msg)
	p.click("button", "Send")
	p.waitText("status", "", "This session has ended")
	if !p.evalBool(`document.querySelector('textarea').disabled`) {
		t.Error("the session ended but the message box is enabled")
	}
	if v := p.evalString(`document.querySelector('textarea').value`); v != msg {
		t.Errorf("the refused message was not kept: the box holds %q", v)
	}
	if p.evalBool(`document.body.innerText.includes('{')`) {
		t.Errorf("raw JSON on screen:\n%s", p.bodyText())
	}

	p.visit(fmt.Sprintf("/weeks/%d", sc.weekID))
	p.waitFor("heading", "Week 1")
	if b := p.find("button", "Start session", false); !b.disabled {
		t.Error("Start session is enabled with the week's one session used")
	}
	p.waitText("main", "", "You have used your one session for this week. New sessions open")
	p.axe("week (quota used)")
}

// TestBrowserStudentSentenceSplitting: the page's sentence splitter (what
// decides when a sentence of a streaming reply is complete enough to
// speak), run in the browser on the module the server serves. A sentence
// ends at . ? or ! followed by white space, not at a citation's
// abbreviation; the last one waits for more text until the reply is done.
func TestBrowserStudentSentenceSplitting(t *testing.T) {
	a := startApp(t)
	p := openPage(t, a.base)
	p.visit("/")
	p.waitFor("heading", "Sign in")
	cases := []struct {
		text  string
		final bool
		want  []string
		rest  string
	}{
		{"That is a fair place to start. What does", false, []string{"That is a fair place to start."}, "What does"},
		{"Is it? Yes! It is.", false, []string{"Is it?", "Yes!"}, "It is."},
		{"Is it? Yes! It is.", true, []string{"Is it?", "Yes!", "It is."}, ""},
		{"In Goldberg v. Kelly, 397 U.S. 254 (1970), the Court agreed. Next", false, []string{"In Goldberg v. Kelly, 397 U.S. 254 (1970), the Court agreed."}, "Next"},
		{"See p. 24 and pp. 30-31. Then", false, []string{"See p. 24 and pp. 30-31."}, "Then"},
		{"Frankfurter, J., concurring, wrote this. Mr. Eldridge sued. Why", false, []string{"Frankfurter, J., concurring, wrote this.", "Mr. Eldridge sued."}, "Why"},
		{"The U.S. Supreme Court decided, e.g. Mathews v. Eldridge. Done", false, []string{"The U.S. Supreme Court decided, e.g. Mathews v. Eldridge."}, "Done"},
		{"Page 24 says: “… a hearing …”. How would you state it?", false, []string{"Page 24 says: “… a hearing …”."}, "How would you state it?"},
		{"Page 24.", false, nil, "Page 24."},
	}
	for _, c := range cases {
		js := fmt.Sprintf(`import(document.body.dataset.assetBase + '/voice.js').then(m => JSON.stringify(m.splitSentences(%q, %t)))`, c.text, c.final)
		var got struct {
			Sentences []string `json:"sentences"`
			Rest      string   `json:"rest"`
		}
		if err := json.Unmarshal([]byte(p.evalString(js)), &got); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got.Sentences, "|") != strings.Join(c.want, "|") || got.Rest != c.rest {
			t.Errorf("splitSentences(%q, %t) = %q rest %q; want %q rest %q", c.text, c.final, got.Sentences, got.Rest, c.want, c.rest)
		}
	}
}
