package main

// The web client's browser-test harness: the real binary on a fresh data
// directory, a headless Chromium tab on it, and helpers that find what a
// person finds — controls by their accessibility role and accessible name
// (../shared/UI.md), read from Chromium's own accessibility tree, never by
// CSS class or layout.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lawtutor/socratic/internal/testenv"
	"github.com/lawtutor/socratic/internal/testenv/browsertest"
)

// appServer is the real binary serving a fresh data directory.
type appServer struct {
	*server
	bin, dir string
}

// startApp starts `socratic serve` keyless (offline tutor, browser voice)
// on a fresh data directory, with turn pacing off (tests send turns back
// to back) and PDFium's compile cache shared across tests. env adds or
// overrides settings ("SESSION_MAX_DURATION_SECONDS=30").
func startApp(t testing.TB, env ...string) *appServer {
	t.Helper()
	bin := buildBinary(t)
	dir := t.TempDir()
	shareCompileCache(t, dir)
	env = append([]string{"SESSION_MIN_TURN_INTERVAL_SECONDS=0"}, env...)
	return &appServer{server: startServerEnv(t, bin, dir, env...), bin: bin, dir: dir}
}

// createUser makes an account with `socratic user create`, as IT staff do.
func (a *appServer) createUser(t testing.TB, role, email, username, password string) {
	t.Helper()
	cmd := exec.Command(a.bin, "user", "create", "--role", role, "--email", email, "--username", username, "--full-name", strings.ToUpper(username[:1])+username[1:]+" Example")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + a.dir}, withEngine(t, a.dir, nil)...)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user create %s: %v\n%s", username, err, out)
	}
}

// login returns an access token for the account.
func (a *appServer) login(t testing.TB, username, password string) string {
	t.Helper()
	status, body := a.api(t, "POST", "/api/auth/login", "", map[string]any{"username": username, "password": password})
	tok, _ := body["access_token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("login %s: %d %v", username, status, body)
	}
	return tok
}

// api calls a JSON endpoint; body (nil for none) is sent as JSON. The
// answer is decoded into a map when it is a JSON object (lists come as
// {"items": [...]}).
func (a *appServer) api(t testing.TB, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	status, raw := a.call(method, path, token, ct, b)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, status, raw)
		}
	}
	return status, out
}

// uploadPDF uploads a PDF to a week and returns the document's id.
func (a *appServer) uploadPDF(t testing.TB, token string, weekID int, pdf string) int {
	t.Helper()
	data, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", filepath.Base(pdf))
	fw.Write(data)
	mw.Close()
	status, raw := a.call("POST", "/api/documents/upload?week_id="+strconv.Itoa(weekID), token, mw.FormDataContentType(), buf.Bytes())
	var out struct {
		DocumentID int `json:"document_id"`
	}
	if (status != 202 && status != 200) || json.Unmarshal(raw, &out) != nil || out.DocumentID == 0 {
		t.Fatalf("upload %s: %d %s", pdf, status, raw)
	}
	return out.DocumentID
}

