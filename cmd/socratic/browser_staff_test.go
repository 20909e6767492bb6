package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// The staff screens in a real browser against the real binary: a
// professor builds a course and uploads a reading (issue 16, acceptance
// 1), reads a student's session (acceptance 4), and an admin manages
// users, reads the audit log and the statistics.

const staffPDF = "ca7-lopez-v-thurmer-2010.pdf"

// staffSignIn signs in through the form and waits for the role's home.
func staffSignIn(t *testing.T, p *page, username, password, home string) {
	t.Helper()
	p.signIn(username, password)
	p.waitFor("heading", home)
}

// staffChoose picks, in the drop-down with that label (or aria-label),
// the first option whose text contains option, as a person choosing it
// would (the change event follows). It waits for the option to load.
func staffChoose(t *testing.T, p *page, label, option string) {
	t.Helper()
	p.waitFor("combobox", label)
	js := fmt.Sprintf(`(() => { const s = [...document.querySelectorAll('select')].find(s => (s.labels[0] ? s.labels[0].textContent : s.getAttribute('aria-label')) === %q);
		const o = s && !s.disabled && [...s.options].find(o => o.textContent.includes(%q)); if (!o) return false;
		s.focus(); s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, label, option)
	for deadline := time.Now().Add(15 * time.Second); !p.evalBool(js); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no option %q in the drop-down %q", option, label)
		}
	}
}

func staffNum(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}

// TestBrowserStaffProfessorBuildsACourse: a professor signs in, creates a
// course (a duplicate code is refused in words) and a week, makes a new
// join code, uploads a corpus PDF through the "Upload PDF" field and sees
// it reach processed on screen, then tries the week's search.
func TestBrowserStaffProfessorBuildsACourse(t *testing.T) {
	a := startApp(t)
	a.createUser(t, "professor", "kingsfield@law.example.edu", "kingsfield", "contracts are hard")
	tok := a.login(t, "kingsfield", "contracts are hard")
	p := openPage(t, a.base)

	staffSignIn(t, p, "kingsfield", "contracts are hard", "Courses")
	p.waitText("main", "", "No courses yet")

	p.click("button", "New course")
	p.fill("textbox", "Course code", "LAW 101")
	p.fill("textbox", "Course name", "Criminal Procedure")
	p.fill("textbox", "Professor name", "Charles Kingsfield")
	p.click("button", "Create course")
	p.waitFor("heading", "LAW 101: Criminal Procedure")

	// The course exists, with the professor as its instructor.
	st, list := a.api(t, "GET", "/api/courses", tok, nil)
	items, _ := list["items"].([]any)
	if st != 200 || len(items) != 1 {
		t.Fatalf("GET /api/courses: %d %v", st, list)
	}
	course := items[0].(map[string]any)
	courseID := staffNum(course["id"])
	code, _ := course["join_code"].(string)
	if code == "" {
		t.Fatalf("course without join code: %v", course)
	}
	if got := p.text("region", "Join code"); !strings.Contains(got, code) {
		t.Errorf("the course page shows join code %q, want %q", got, code)
	}

	// A second course with the same code is refused, in words.
	p.click("link", "All courses")
	p.waitFor("heading", "Courses")
	p.waitFor("link", "Criminal Procedure")
	p.screenshot("professor-courses")
	p.axe("professor courses")
	p.click("button", "New course")
	p.fill("textbox", "Course code", "law 101")
	p.fill("textbox", "Course name", "Another")
	p.press("\r") // Enter in a field sends the form
	p.waitText("alert", "", "already exists")
	p.click("link", "Criminal Procedure")
	p.waitFor("heading", "LAW 101: Criminal Procedure")

	// A week.
	p.click("button", "Add week")
	p.fill("spinbutton", "Week number", "1")
	p.fill("textbox", "Title", "Ineffective assistance")
	p.click("button", "Save week")
	p.waitFor("link", "Week 1: Ineffective assistance")
	// The same number again is refused, in words.
	p.click("button", "Add week")
	p.fill("spinbutton", "Week number", "1")
	p.click("button", "Save week")
	p.waitText("alert", "", "already has a week with that number")
	p.click("button", "Cancel")

	// A new join code replaces the old one, on screen and on the server.
	p.click("button", "New join code")
	p.waitFor("dialog", "New join code")
	p.click("button", "Make a new code")
	p.waitText("status", "", "new join code is ready")
	_, c2 := a.api(t, "GET", fmt.Sprintf("/api/courses/%d", courseID), tok, nil)
	code2, _ := c2["join_code"].(string)
	if code2 == "" || code2 == code {
		t.Fatalf("join code after New join code: %q (before %q)", code2, code)
	}
	p.waitText("region", "Join code", code2)
	p.screenshot("professor-course")
	p.axe("professor course")

	// The reading, through the file field.
	p.click("link", "Week 1")
	p.waitFor("heading", "Week 1: Ineffective assistance")
	p.waitText("main", "", "No readings yet")
	p.setFiles("Upload PDF", testenv.CorpusPDF(staffPDF))
	p.waitText("listitem", "", "uploaded")
	p.waitFor("listitem", staffPDF)

	// The screen follows the server to processed without a reload.
	wk := weekIDOf(t, a, tok, courseID)
	ditems := a.documentsOf(t, tok, wk)
	if len(ditems) != 1 {
		t.Fatalf("documents of week %d: %v", wk, ditems)
	}
	a.waitProcessed(t, tok, int(staffNum(ditems[0].(map[string]any)["id"])))
	p.waitText("listitem", staffPDF, "Status: processed")
	if got := p.text("listitem", staffPDF); strings.Contains(got, "failed") {
		t.Errorf("the document reads %q", got)
	}
	// The same bytes again: the server keeps one copy, and the screen says so.
	p.setFiles("Upload PDF", testenv.CorpusPDF(staffPDF))
	p.waitText("listitem", "", "already in this week")
	// A file dropped on the drop zone is uploaded too; one that is not a
	// PDF is refused in words.
	p.eval(`(() => { const dt = new DataTransfer(); dt.items.add(new File(['These are my notes, not a PDF.'], 'notes.pdf', {type: 'application/pdf'}));
		const z = document.querySelector('.dropzone'); z.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
		z.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); return true })()`)
	p.waitText("listitem", "", "notes.pdf: This file cannot be used")
	p.waitText("listitem", "", "not a PDF")
	p.waitText("status", "", "All 3 uploads finished")
	if n := len(a.documentsOf(t, tok, wk)); n != 1 {
		t.Errorf("the week has %d documents after a repeat and a refused file, want 1", n)
	}
	p.screenshot("professor-week")
	p.axe("professor week")

	// The week's search finds passages of the reading.
	p.fill("searchbox", "Search the readings", "ineffective assistance of counsel")
	p.press("\r")
	p.waitText("list", "Passages for", staffPDF)
	if got := p.text("list", "Passages for"); !strings.Contains(got, "page") || !strings.Contains(got, "score") {
		t.Errorf("search results lack page or score:\n%s", got)
	}
}

// weekIDOf is the id of the course's only week.
func weekIDOf(t *testing.T, a *appServer, tok string, courseID int64) int64 {
	t.Helper()
	st, c := a.api(t, "GET", fmt.Sprintf("/api/courses/%d", courseID), tok, nil)
	weeks, _ := c["weeks"].([]any)
	if st != 200 || len(weeks) != 1 {
		t.Fatalf("course %d: %d %v", courseID, st, c)
	}
	return staffNum(weeks[0].(map[string]any)["id"])
}

// documentsOf lists a week's documents through the API.
func (a *appServer) documentsOf(t *testing.T, tok string, weekID int64) []any {
	t.Helper()
	st, docs := a.api(t, "GET", fmt.Sprintf("/api/documents?week_id=%d", weekID), tok, nil)
	if st != 200 {
		t.Fatalf("documents of week %d: %d %v", weekID, st, docs)
	}
	items, _ := docs["items"].([]any)
	return items
}

// TestBrowserStaffProfessorReadsASession: a student (through the API)
// registers, joins with the code, starts a session, sends messages and
// ends it; the professor finds it under Sessions by the student's name,
// opens it and reads every turn of its transcript.
func TestBrowserStaffProfessorReadsASession(t *testing.T) {
	a := startApp(t)
	a.createUser(t, "professor", "kingsfield@law.example.edu", "kingsfield", "contracts are hard")
	prof := a.login(t, "kingsfield", "contracts are hard")

	st, c := a.api(t, "POST", "/api/courses", prof, map[string]any{"code": "LAW 102", "name": "Evidence"})
	if st != 201 {
		t.Fatalf("create course: %d %v", st, c)
	}
	courseID, joinCode := staffNum(c["id"]), c["join_code"].(string)
	st, w := a.api(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", courseID), prof, map[string]any{"week_number": 3, "title": "Counsel"})
	if st != 201 {
		t.Fatalf("create week: %d %v", st, w)
	}
	weekID := staffNum(w["id"])
	a.waitProcessed(t, prof, a.uploadPDF(t, prof, int(weekID), testenv.CorpusPDF(staffPDF)))

	st, u := a.api(t, "POST", "/api/auth/register", "", map[string]any{"email": "ada@students.example.edu", "username": "ada", "password": "a long passphrase", "full_name": "Ada Lovelace"})
	if st != 201 {
		t.Fatalf("register: %d %v", st, u)
	}
	stu := a.login(t, "ada", "a long passphrase")
	if st, r := a.api(t, "POST", "/api/courses/join", stu, map[string]any{"join_code": joinCode}); st != 200 {
		t.Fatalf("join: %d %v", st, r)
	}
	st, s := a.api(t, "POST", "/api/sessions/start", stu, map[string]any{"week_id": weekID})
	if st != 201 {
		t.Fatalf("start: %d %v", st, s)
	}
	sid := staffNum(s["session_id"])
	for _, m := range []string{"Was the lawyer's failure to ask for a lesser offense instruction a mistake?", "What does Strickland require the defendant to show?"} {
		if st, r := a.api(t, "POST", fmt.Sprintf("/api/sessions/%d/message", sid), stu, map[string]any{"message": m}); st != 200 {
			t.Fatalf("message: %d %v", st, r)
		}
	}
	if st, r := a.api(t, "POST", fmt.Sprintf("/api/sessions/%d/end", sid), stu, nil); st != 200 {
		t.Fatalf("end: %d %v", st, r)
	}
	// A second student's session, for the filters to tell apart.
	if st, u := a.api(t, "POST", "/api/auth/register", "", map[string]any{"email": "grace@students.example.edu", "username": "grace", "password": "another long passphrase", "full_name": "Grace Hopper", "join_code": joinCode}); st != 201 {
		t.Fatalf("register grace: %d %v", st, u)
	}
	grace := a.login(t, "grace", "another long passphrase")
	if st, r := a.api(t, "POST", "/api/sessions/start", grace, map[string]any{"week_id": weekID}); st != 201 {
		t.Fatalf("grace's start: %d %v", st, r)
	}
	st, detail := a.api(t, "GET", fmt.Sprintf("/api/sessions/%d", sid), prof, nil)
	turns, _ := detail["transcript"].([]any)
	if st != 200 || len(turns) < 4 {
		t.Fatalf("session as the professor: %d %v", st, detail)
	}

	p := openPage(t, a.base, withMobile())
	staffSignIn(t, p, "kingsfield", "contracts are hard", "Courses")
	p.click("link", "Sessions")
	p.waitFor("heading", "Sessions")
	p.waitFor("link", "Ada Lovelace")
	row := p.waitText("row", "", "Ada Lovelace")
	for _, want := range []string{"Ada Lovelace", "Week 3", "LAW 102", "No"} {
		if !strings.Contains(row, want) {
			t.Errorf("the session's row %q lacks %q", row, want)
		}
	}
	p.waitFor("link", "Download CSV")
	p.screenshot("professor-sessions")
	p.axe("professor sessions")

	// Grace's session is still going; the filters narrow the list to Ada's.
	if row := p.waitText("row", "", "Grace Hopper"); !strings.Contains(row, "in progress") {
		t.Errorf("Grace's open session reads %q", row)
	}
	staffChoose(t, p, "Course", "LAW 102")
	staffChoose(t, p, "Week", "Week 3: Counsel")
	p.waitText("status", "", "2 sessions")
	staffChoose(t, p, "Student", "Ada Lovelace")
	p.waitText("status", "", "1 session")
	p.waitGone("link", "Grace Hopper")
	p.waitFor("link", "Ada Lovelace")
	staffChoose(t, p, "Student", "All students")
	p.waitFor("link", "Grace Hopper")

	// Moderated only: neither session had a moderated turn.
	p.click("checkbox", "Moderated only")
	p.waitText("status", "", "No sessions match")
	p.waitGone("link", "Ada Lovelace")
	p.click("checkbox", "Moderated only")
	p.waitFor("link", "Grace Hopper")
	p.click("link", "Ada Lovelace")

	p.waitFor("heading", "Session with Ada Lovelace")
	p.waitFor("heading", "Transcript")
	for i, tv := range turns {
		turn := tv.(map[string]any)
		content, _ := turn["content"].(string)
		line := strings.TrimSpace(strings.SplitN(content, "\n", 2)[0])
		if len(line) > 80 {
			line = line[:80]
		}
		if line == "" {
			t.Fatalf("turn %d has no text: %v", i, turn)
		}
		p.waitText("listitem", "", line)
	}
	tr := p.text("region", "Transcript")
	if !strings.Contains(tr, "Ada Lovelace") || !strings.Contains(tr, "Tutor") {
		t.Errorf("the transcript does not say who spoke:\n%s", tr)
	}
	if n := strings.Count(tr, "Sources ("); n == 0 {
		t.Errorf("no reply shows its sources:\n%s", tr)
	}
	p.screenshot("professor-session")
	p.axe("professor session transcript")

	// Download CSV fetches the file with the token and offers it as a
	// file link (an object URL with a download name). The page's policy
	// lets nothing fetch a blob: URL, so the test keeps the Blob the page
	// makes and reads it.
	p.eval(`(() => { const make = URL.createObjectURL; window.__blobs = []; URL.createObjectURL = (b) => { window.__blobs.push(b); return make.call(URL, b); }; return true })()`)
	p.click("link", "Download CSV")
	deadline := time.Now().Add(10 * time.Second)
	for !p.evalBool(`[...document.querySelectorAll('a[download]')].some(a => a.href.startsWith('blob:') && a.download.endsWith('.csv'))`) {
		if time.Now().After(deadline) {
			t.Fatal("Download CSV never became a file link")
		}
		time.Sleep(100 * time.Millisecond)
	}
	csv := p.evalString(`window.__blobs[window.__blobs.length - 1].text()`)
	if !strings.Contains(csv, "ada@students.example.edu") || !strings.Contains(csv, "Ada Lovelace") {
		t.Errorf("the CSV lacks the student:\n%s", csv)
	}
}

// TestBrowserStaffAdmin: an admin creates a professor through Users,
// changes a role, deactivates the account (and may not deactivate
// themself), finds those actions in the Audit log, and reads Statistics
// that match /api/admin/stats.
func TestBrowserStaffAdmin(t *testing.T) {
	a := startApp(t)
	a.createUser(t, "admin", "dean@law.example.edu", "dean", "the dean's passphrase")
	a.createUser(t, "student", "hart@students.example.edu", "hart", "a student passphrase")
	adm := a.login(t, "dean", "the dean's passphrase")

	// Something to count: a course with a processed reading and a session
	// (an admin may try any week).
	st, c := a.api(t, "POST", "/api/courses", adm, map[string]any{"code": "LAW 200", "name": "Torts"})
	if st != 201 {
		t.Fatalf("create course: %d %v", st, c)
	}
	st, w := a.api(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", staffNum(c["id"])), adm, map[string]any{"week_number": 1})
	if st != 201 {
		t.Fatalf("create week: %d %v", st, w)
	}
	a.waitProcessed(t, adm, a.uploadPDF(t, adm, int(staffNum(w["id"])), testenv.CorpusPDF(staffPDF)))
	st, s := a.api(t, "POST", "/api/sessions/start", adm, map[string]any{"week_id": staffNum(w["id"])})
	if st != 201 {
		t.Fatalf("start: %d %v", st, s)
	}
	if st, r := a.api(t, "POST", fmt.Sprintf("/api/sessions/%d/end", staffNum(s["session_id"])), adm, nil); st != 200 {
		t.Fatalf("end: %d %v", st, r)
	}

	// Past a page (50), lists page: 50 more courses.
	for i := 1; i <= 50; i++ {
		if st, c := a.api(t, "POST", "/api/courses", adm, map[string]any{"code": fmt.Sprintf("SEM %02d", i), "name": fmt.Sprintf("Seminar %d", i)}); st != 201 {
			t.Fatalf("create course %d: %d %v", i, st, c)
		}
	}

	p := openPage(t, a.base)
	staffSignIn(t, p, "dean", "the dean's passphrase", "Courses")
	p.waitText("navigation", "Pages of courses", "1–50 of 51")
	p.click("button", "Next page")
	p.waitText("navigation", "Pages of courses", "51–51 of 51")
	if n := p.evalFloat(`document.querySelectorAll('main ul.course-list > li').length`); n != 1 {
		t.Errorf("the second page of courses lists %v courses, want 1", n)
	}
	p.click("button", "Previous page")
	p.waitText("navigation", "Pages of courses", "1–50 of 51")
	p.click("link", "Users")
	p.waitFor("heading", "Users")
	p.waitText("status", "", "2 users")

	p.click("button", "New staff account")
	p.fill("textbox", "Email", "lowell@law.example.edu")
	p.fill("textbox", "Username", "lowell")
	p.fill("textbox", "Full name", "Amy Lowell")
	p.fill("textbox", "Password", "a professor passphrase")
	p.click("button", "Create user")
	p.waitText("status", "", "Created the professor account lowell")
	p.waitText("row", "", "lowell@law.example.edu")
	_, users := a.api(t, "GET", "/api/admin/users?q=lowell", adm, nil)
	found, _ := users["items"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["role"] != "professor" {
		t.Fatalf("the new account: %v", users)
	}
	lowellID := staffNum(found[0].(map[string]any)["id"])
	p.screenshot("admin-users")
	p.axe("admin users")

	// The student becomes a professor.
	p.waitFor("combobox", "Role of Hart Example")
	staffChoose(t, p, "Role of Hart Example", "Professor")
	p.waitText("status", "", "Hart Example is now a professor")
	_, hart := a.api(t, "GET", "/api/admin/users?q=hart", adm, nil)
	if h, _ := hart["items"].([]any); len(h) != 1 || h[0].(map[string]any)["role"] != "professor" {
		t.Fatalf("hart after the role change: %v", hart)
	}

	// Deactivating oneself is refused, in words.
	p.click("button", "Deactivate Dean Example")
	p.waitFor("dialog", "Deactivate Dean Example")
	p.click("button", "Yes, deactivate")
	p.waitText("alert", "", "cannot deactivate or demote your own account")
	p.click("button", "Cancel")

	// Amy Lowell is deactivated, and the list says so.
	p.click("button", "Deactivate Amy Lowell")
	p.waitFor("dialog", "Deactivate Amy Lowell")
	p.click("button", "Yes, deactivate")
	p.waitText("status", "", "Amy Lowell is deactivated")
	if row := p.waitText("row", "", "Inactive"); !strings.Contains(row, "Amy Lowell") {
		t.Errorf("the inactive row is %q, want Amy Lowell's", row)
	}
	p.waitFor("button", "Reactivate Amy Lowell")
	_, low := a.api(t, "GET", fmt.Sprintf("/api/admin/users?q=lowell"), adm, nil)
	if l, _ := low["items"].([]any); len(l) != 1 || l[0].(map[string]any)["is_active"] != false {
		t.Fatalf("lowell after deactivation: %v", low)
	}

	// The audit log shows the deactivation; the action filter keeps it.
	p.click("link", "Audit log")
	p.waitFor("heading", "Audit log")
	p.waitText("main", "", "Activated or deactivated a user")
	staffChoose(t, p, "Action", "Created a course")
	p.waitText("status", "", "51 entries")
	p.waitText("navigation", "Pages of the audit log", "1–50 of 51")
	p.click("button", "Next page")
	p.waitText("navigation", "Pages of the audit log", "51–51 of 51")
	staffChoose(t, p, "Action", "Activated or deactivated a user")
	p.waitText("status", "", "1 entry")
	row := p.waitText("row", "", "activation_change")
	if !strings.Contains(row, "Amy Lowell") || !strings.Contains(row, "#"+strconv.FormatInt(lowellID, 10)) || !strings.Contains(row, "Dean Example") {
		t.Errorf("the audit row %q does not name the actor and the deactivated user", row)
	}
	p.screenshot("admin-audit")
	p.axe("admin audit log")

	// Statistics match the API.
	p.click("link", "Statistics")
	p.waitFor("heading", "Statistics")
	p.waitFor("region", "Language model")
	_, stats := a.api(t, "GET", "/api/admin/stats", adm, nil)
	shown := p.evalString(`JSON.stringify(Object.fromEntries([...document.querySelectorAll('section.stat-group')].map(s => [s.querySelector('h2').textContent, Object.fromEntries([...s.querySelectorAll('.stat')].map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent.replace(/[^0-9]/g, '')]))])))`)
	sub := func(k string) map[string]any { m, _ := stats[k].(map[string]any); return m }
	want := map[string]map[string]any{
		"Users":     {"Students": sub("users")["student"], "Professors": sub("users")["professor"], "Admins": sub("users")["admin"]},
		"Courses":   {"Courses": stats["courses"]},
		"Documents": {"Queued": sub("documents")["queued"], "Processing": sub("documents")["processing"], "Processed": sub("documents")["processed"], "Failed": sub("documents")["failed"]},
		"Sessions":  {"This week": sub("sessions")["this_week"], "Total": sub("sessions")["total"], "Moderated": sub("sessions")["moderated"]},
		"Language model": {"Tokens today": sub("model")["tokens_today"], "Tokens in all": sub("model")["tokens_total"],
			"Calls running now": sub("model")["calls_in_flight"], "Most at once": sub("model")["max_concurrent"]},
	}
	if staffNum(sub("users")["professor"]) != 2 || staffNum(sub("users")["admin"]) != 1 || staffNum(stats["courses"]) != 51 ||
		staffNum(sub("documents")["processed"]) != 1 || staffNum(sub("sessions")["total"]) != 1 {
		t.Fatalf("stats: %v", stats)
	}
	for group, rows := range want {
		for label, v := range rows {
			needle := fmt.Sprintf("%q:%q", label, strconv.FormatInt(staffNum(v), 10))
			if v == nil || !strings.Contains(sectionOf(shown, group), needle) {
				t.Errorf("Statistics, %s: want %s (API %v) in %s", group, needle, v, shown)
			}
		}
	}
	p.screenshot("admin-statistics")
	p.axe("admin statistics")
}

// sectionOf is the JSON object of one group in the page's statistics.
func sectionOf(all, group string) string {
	i := strings.Index(all, fmt.Sprintf("%q:{", group))
	if i < 0 {
		return ""
	}
	j := strings.Index(all[i:], "}")
	return all[i : i+j+1]
}

// TestBrowserStaffProfessorManagesACourse: the rest of a professor's
// work — students added by email (with the addresses that could not be
// added, in words) and removed, the course edited, themes written by hand
// and regenerated, a reading reprocessed and deleted, a session's
// recording played, and the course deleted.
func TestBrowserStaffProfessorManagesACourse(t *testing.T) {
	a := startApp(t)
	a.createUser(t, "professor", "kingsfield@law.example.edu", "kingsfield", "contracts are hard")
	a.createUser(t, "professor", "hart@law.example.edu", "hart", "another professor")
	prof := a.login(t, "kingsfield", "contracts are hard")
	st, c := a.api(t, "POST", "/api/courses", prof, map[string]any{"code": "LAW 103", "name": "Evidence"})
	if st != 201 {
		t.Fatalf("create course: %d %v", st, c)
	}
	courseID := staffNum(c["id"])
	st, w := a.api(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", courseID), prof, map[string]any{"week_number": 2, "title": "Hearsay"})
	if st != 201 {
		t.Fatalf("create week: %d %v", st, w)
	}
	weekID := staffNum(w["id"])
	docID := a.uploadPDF(t, prof, int(weekID), testenv.CorpusPDF(staffPDF))
	a.waitProcessed(t, prof, docID)
	if st, u := a.api(t, "POST", "/api/auth/register", "", map[string]any{"email": "ada@students.example.edu", "username": "ada", "password": "a long passphrase", "full_name": "Ada Lovelace"}); st != 201 {
		t.Fatalf("register: %d %v", st, u)
	}

	p := openPage(t, a.base)
	staffSignIn(t, p, "kingsfield", "contracts are hard", "Courses")
	p.click("link", "Evidence")
	p.waitFor("heading", "LAW 103: Evidence")

	// Students by email: one enrolled, one unknown, one not a student.
	p.fill("textbox", "Add students by email", "ada@students.example.edu, nobody@example.edu\nhart@law.example.edu")
	p.click("button", "Add students")
	p.waitText("status", "", "Enrolled 1 student: ada@students.example.edu")
	p.waitText("status", "", "No account has this address: nobody@example.edu")
	p.waitText("status", "", "not a student's: hart@law.example.edu")
	p.waitText("region", "Students", "Ada Lovelace")
	// The addresses that could not be added stay in the field, to correct.
	if got := p.evalString(`[...document.querySelectorAll('textarea')].find(e => e.labels[0].textContent === 'Add students by email').value`); got != "nobody@example.edu\nhart@law.example.edu" {
		t.Errorf("the field keeps %q, want the two addresses not enrolled", got)
	}
	p.click("button", "Remove Ada Lovelace")
	p.waitFor("dialog", "Remove Ada Lovelace")
	p.click("button", "Yes, remove")
	p.waitText("status", "", "Ada Lovelace was removed from the course")
	p.waitText("region", "Students", "No students yet")
	if st, l := a.api(t, "GET", fmt.Sprintf("/api/courses/%d/students", courseID), prof, nil); st != 200 || staffNum(l["total"]) != 0 {
		t.Errorf("students after removal: %d %v", st, l)
	}

	// Editing the course.
	p.click("button", "Edit course")
	p.fill("textbox", "Course name", "Evidence and Proof")
	p.click("button", "Save changes")
	p.waitFor("heading", "LAW 103: Evidence and Proof")

	// Themes by hand, then regenerated from the reading.
	p.click("link", "Week 2: Hearsay")
	p.waitFor("heading", "Week 2: Hearsay")
	p.fill("textbox", "Themes", "my own theme\n  \nanother of mine")
	p.click("button", "Save week")
	p.waitText("status", "", "Saved")
	if _, wk := a.api(t, "GET", fmt.Sprintf("/api/weeks/%d", weekID), prof, nil); fmt.Sprint(wk["themes"]) != "[my own theme another of mine]" {
		t.Fatalf("themes after saving: %v", wk["themes"])
	}
	p.click("button", "Regenerate themes")
	p.waitText("status", "", "New themes are ready")
	_, wk := a.api(t, "GET", fmt.Sprintf("/api/weeks/%d", weekID), prof, nil)
	themes, _ := wk["themes"].([]any)
	if len(themes) == 0 || fmt.Sprint(themes) == "[my own theme another of mine]" {
		t.Fatalf("themes after regenerating: %v", themes)
	}
	if got := p.waitText("textbox", "Themes", fmt.Sprint(themes[0])); strings.Contains(got, "my own theme") {
		t.Errorf("the Themes field reads %q, want only the new themes %v", got, themes)
	}

	// The reading can be downloaded (with the token, as a file link).
	p.click("link", "Download "+staffPDF)
	deadline := time.Now().Add(10 * time.Second)
	for !p.evalBool(`[...document.querySelectorAll('a[download]')].some(a => a.href.startsWith('blob:') && a.download === ` + strconv.Quote(staffPDF) + `)`) {
		if time.Now().After(deadline) {
			t.Fatal("Download never became a file link")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Reprocess, then delete the reading.
	p.click("button", "Reprocess "+staffPDF)
	p.waitText("status", "", "will be processed again")
	a.waitProcessed(t, prof, docID)
	p.waitText("listitem", staffPDF, "Status: processed")
	p.click("button", "Delete "+staffPDF)
	p.waitFor("dialog", "Delete "+staffPDF)
	p.click("button", "Yes, delete it")
	p.waitText("main", "", "No readings yet")
	if n := len(a.documentsOf(t, prof, weekID)); n != 0 {
		t.Errorf("%d documents left after deleting", n)
	}

	// A session with a recording plays in the page, from an object URL.
	sid := staffSessionWithAudio(t, a, prof, weekID)
	p.click("link", "Sessions")
	p.waitFor("heading", "Sessions")
	p.click("link", "kingsfield")
	p.waitFor("heading", "Recording")
	deadline = time.Now().Add(15 * time.Second)
	for !p.evalBool(`(() => { const a = document.querySelector('audio'); return !!a && a.src.startsWith('blob:') && a.readyState >= 1 && a.duration > 0.5 })()`) {
		if time.Now().After(deadline) {
			t.Fatalf("session %d: the recording never loaded in the audio player", sid)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Deleting the course, after confirming.
	p.click("link", "LAW 103: Evidence and Proof")
	p.waitFor("heading", "LAW 103: Evidence and Proof")
	p.click("button", "Delete course")
	p.waitFor("dialog", "Delete course")
	p.click("button", "Yes, delete the course")
	p.waitFor("heading", "Courses")
	p.waitText("main", "", "No courses yet")
	if st, l := a.api(t, "GET", "/api/courses", prof, nil); st != 200 || staffNum(l["total"]) != 0 {
		t.Errorf("courses after deleting: %d %v", st, l)
	}
}

// staffSessionWithAudio is a professor's own try of a week, ended with a
// one-second WAV recording; it returns the session's id.
func staffSessionWithAudio(t *testing.T, a *appServer, tok string, weekID int64) int64 {
	t.Helper()
	// The reading was deleted above: upload it again so the week can start.
	a.waitProcessed(t, tok, a.uploadPDF(t, tok, int(weekID), testenv.CorpusPDF(staffPDF)))
	st, s := a.api(t, "POST", "/api/sessions/start", tok, map[string]any{"week_id": weekID})
	if st != 201 {
		t.Fatalf("start: %d %v", st, s)
	}
	sid := staffNum(s["session_id"])
	const rate = 8000
	wav := make([]byte, 44+rate*2)
	copy(wav, "RIFF")
	binary.LittleEndian.PutUint32(wav[4:], uint32(len(wav)-8))
	copy(wav[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(wav[16:], 16)
	binary.LittleEndian.PutUint16(wav[20:], 1) // PCM
	binary.LittleEndian.PutUint16(wav[22:], 1) // mono
	binary.LittleEndian.PutUint32(wav[24:], rate)
	binary.LittleEndian.PutUint32(wav[28:], rate*2)
	binary.LittleEndian.PutUint16(wav[32:], 2)
	binary.LittleEndian.PutUint16(wav[34:], 16)
	copy(wav[36:], "data")
	binary.LittleEndian.PutUint32(wav[40:], rate*2)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("audio", "session.wav")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(wav)
	mw.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/sessions/%d/end", a.base, sid), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("end with audio: %d %s", res.StatusCode, out)
	}
	if _, d := a.api(t, "GET", fmt.Sprintf("/api/sessions/%d", sid), tok, nil); d["has_audio"] != true {
		t.Fatalf("session %d has no audio: %v", sid, d)
	}
	return sid
}
