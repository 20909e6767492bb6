package app

import (
	"regexp"
	"strings"
	"testing"
)

// Every module the client imports, statically or on demand, is a file of
// this package: a misspelt import would only fail in a browser, on the
// screen that needs it.
func TestEveryImportResolves(t *testing.T) {
	imp := regexp.MustCompile(`(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']`)
	seen := 0
	for _, n := range Names() {
		// The ElevenLabs bundle imports nothing (TestElevenLabsBundle);
		// its minified strings ("from " + …) only look like imports.
		if !strings.HasSuffix(n, ".js") || vendoredSDK[n] {
			continue
		}
		a, _ := Lookup(Version, n)
		for _, m := range imp.FindAllStringSubmatch(string(a.Plain), -1) {
			seen++
			target, ok := strings.CutPrefix(m[1], "./")
			if !ok || strings.Contains(target, "/") {
				t.Errorf("%s imports %q: imports must name a file beside it (./name.js)", n, m[1])
				continue
			}
			if _, ok := Lookup(Version, target); !ok {
				t.Errorf("%s imports %q, which is not in static/", n, m[1])
			}
		}
	}
	if seen < 5 {
		t.Fatalf("found only %d imports: the pattern no longer matches the code", seen)
	}
}

// The client's code never writes a style attribute or inline script, which
// the page's policy (style-src 'self', script-src 'self') would refuse at
// run time, silently.
func TestNoInlineStyleOrScript(t *testing.T) {
	bad := regexp.MustCompile(`\bstyle=\$?\{|\bstyle="|setAttribute\(\s*["']style|\.innerHTML\s*=|\beval\(|new Function\(|javascript:`)
	for _, n := range Names() {
		if !strings.HasSuffix(n, ".js") || n == "preact.js" || n == "hooks.js" || n == "htm.js" || vendoredSDK[n] {
			continue
		}
		a, _ := Lookup(Version, n)
		for i, line := range strings.Split(string(a.Plain), "\n") {
			if bad.MatchString(line) {
				t.Errorf("%s:%d: %s", n, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// vendoredSDK are the files scripts/update-elevenlabs-client writes: the
// ElevenLabs browser SDK, bundled, and its audio worklets. They are not
// ours, so the rules of our code are not applied line by line;
// TestElevenLabsBundle checks what matters about them.
var vendoredSDK = map[string]bool{
	"elevenlabs-client.js":                 true,
	"elevenlabs-raw-audio-processor.js":    true,
	"elevenlabs-audio-concat-processor.js": true,
}

// The vendored SDK runs under the page's policy: no eval or new Function
// (script-src 'self' refuses them), no inline script, nothing imported
// (the page has no import map, and the bundle must be self-contained), no
// module loaded from elsewhere; it exports what elevenlabs.js uses. And it
// is never part of the first screen.
func TestElevenLabsBundle(t *testing.T) {
	for n := range vendoredSDK {
		a, ok := Lookup(Version, n)
		if !ok {
			t.Fatalf("%s is not in static/: run scripts/update-elevenlabs-client", n)
		}
		src := string(a.Plain)
		for _, bad := range []*regexp.Regexp{
			regexp.MustCompile(`\beval\(|new Function\(|\.innerHTML\s*=|javascript:|document\.write`),
			regexp.MustCompile(`(^|[;}\n])\s*import\s*[{"'*\w]|\bimport\(|importScripts\(`),
		} {
			if m := bad.FindString(src); m != "" {
				t.Errorf("%s contains %q", n, m)
			}
		}
		for _, f := range FirstScreen {
			if f == n {
				t.Errorf("%s is loaded on the first screen", n)
			}
		}
	}
	a, _ := Lookup(Version, "elevenlabs-client.js")
	if !regexp.MustCompile(`export\s*\{[^}]*\bConversation\b[^}]*\}`).Match(a.Plain) {
		t.Error("elevenlabs-client.js does not export Conversation")
	}
	for _, n := range []string{"elevenlabs-raw-audio-processor.js", "elevenlabs-audio-concat-processor.js"} {
		a, _ := Lookup(Version, n)
		if !strings.Contains(string(a.Plain), "registerProcessor(") {
			t.Errorf("%s is not an audio worklet processor", n)
		}
	}
}

func TestPageAndPolicy(t *testing.T) {
	p := string(Page("/app", Settings{AppName: `A <b>"school"</b>`, AppVersion: "1.2", VoiceProvider: "browser", SessionMaxDurationSeconds: 300}))
	if strings.Contains(p, "<b>") || !strings.Contains(p, "A &lt;b&gt;&#34;school&#34;&lt;/b&gt;") {
		t.Errorf("the app's name is not escaped:\n%s", p)
	}
	for _, n := range FirstScreen {
		if !strings.Contains(p, "/app/"+Version+"/"+n) {
			t.Errorf("the page does not load first-screen file %s", n)
		}
	}
	csp := CSP(nil)
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
		t.Errorf("CSP %q allows too much", csp)
	}
	el := CSP(VoiceOrigins("https://api.elevenlabs.io"))
	if !strings.HasSuffix(el, "connect-src 'self' https://api.elevenlabs.io wss://api.elevenlabs.io https://livekit.rtc.elevenlabs.io wss://livekit.rtc.elevenlabs.io") {
		t.Errorf("ElevenLabs CSP: %q", el)
	}
}