// waitProcessed waits (up to two minutes) for a document to be processed.
func (a *appServer) waitProcessed(t testing.TB, token string, docID int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, d := a.api(t, "GET", "/api/documents/"+strconv.Itoa(docID), token, nil)
		switch d["status"] {
		case "processed":
			return
		case "failed":
			t.Fatalf("document %d failed: %v", docID, d["error"])
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %d still %v after 2 minutes\n%s", docID, d["status"], a.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// num reads a JSON number field as an int.
func num(m map[string]any, key string) int {
	f, _ := m[key].(float64)
	return int(f)
}

// page is one browser tab on the app.
type page struct {
	t    testing.TB
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
}

type pageConfig struct {
	initScripts []string
	mobile      bool
}

type pageOption func(*pageConfig)

// withInitScript runs js in every document the tab loads, before the
// page's own scripts (to replace browser APIs with stubs).
func withInitScript(js string) pageOption {
	return func(c *pageConfig) { c.initScripts = append(c.initScripts, js) }
}

// withMobile sizes the tab as a phone (375 × 812) from the start.
func withMobile() pageOption { return func(c *pageConfig) { c.mobile = true } }

// The two sizes every screenshot is taken at.
const (
	desktopW, desktopH = 1280, 800
	mobileW, mobileH   = 375, 812
)

// openPage opens a tab in a new headless Chromium (microphone and its
// permission faked, so recording works), at desktop size unless
// withMobile. Any Content-Security-Policy refusal, uncaught exception or
// console error in the tab fails the test when it ends.
func openPage(t testing.TB, base string, opts ...pageOption) *page {
	t.Helper()
	var cfg pageConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx := browsertest.New(t,
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	p := &page{t: t, ctx: ctx, base: base}
	isCSP := func(s string) bool {
		return strings.Contains(s, "Refused to") || strings.Contains(s, "Content Security Policy")
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				desc += " " + d.Exception.Description
			}
			p.problem("exception at %s:%d: %s", d.URL, d.LineNumber+1, desc)
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			msg := strings.Join(parts, " ")
			if ev.Type == runtime.ConsoleAPICalledTypeError || isCSP(msg) {
				p.problem("console.%s: %s", ev.Type, msg)
			}
		case *log.EventEntryAdded:
			e := ev.Entry
			switch {
			case e.Source == log.EntrySourceNetwork:
				// A failed request the app expected and handled (a 404 for a
				// session without a recording, a 409 shown in words) is not
				// a fault of the page; what it shows is checked by the test.
			case e.Level == log.EntryLevelError || isCSP(e.Text):
				p.problem("log %s/%s (%s): %s", e.Source, e.Level, e.URL, e.Text)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	w, h := int64(desktopW), int64(desktopH)
	if cfg.mobile {
		w, h = mobileW, mobileH
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(w, h)}
	for _, js := range cfg.initScripts {
		js := js
		steps = append(steps, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: js})
			return err
		}))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, pr := range p.problems {
			t.Errorf("browser: %s", pr)
		}
	})
	return p
}

func (p *page) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

// wait is how long a helper waits for the page to show something.
const wait = 15 * time.Second

// visit navigates to the app's client route ("/", "/courses/3").
func (p *page) visit(route string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(p.base+"/#"+route)); err != nil {
		p.t.Fatalf("navigate to %s: %v", route, err)
	}
}

// axNode is a node of the accessibility tree that a person could find.
type axNode struct {
	role, name string
	disabled   bool
	backend    cdp.BackendNodeID
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s any
	if json.Unmarshal(v.Value, &s) != nil {
		return ""
	}
	if str, ok := s.(string); ok {
		return str
	}
	return fmt.Sprint(s)
}

