package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestDocsRenderOffline: /docs and every file it loads come from this
// server, through the real router: each script and stylesheet the page
// names, each url() inside those stylesheets, and the description the page
// reads. Nothing points at another host, so the page renders with the
// network off.
func TestDocsRenderOffline(t *testing.T) {
	f := newFixture(t)
	page := f.do(get("/docs", ""))
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", page.status, page.header.Get("Content-Type"))
	}
	csp := page.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "img-src 'self' data:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("docs CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-eval") || regexp.MustCompile(`script-src[^;]*unsafe-inline`).MatchString(csp) {
		t.Errorf("docs CSP allows more than this server's files: %s", csp)
	}
	body := string(page.body)
	if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]*\S[^<]*</script>`).MatchString(body) || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
		t.Errorf("docs page has inline script or style (the CSP forbids it):\n%s", body)
	}

	scripts := attrs(body, "script", "src")
	styles := attrs(body, "link", "href")
	if len(scripts) < 2 || len(styles) < 1 {
		t.Fatalf("docs page loads %d scripts and %d stylesheets:\n%s", len(scripts), len(styles), body)
	}
	spec := regexp.MustCompile(`data-spec-url="([^"]+)"`).FindStringSubmatch(body)
	if spec == nil {
		t.Fatalf("docs page names no description:\n%s", body)
	}
	fetched := 0
	fetch := func(ref, wantType string) []byte {
		t.Helper()
		path := onThisServer(t, ref)
		plain := f.do(get(path, ""))
		if plain.status != 200 || !strings.HasPrefix(plain.header.Get("Content-Type"), wantType) {
			t.Fatalf("%s: %d %q, want 200 %s", path, plain.status, plain.header.Get("Content-Type"), wantType)
		}
		fetched++
		if wantType == "application/json" {
			return plain.body
		}
		if cc := plain.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q, want a year, immutable (its name changes with its contents)", path, cc)
		}
		zipped := f.do(request{method: "GET", path: path, header: map[string]string{"Accept-Encoding": "gzip, deflate, br"}})
		if zipped.status != 200 || zipped.header.Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s with gzip: %d, Content-Encoding %q, Vary %q", path, zipped.status, zipped.header.Get("Content-Encoding"), zipped.header.Get("Vary"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, plain.body) {
			t.Fatalf("%s: the gzipped answer is not the plain one (err %v)", path, err)
		}
		if len(zipped.body) >= len(plain.body) {
			t.Errorf("%s: gzip saves nothing (%d vs %d bytes)", path, len(zipped.body), len(plain.body))
		}
		return plain.body
	}
	for _, s := range scripts {
		fetch(s, "text/javascript")
	}
	for _, s := range styles {
		css := string(fetch(s, "text/css"))
		for _, m := range regexp.MustCompile(`url\(\s*["']?([^"')]+)`).FindAllStringSubmatch(css, -1) {
			if strings.HasPrefix(m[1], "data:") {
				continue
			}
			// Relative to the stylesheet, as a browser resolves it.
			base, _ := url.Parse(s)
			ref, err := url.Parse(m[1])
			if err != nil {
				t.Fatalf("%s: url(%s): %v", s, m[1], err)
			}
			fetch(base.ResolveReference(ref).String(), "")
		}
		if strings.Contains(css, "@import") {
			t.Errorf("%s imports another stylesheet", s)
		}
	}
	if b := fetch(spec[1], "application/json"); !bytes.Contains(b, []byte(`"openapi":"3.1.0"`)) {
		t.Errorf("%s is not the OpenAPI description", spec[1])
	}
	if fetched < 4 {
		t.Errorf("fetched only %d files", fetched)
	}

	// A file of another version, or none, is not served.
	for _, p := range []string{docsAssetBase + "/000000000000/docs-init.js", onThisServer(t, scripts[0]) + "x"} {
		if res := f.do(get(p, "")); res.status != 404 {
			t.Errorf("%s: %d, want 404", p, res.status)
		}
	}
}

// attrs returns the value of attr on every tag element of page.
func attrs(page, tag, attr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<`+tag+`\s[^>]*>`).FindAllString(page, -1) {
		if v := regexp.MustCompile(`\s` + attr + `="([^"]*)"`).FindStringSubmatch(m); v != nil {
			out = append(out, v[1])
		}
	}
	return out
}

