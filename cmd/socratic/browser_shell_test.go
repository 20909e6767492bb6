package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBrowserSignInAndOut: the sign-in screen of the real binary in
// headless Chromium — a wrong password is refused in words, the right one
// signs in, the token is kept in sessionStorage only (never
// localStorage), and Sign out forgets it and returns to the form.
func TestBrowserSignInAndOut(t *testing.T) {
	a := startApp(t)
	a.createUser(t, "professor", "kingsfield@law.example.edu", "kingsfield", "contracts are hard")
	p := openPage(t, a.base)

	p.visit("/")
	p.waitFor("heading", "Sign in")
	p.waitFor("link", "Create an account")
	p.axe("sign-in")
	p.screenshot("sign-in")

	p.fill("textbox", "Email or username", "kingsfield")
	p.fill("textbox", "Password", "not the password")
	p.click("button", "Sign in")
	alert := p.waitText("alert", "", "")
	if !strings.Contains(strings.ToLower(alert), "incorrect") && !strings.Contains(strings.ToLower(alert), "invalid") {
		t.Errorf("wrong password: the alert says %q", alert)
	}
	if strings.Contains(alert, "{") {
		t.Errorf("the alert shows raw JSON: %q", alert)
	}

	p.fill("textbox", "Password", "contracts are hard")
	p.press("\r") // Enter submits
	p.waitFor("button", "Sign out")
	if tok := p.evalString(`sessionStorage.getItem('socratic.token') || ''`); tok == "" {
		t.Error("no token in sessionStorage after sign-in")
	}
	if n := p.evalFloat(`localStorage.length`); n != 0 {
		t.Errorf("localStorage holds %v items; the token must never go there", n)
	}

	p.click("button", "Sign out")
	p.waitFor("button", "Sign in")
	p.waitText("status", "", "signed out")
	if tok := p.evalString(`sessionStorage.getItem('socratic.token') || ''`); tok != "" {
		t.Error("the token is still in sessionStorage after Sign out")
	}
}

// TestBrowserCreateAccount: a newcomer creates an account from the sign-in
// screen; a too-short password is refused in words first.
func TestBrowserCreateAccount(t *testing.T) {
	a := startApp(t)
	p := openPage(t, a.base, withMobile())
	p.visit("/")
	p.click("link", "Create an account")
	p.waitFor("heading", "Create an account")
	p.axe("create-account")
	p.fill("textbox", "Email", "ada@law.example.edu")
	p.fill("textbox", "Username", "ada")
	p.fill("textbox", "Full name", "Ada Student")
	p.fill("textbox", "Password", "short")
	p.click("button", "Create account")
	if alert := p.waitText("alert", "", "password"); strings.Contains(alert, "{") {
		t.Errorf("the alert shows raw JSON: %q", alert)
	}
	p.fill("textbox", "Password", "a long enough password")
	p.click("button", "Create account")
	p.waitFor("button", "Sign out")
	p.screenshot("welcome")
	tok := a.login(t, "ada", "a long enough password")
	if status, me := a.api(t, "GET", "/api/auth/me", tok, nil); status != 200 || me["full_name"] != "Ada Student" || me["role"] != "student" {
		t.Errorf("the account: %d %v", status, me)
	}
}

// TestBrowserFirstScreenWeight: what the browser actually transferred to
// show the sign-in screen (the page and every file it loaded, compressed,
// headers included) stays under the 100 KB, and no role's screens
// were among it (they load after sign-in).
func TestBrowserFirstScreenWeight(t *testing.T) {
	a := startApp(t)
	p := openPage(t, a.base)
	p.visit("/")
	p.waitFor("button", "Sign in")
	type entry struct {
		Name     string  `json:"name"`
		Transfer float64 `json:"transfer"`
		Encoded  float64 `json:"encoded"`
	}
	entries := evalAs[[]entry](p, `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
		.map(e => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize}))`)
	total, body := 0.0, 0.0
	for _, e := range entries {
		total += e.Transfer
		body += e.Encoded
		t.Logf("%8.0f B transferred (%6.0f B body) %s", e.Transfer, e.Encoded, e.Name)
		for _, later := range []string{"student.js", "professor.js", "admin.js", "session.js", "voice.js"} {
			if strings.HasSuffix(e.Name, "/"+later) {
				t.Errorf("the sign-in screen loaded %s, which only signed-in screens need", later)
			}
		}
	}
	if len(entries) < 5 || total == 0 {
		t.Fatalf("the browser reported %d loads, %v bytes: the measure is broken", len(entries), total)
	}
	t.Logf("first screen: %d files, %.1f KB transferred (%.1f KB compressed bodies)", len(entries), total/1024, body/1024)
	if total > 100*1024 {
		t.Errorf("the first screen transferred %.1f KB, over 100 KB", total/1024)
	}
}