// nodes reads the tab's accessibility tree.
func (p *page) nodes(ctx context.Context) ([]axNode, error) {
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (accessibility.GetFullAXTreeResult, error) {
		return cdp.Call(ctx, tg, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	})
	if err != nil {
		return nil, err
	}
	var out []axNode
	for _, n := range res.Nodes {
		if n.Ignored || n.BackendDOMNodeID == 0 {
			continue
		}
		a := axNode{role: axString(n.Role), name: axString(n.Name), backend: n.BackendDOMNodeID}
		for _, pr := range n.Properties {
			if pr.Name == accessibility.PropertyNameDisabled && axString(pr.Value) == "true" {
				a.disabled = true
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// pick chooses the node with the role ("" for any) whose accessible name
// is name (case-insensitive), else the first whose name contains it.
func pick(nodes []axNode, role, name string) (axNode, bool) {
	want := strings.ToLower(strings.TrimSpace(name))
	var partial *axNode
	for i, n := range nodes {
		if role != "" && n.role != role {
			continue
		}
		have := strings.ToLower(strings.Join(strings.Fields(n.name), " "))
		if have == want {
			return n, true
		}
		if partial == nil && strings.Contains(have, want) {
			partial = &nodes[i]
		}
	}
	if partial != nil {
		return *partial, true
	}
	return axNode{}, false
}

// find waits until an element with the role and name is on screen (and,
// if enabled, not disabled) and returns it.
func (p *page) find(role, name string, enabled bool) axNode {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	var last []axNode
	for {
		nodes, err := p.nodes(p.ctx)
		if err == nil {
			last = nodes
			if n, ok := pick(nodes, role, name); ok && (!enabled || !n.disabled) {
				return n
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, n := range last {
				if n.name != "" && n.role != "StaticText" && n.role != "InlineTextBox" {
					d := ""
					if n.disabled {
						d = " (disabled)"
					}
					seen = append(seen, fmt.Sprintf("%s %q%s", n.role, n.name, d))
				}
			}
			what := "an"
			if enabled {
				what = "an enabled"
			}
			p.t.Fatalf("no %s %s named %q within %s; the page has:\n  %s\npage text:\n%s", what, role, name, wait, strings.Join(seen, "\n  "), p.bodyText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// call runs a function on an element (this = the element) and returns its
// JSON result.
func (p *page) callOn(n axNode, fn string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	return chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (json.RawMessage, error) {
		obj, err := cdp.Call(ctx, tg, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: n.backend})
		if err != nil {
			return nil, err
		}
		yes := true
		res, err := cdp.Call(ctx, tg, runtime.CallFunctionOn, runtime.CallFunctionOnParams{
			FunctionDeclaration: fn, ObjectID: obj.Object.ObjectID, ReturnByValue: &yes, AwaitPromise: &yes, UserGesture: &yes,
		})
		if err != nil {
			return nil, err
		}
		if res.ExceptionDetails != nil {
			return nil, fmt.Errorf("%s", res.ExceptionDetails.Text)
		}
		if res.Result == nil {
			return nil, nil
		}
		return json.RawMessage(res.Result.Value), nil
	})
}

// click activates the enabled element with the role and name, as a
// pointer click on its centre would (scrolled into view first).
func (p *page) click(role, name string) {
	p.t.Helper()
	n := p.find(role, name, true)
	if _, err := p.callOn(n, `function() { this.scrollIntoView({block: 'center'}); this.focus(); this.click(); }`); err != nil {
		p.t.Fatalf("click %s %q: %v", role, name, err)
	}
}

// fill replaces the text of the field with the role and name, typing it
// as the keyboard would insert it.
func (p *page) fill(role, name, text string) {
	p.t.Helper()
	n := p.find(role, name, true)
	if _, err := p.callOn(n, `function() { this.scrollIntoView({block: 'center'}); this.focus(); if (this.select) this.select(); }`); err != nil {
		p.t.Fatalf("focus %s %q: %v", role, name, err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	var err error
	if text == "" {
		err = chromedp.Do(ctx, chromedp.KeyEvent("\b")) // Backspace over the selection
	} else {
		err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}))
	}
	if err != nil {
		p.t.Fatalf("type into %s %q: %v", role, name, err)
	}
}

// press sends keys to the focused element ("\r" is Enter).
func (p *page) press(keys string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(keys)); err != nil {
		p.t.Fatalf("press %q: %v", keys, err)
	}
}

// waitFor waits until an element with the role and name is on screen.
func (p *page) waitFor(role, name string) { p.t.Helper(); p.find(role, name, false) }

// waitGone waits until no element with the role and name is on screen.
func (p *page) waitGone(role, name string) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		nodes, err := p.nodes(p.ctx)
		if err == nil {
			if _, ok := pick(nodes, role, name); !ok {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s %q still on screen after %s", role, name, wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the visible text of the element with the role and name.
func (p *page) text(role, name string) string {
	p.t.Helper()
	n := p.find(role, name, false)
	raw, err := p.callOn(n, `function() { return this.innerText !== undefined ? this.innerText : (this.value || ''); }`)
	if err != nil {
		p.t.Fatalf("text of %s %q: %v", role, name, err)
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}

// waitText waits until the element with the role and name (any name when
// "") shows text containing substr, and returns its text.
func (p *page) waitText(role, name, substr string) string {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	var last string
	for {
		nodes, err := p.nodes(p.ctx)
		if err == nil {
			for _, n := range nodes {
				if n.role != role || (name != "" && !strings.Contains(strings.ToLower(n.name), strings.ToLower(name))) {
					continue
				}
				raw, err := p.callOn(n, `function() { return this.innerText || this.value || ''; }`)
				var s string
				if err == nil && json.Unmarshal(raw, &s) == nil {
					last = s
					if strings.Contains(strings.ToLower(s), strings.ToLower(substr)) {
						return s
					}
				}
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s %q showing %q within %s (last text %q)\npage text:\n%s", role, name, substr, wait, last, p.bodyText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setFiles chooses files in the file field with the accessible name, as a
// person picking them in the file dialog would.
func (p *page) setFiles(name string, paths ...string) {
	p.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		nodes, err := p.nodes(p.ctx)
		if err == nil {
			for _, n := range nodes {
				if !strings.Contains(strings.ToLower(n.name), strings.ToLower(name)) {
					continue
				}
				raw, err := p.callOn(n, `function() { return this.tagName === 'INPUT' && this.type === 'file'; }`)
				if err != nil || string(raw) != "true" {
					continue
				}
				ctx, cancel := context.WithTimeout(p.ctx, wait)
				err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: paths, BackendNodeID: n.backend})
					return err
				}))
				cancel()
				if err != nil {
					p.t.Fatalf("set files on %q: %v", name, err)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no file field named %q within %s\npage text:\n%s", name, wait, p.bodyText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eval runs js in the page (awaiting a promise) and decodes its value into T.
func evalAs[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

func (p *page) eval(js string) any             { p.t.Helper(); return evalAs[any](p, js) }
func (p *page) evalString(js string) string    { p.t.Helper(); return evalAs[string](p, js) }
func (p *page) evalBool(js string) bool        { p.t.Helper(); return evalAs[bool](p, js) }
func (p *page) evalFloat(js string) float64    { p.t.Helper(); return evalAs[float64](p, js) }
func (p *page) evalStrings(js string) []string { p.t.Helper(); return evalAs[[]string](p, js) }

// bodyText is the page's visible text, for failure messages.
func (p *page) bodyText() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ''`))
	return s
}

var (
	axeOnce sync.Once
	axeJS   string
	axeErr  error
)

// axe runs axe-core (testdata/axe, vendored by scripts/update-axe) on the
// screen as it is and fails the test for every serious or critical
// violation of WCAG 2.1 A/AA or axe's best practices.
func (p *page) axe(screen string) {
	p.t.Helper()
	axeOnce.Do(func() {
		f, err := os.Open(testenv.Path("axe", "axe.min.js.gz"))
		if err != nil {
			axeErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			axeErr = err
			return
		}
		b, err := io.ReadAll(zr)
		axeJS, axeErr = string(b), err
	})
	if axeErr != nil {
		p.t.Fatalf("axe-core: %v", axeErr)
	}
	// The page's policy does not apply to what DevTools evaluates, so axe
	// is injected as is; it then runs inside the page's own document.
	if !p.evalBool(`typeof axe !== 'undefined'`) {
		evalAs[any](p, axeJS+"\n;true")
	}
	type violation struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	}
	js := `axe.run(document, {resultTypes: ['violations'], runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' '))})))`
	vs := evalAs[[]violation](p, js)
	n := 0
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			n++
			p.t.Errorf("axe on %s: %s (%s): %s\n    %s", screen, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
		} else {
			p.t.Logf("axe on %s (%s, not failing): %s: %s", screen, v.Impact, v.ID, v.Help)
		}
	}
	p.t.Logf("axe on %s: %d rules violated, %d serious or critical", screen, len(vs), n)
}

var (
	shotOnce sync.Once
	shotDir  string
)

// screenshotDir is where screenshots go: SOCRATIC_SCREENSHOTS, else
// socratic-screenshots in the temp folder. They are never committed.
func screenshotDir(t testing.TB) string {
	shotOnce.Do(func() {
		shotDir = os.Getenv("SOCRATIC_SCREENSHOTS")
		if shotDir == "" {
			shotDir = filepath.Join(os.TempDir(), "socratic-screenshots")
		}
		if err := os.MkdirAll(shotDir, 0o755); err != nil {
			shotDir = ""
		}
	})
	return shotDir
}

// screenshot writes the screen as it is, at desktop width and at 375 px,
// to <dir>/<name>-desktop.png and <name>-mobile.png, and puts the tab back
// to the size it had. At 375 px the page must not scroll sideways.
func (p *page) screenshot(name string) {
	p.t.Helper()
	dir := screenshotDir(p.t)
	if dir == "" {
		p.t.Fatal("no folder for screenshots")
	}
	w, h := int64(p.evalFloat(`window.innerWidth`)), int64(p.evalFloat(`window.innerHeight`))
	for _, size := range []struct {
		suffix string
		w, h   int64
	}{{"desktop", desktopW, desktopH}, {"mobile", mobileW, mobileH}} {
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(size.w, size.h))
		var shot []byte
		if err == nil {
			time.Sleep(150 * time.Millisecond) // let layout settle at the new width
			if size.suffix == "mobile" {
				if over := p.evalFloat(`document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 1 {
					p.t.Errorf("%s at %d px: the page is %.0f px wider than the screen (it scrolls sideways)", name, size.w, over)
				}
			}
			shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		cancel()
		if err != nil {
			p.t.Fatalf("screenshot %s-%s: %v", name, size.suffix, err)
		}
		path := filepath.Join(dir, name+"-"+size.suffix+".png")
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			p.t.Fatal(err)
		}
		p.t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	}
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		p.t.Fatal(err)
	}
}

// signIn fills the sign-in form and waits for the signed-in frame.
func (p *page) signIn(username, password string) {
	p.t.Helper()
	p.visit("/signin")
	p.fill("textbox", "Email or username", username)
	p.fill("textbox", "Password", password)
	p.click("button", "Sign in")
	p.waitFor("button", "Sign out")
}

// courseWorld is a course ready for students: a professor, a course with
// a week, and a processed reading.
type courseWorld struct {
	profToken                  string
	courseID, weekID, docID    int
	courseName, code, joinCode string
	reading                    string // the reading's file name
}

// setupCourse makes, through the API, a professor (kingsfield), a course
// with week 1, and one processed corpus reading.
func setupCourse(t testing.TB, a *appServer) courseWorld {
	t.Helper()
	a.createUser(t, "professor", "kingsfield@law.example.edu", "kingsfield", "contracts are hard")
	w := courseWorld{courseName: "Constitutional Law", code: "LAW 200", reading: "casebook-gowder-14th-amendment-reader-procedural-due-process-excerpt.pdf"}
	w.profToken = a.login(t, "kingsfield", "contracts are hard")
	status, c := a.api(t, "POST", "/api/courses", w.profToken, map[string]any{"code": w.code, "name": w.courseName})
	if status != 201 {
		t.Fatalf("course: %d %v", status, c)
	}
	w.courseID, w.joinCode = num(c, "id"), c["join_code"].(string)
	status, wk := a.api(t, "POST", fmt.Sprintf("/api/courses/%d/weeks", w.courseID), w.profToken, map[string]any{"week_number": 1, "title": "Procedural due process"})
	if status != 201 {
		t.Fatalf("week: %d %v", status, wk)
	}
	w.weekID = num(wk, "id")
	w.docID = a.uploadPDF(t, w.profToken, w.weekID, testenv.CorpusPDF(w.reading))
	a.waitProcessed(t, w.profToken, w.docID)
	return w
}

// addStudent registers a student through the API and enrols them with the
// course's join code; it returns their token.
func (a *appServer) addStudent(t testing.TB, w courseWorld, username, fullName string) string {
	t.Helper()
	password := "a long enough password"
	status, u := a.api(t, "POST", "/api/auth/register", "", map[string]any{"email": username + "@law.example.edu", "username": username, "password": password, "full_name": fullName, "join_code": w.joinCode})
	if status != 201 {
		t.Fatalf("register %s: %d %v", username, status, u)
	}
	return a.login(t, username, password)
}
