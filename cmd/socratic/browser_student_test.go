package main

// The student's screens in headless Chromium against the real binary
// (issue 16, acceptance 2, 3 and 5): an account made through the UI, a
// course joined by code, a session held by text and by browser voice, the
// recording sent with End, a session that runs out of time, past sessions.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

const studentPDF = "casebook-gowder-14th-amendment-reader-procedural-due-process-excerpt.pdf"

// studentCourse is a professor's course with one week whose corpus PDF is
// processed, set up through the API.
type studentCourse struct {
	courseID, weekID int
	name, joinCode   string
}

func setupStudentCourse(t *testing.T, a *appServer) studentCourse {
	t.Helper()
	a.createUser(t, "professor", "kingsfield@law.example.edu", "kingsfield", "contracts are hard")
	tok := a.login(t, "kingsfield", "contracts are hard")
	st, c := a.api(t, "POST", "/api/courses", tok, map[string]any{"code": "CON-101", "name": "Constitutional Law I", "professor_name": "Prof. Kingsfield"})
	if st != 201 {
		t.Fatalf("create course: %d %v", st, c)
	}
	sc := studentCourse{courseID: num(c, "id"), name: "Constitutional Law I"}
	sc.joinCode, _ = c["join_code"].(string)
	st, w := a.api(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", sc.courseID), tok, map[string]any{"week_number": 1, "title": "Procedural due process"})
	if st != 201 {
		t.Fatalf("create week: %d %v", st, w)
	}
	sc.weekID = num(w, "id")
	doc := a.uploadPDF(t, tok, sc.weekID, testenv.CorpusPDF(studentPDF))
	a.waitProcessed(t, tok, doc)
	if sc.joinCode == "" {
		t.Fatal("the course has no join code")
	}
	return sc
}

// enrolledStudent makes a student account that has joined the course.
func enrolledStudent(t *testing.T, a *appServer, sc studentCourse, username string) string {
	t.Helper()
	a.createUser(t, "student", username+"@students.example.edu", username, "a careful student")
	tok := a.login(t, username, "a careful student")
	if st, body := a.api(t, "POST", "/api/courses/join", tok, map[string]any{"join_code": sc.joinCode}); st != 200 {
		t.Fatalf("join: %d %v", st, body)
	}
	return tok
}

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
// window.__shown (one array of texts per reply, in order).
const watchReplies = `(() => {
  window.__shown = [];
  const seen = new WeakMap();
  const obs = new MutationObserver(() => {
    for (const li of document.querySelectorAll('[role="log"] li[data-streaming="true"]')) {
      let list = seen.get(li);
      if (!list) { list = []; seen.set(li, list); window.__shown.push(list); }
      const said = li.children[1] ? li.children[1].textContent : '';
      if (list[list.length - 1] !== said) list.push(said);
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
	sc := setupStudentCourse(t, a)
	p := openPage(t, a.base, withInitScript(paceStream), withInitScript(watchReplies))

	p.visit("/")
	p.waitFor("heading", "Sign in")
	p.axe("student sign-in")
	p.screenshot("student-sign-in")
	p.click("link", "Create an account")
	p.fill("textbox", "Email", "ana.lopez@students.example.edu")
	p.fill("textbox", "Username", "ana.lopez")
	p.fill("textbox", "Full name", "Ana López")
	p.fill("textbox", "Password", "a careful student")
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
	p.waitText("status", "", "You joined Constitutional Law I")
	p.waitFor("link", sc.name)
	p.axe("my courses")
	p.screenshot("student-my-courses")

	p.click("link", sc.name)
	p.waitFor("heading", sc.name)
	p.click("link", "Week 1: Procedural due process")
	p.waitFor("heading", "Week 1: Procedural due process")
	p.waitText("main", "", studentPDF)
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
	stuTok := a.login(t, "ana.lopez", "a careful student")
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
	// Each reply streamed in: the page showed part of it before all of it.
	var streams [][]string
	raw, _ := json.Marshal(p.eval(`window.__shown`))
	json.Unmarshal(raw, &streams)
	if len(streams) != len(messages) {
		t.Fatalf("watched %d streaming replies, want %d: %q", len(streams), len(messages), streams)
	}
	for i, texts := range streams {
		final := storedReplies[i+1]
		partial := false
		for _, s := range texts {
			s = strings.TrimSpace(s)
			if s != "" && s != final && strings.HasPrefix(final, s) {
				partial = true
			}
		}
		if !partial {
			t.Errorf("reply %d never showed part of itself before the whole (texts seen: %q)", i+1, texts)
		}
	}
	// Each answer's sources, behind a button, name the uploaded reading.
	if n := p.evalFloat(`[...document.querySelectorAll('[role="log"] button')].filter(b => /^Sources/.test(b.textContent.trim())).length`); int(n) != len(messages) {
		t.Errorf("%v Sources buttons, want one per answer (%d)", n, len(messages))
	}
	for i, tr := range stored {
		if tr.Role == "assistant" && i > 0 && (len(tr.Sources) == 0 || tr.Sources[0].Filename != studentPDF) {
			t.Errorf("stored reply %d has sources %+v", i, tr.Sources)
		}
	}
	p.click("button", "Sources")
	p.waitFor("button", "Sources")
	if got := p.evalBool(`document.querySelector('[role="log"] button[aria-expanded="true"]') !== null`); !got {
		t.Error("Sources did not open")
	}
	p.waitText("log", "Conversation", studentPDF+", page")

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