// onThisServer fails t unless ref is a path on this server (no scheme, no host,
// not protocol-relative), and returns it.
func onThisServer(t *testing.T, ref string) string {
	t.Helper()
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
		t.Fatalf("docs refer to %q, which is not a path on this server", ref)
	}
	return ref
}

// TestRootAnswersBrowsersHTMLAndProgramsJSON: / is the JSON it always was
// for programs (no Accept, */*, JSON, or HTML no better than JSON), and a
// small page for browsers.
func TestRootAnswersBrowsersHTMLAndProgramsJSON(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		accept string
		html   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/json, text/plain, */*", false}, // axios
		{"text/html, application/json", false},       // a tie goes to JSON
		{"text/html;q=0.5, application/json", false},
		{"text/plain", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", true}, // Chrome, Firefox
		{"text/html", true},
		{"application/xhtml+xml", true},
		{"text/html;q=0.9, application/json;q=0.8", true},
	}
	for _, c := range cases {
		res := f.do(request{method: "GET", path: "/", header: map[string]string{"Accept": c.accept}})
		if res.status != 200 || !strings.Contains(res.header.Get("Vary"), "Accept") {
			t.Fatalf("Accept %q: %d, Vary %q", c.accept, res.status, res.header.Get("Vary"))
		}
		ct := res.header.Get("Content-Type")
		if !c.html {
			m := res.json(t)
			if ct != "application/json" || m["message"] != "Socratic Law Tutor API" || m["version"] != "0.1.0" {
				t.Errorf("Accept %q: %s %s, want the JSON", c.accept, ct, res.body)
			}
			continue
		}
		body := string(res.body)
		if !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Accept %q: %s, want HTML", c.accept, ct)
			continue
		}
		for _, want := range []string{"<title>Socratic Law Tutor</title>", "0.1.0", `href="/docs"`, `href="/openapi.json"`} {
			if !strings.Contains(body, want) {
				t.Errorf("Accept %q: the page lacks %s:\n%s", c.accept, want, body)
			}
		}
		// The web client: its scripts are files from this server (no
		// inline script, nothing from elsewhere), under its own policy.
		scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1)
		if len(scripts) != 1 || !regexp.MustCompile(`^<script type="module" src="/app/[0-9a-f]{12}/main\.js">$`).MatchString(scripts[0]) {
			t.Errorf("Accept %q: scripts %q, want the one module /app/<version>/main.js", c.accept, scripts)
		}
		if strings.Contains(body, "http:") || strings.Contains(body, "https:") || strings.Contains(body, "//") {
			t.Errorf("Accept %q: the page names another host:\n%s", c.accept, body)
		}
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Errorf("Accept %q: Content-Security-Policy %q, want the client's strict policy", c.accept, csp)
		}
	}
}

// A cross-origin request to / or a docs file keeps the CORS middleware's
// "Vary: Origin" beside the handler's own Vary: these answers are cached
// (the docs files for a year), and a shared cache must not hand one
// origin's Access-Control-Allow-Origin to another.
func TestNegotiatedAnswersKeepVaryOrigin(t *testing.T) {
	f := newFixture(t)
	page := f.do(request{method: "GET", path: "/docs"})
	asset := regexp.MustCompile(`src="(/docs/assets/[^"]+)"`).FindStringSubmatch(string(page.body))
	if asset == nil {
		t.Fatalf("no script asset in /docs:\n%s", page.body)
	}
	for _, path := range []string{"/", asset[1]} {
		res := f.do(request{method: "GET", path: path, header: map[string]string{"Origin": "http://localhost:5173", "Accept-Encoding": "gzip"}})
		if res.status != 200 {
			t.Fatalf("%s: %d", path, res.status)
		}
		vary := strings.Join(res.header.Values("Vary"), ",")
		if !strings.Contains(vary, "Origin") || res.header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
			t.Errorf("%s: Vary %q, Access-Control-Allow-Origin %q: want Vary to name Origin", path, vary, res.header.Get("Access-Control-Allow-Origin"))
		}
	}
}
