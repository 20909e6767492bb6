package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/web/app"
)

// The web client's files are served from the binary under their content's
// hash: brotli, gzip or plain as the browser accepts, cached for a year,
// each with its own type; the page names only them, under the client's
// policy; any other version or name is a 404 in words.
func TestAppAssetsServed(t *testing.T) {
	f := newFixture(t)
	page := f.do(request{method: "GET", path: "/", header: map[string]string{"Accept": "text/html"}})
	if page.status != 200 || page.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("page: %d, Cache-Control %q", page.status, page.header.Get("Cache-Control"))
	}
	if pp := page.header.Get("Permissions-Policy"); !strings.Contains(pp, "microphone=(self)") || !strings.Contains(pp, "camera=()") {
		t.Errorf("Permissions-Policy %q", pp)
	}
	if csp := page.header.Get("Content-Security-Policy"); csp != app.CSP(nil) {
		t.Errorf("CSP %q, want %q", csp, app.CSP(nil))
	}
	refs := regexp.MustCompile(`(?:href|src)="(/app/[^"]+)"`).FindAllStringSubmatch(string(page.body), -1)
	if len(refs) < len(app.FirstScreen) {
		t.Fatalf("the page names %d files, want at least %d:\n%s", len(refs), len(app.FirstScreen), page.body)
	}
	for _, name := range app.Names() {
		p := "/app/" + app.Version + "/" + name
		a, _ := app.Lookup(app.Version, name)
		for _, enc := range []string{"br, gzip", "gzip", ""} {
			res := f.do(request{method: "GET", path: p, header: map[string]string{"Accept-Encoding": enc}})
			if res.status != 200 {
				t.Fatalf("%s (%q): %d %s", p, enc, res.status, res.body)
			}
			if res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(res.header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Cache-Control %q, Vary %q", p, res.header.Get("Cache-Control"), res.header.Get("Vary"))
			}
			if res.header.Get("Content-Type") != a.ContentType {
				t.Errorf("%s: Content-Type %q, want %q", p, res.header.Get("Content-Type"), a.ContentType)
			}
			var body []byte
			var err error
			switch want := map[string]string{"br, gzip": "br", "gzip": "gzip", "": ""}[enc]; {
			case res.header.Get("Content-Encoding") != want:
				t.Fatalf("%s (%q): Content-Encoding %q, want %q", p, enc, res.header.Get("Content-Encoding"), want)
			case want == "br":
				body, err = io.ReadAll(brotli.NewReader(bytes.NewReader(res.body)))
			case want == "gzip":
				var zr *gzip.Reader
				if zr, err = gzip.NewReader(bytes.NewReader(res.body)); err == nil {
					body, err = io.ReadAll(zr)
				}
			default:
				body = res.body
			}
			if err != nil || !bytes.Equal(body, a.Plain) {
				t.Errorf("%s (%q): the decoded body is not the file (%v)", p, enc, err)
			}
		}
	}
	for _, p := range []string{"/app/000000000000/main.js", "/app/" + app.Version + "/nope.js", "/app/" + app.Version + "/..%2fapp.go"} {
		res := f.do(request{method: "GET", path: p})
		if res.status != 404 || !strings.Contains(string(res.body), "no such file") {
			t.Errorf("%s: %d %s, want 404 in words", p, res.status, res.body)
		}
	}
}

// With ElevenLabs voice the page may also talk to its hosts — those, and
// no others.
func TestAppPolicyAllowsTheVoiceProvider(t *testing.T) {
	f := newFixture(t, func(c *config.Config) {
		c.VoiceProvider, c.ElevenLabsAPIKey, c.ElevenLabsBaseURL = "elevenlabs", "xi-key-never-shown", "https://api.elevenlabs.io"
	})
	page := f.do(request{method: "GET", path: "/", header: map[string]string{"Accept": "text/html"}})
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.elevenlabs.io wss://api.elevenlabs.io") {
		t.Errorf("CSP %q does not let the client reach ElevenLabs", csp)
	}
	if !strings.Contains(string(page.body), `data-voice-provider="elevenlabs"`) || strings.Contains(string(page.body), "xi-key") {
		t.Errorf("page:\n%s", page.body)
	}
}