// TestBrowserExpiredTokenReturnsToSignIn: when the server stops accepting
// the tab's token (here: it was revoked by signing out elsewhere), the next
// call's 401 brings the person back to the sign-in form with a message in
// words, and the token is forgotten.
func TestBrowserExpiredTokenReturnsToSignIn(t *testing.T) {
	a := startApp(t)
	w := setupCourse(t, a)
	a.addStudent(t, w, "ada", "Ada Student")
	p := openPage(t, a.base)
	p.signIn("ada", "a long enough password")
	p.waitFor("heading", "My courses")
	tok := p.evalString(`sessionStorage.getItem('socratic.token') || ''`)
	if status, _ := a.api(t, "POST", "/api/auth/logout", tok, nil); status != 204 {
		t.Fatalf("logout: %d", status)
	}
	p.click("link", "Past sessions")
	p.waitFor("button", "Sign in")
	msg := p.waitText("status", "", "signed out")
	if !strings.Contains(strings.ToLower(msg), "sign in again") {
		t.Errorf("the message says %q, want it to ask to sign in again", msg)
	}
	if left := p.evalString(`sessionStorage.getItem('socratic.token') || ''`); left != "" {
		t.Error("the revoked token is still kept")
	}
	p.fill("textbox", "Email or username", "ada")
	p.fill("textbox", "Password", "a long enough password")
	p.click("button", "Sign in")
	p.waitFor("button", "Sign out")
}

// TestBrowserEndWaitsForTheReply: End session pressed while the tutor's
// reply is still streaming lets the reply finish — it is stored whole —
// and then ends the session.
func TestBrowserEndWaitsForTheReply(t *testing.T) {
	model := startTutorModel(t, 200*time.Millisecond, 120*time.Millisecond)
	a := startApp(t, model.env()...)
	w := setupCourse(t, a)
	tok := a.addStudent(t, w, "ada", "Ada Student")
	p := openPage(t, a.base)
	p.signIn("ada", "a long enough password")
	p.visit(fmt.Sprintf("/weeks/%d", w.weekID))
	p.click("button", "Start session")
	p.waitFor("timer", "")
	p.fill("textbox", "Message", "The court says a hearing is required before benefits stop.")
	p.click("button", "Send")
	p.waitText("log", "", "That is a fair")
	if p.evalBool(`document.querySelector('[role=log]').textContent.includes('which page?')`) {
		t.Fatal("the reply was complete before End could be pressed mid-reply: the test proves nothing")
	}
	p.click("button", "End session")
	p.waitText("status", "", "You ended the session")
	status, s := a.api(t, "GET", "/api/sessions?limit=1", tok, nil)
	items, _ := s["items"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("sessions: %d %v", status, s)
	}
	id := num(items[0].(map[string]any), "id")
	_, detail := a.api(t, "GET", fmt.Sprintf("/api/sessions/%d", id), tok, nil)
	if detail["status"] != "ended" {
		t.Errorf("the session is %v, want ended", detail["status"])
	}
	turns, _ := detail["transcript"].([]any)
	last, _ := turns[len(turns)-1].(map[string]any)
	if last["role"] != "assistant" || last["content"] != TutorReply {
		t.Errorf("the last stored turn is %v %q, want the tutor's whole reply", last["role"], last["content"])
	}
	if log := p.text("log", ""); !strings.Contains(log, "which page?") {
		t.Errorf("the reply on screen was cut short:\n%s", log)
	}
}
