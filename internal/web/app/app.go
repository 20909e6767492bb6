// Package app is the web client: a handful of ES modules and a stylesheet,
// embedded in the binary and served under a URL that names their contents
// (so browsers keep them for a year), plus the one HTML page that loads
// them. The view library (Preact with htm) is vendored by
// scripts/update-app-vendor; everything else in static/ is ours, written
// as plain modules the browser runs as they are — there is no build step.
package app

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed static
var files embed.FS

// Asset is one file of the client. Its compressed forms are made on first
// request, not at start: every process that loads this package (serve,
// but also `user create`, `healthcheck`) would otherwise compress every
// file, the 630 kB ElevenLabs bundle included, before doing anything.
type Asset struct {
	Name        string
	ContentType string
	Plain       []byte
	gz, br      *lazy
}

// lazy is a value made once, on first use.
type lazy struct {
	once sync.Once
	b    []byte
}

func (l *lazy) get(make func() []byte) []byte {
	l.once.Do(func() { l.b = make() })
	return l.b
}

// Gzip returns the file gzip-compressed (best compression), compressing
// it once per process.
func (a Asset) Gzip() []byte {
	return a.gz.get(func() []byte {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(a.Plain)
		w.Close()
		return buf.Bytes()
	})
}

// Brotli returns the file brotli-compressed, compressing it once per process.
// Files over 256 kB (the vendored ElevenLabs SDK, 630 kB) are compressed
// at level 6: at the best level that file alone takes some 9 seconds,
// which the first student to open an ElevenLabs session would wait
// through; level 6 takes 0.15 s for a file 10% larger.
func (a Asset) Brotli() []byte {
	return a.br.get(func() []byte {
		var buf bytes.Buffer
		level := brotli.BestCompression
		if len(a.Plain) > 256<<10 {
			level = 6
		}
		w := brotli.NewWriterLevel(&buf, level)
		w.Write(a.Plain)
		w.Close()
		return buf.Bytes()
	})
}

var (
	assets = map[string]Asset{}
	// Version names this set of files in their URLs: a hash of their
	// contents, so new files get new URLs.
	Version string
)

// FirstScreen lists the files the sign-in screen needs; the page asks for
// them at once (modulepreload) and the rest (each role's screens, voice)
// only when they are used.
var FirstScreen = []string{"app.css", "main.js", "api.js", "ui.js", "preact.js", "hooks.js", "htm.js"}

func init() {
	var names []string
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, p := range names {
		b, err := files.ReadFile(p)
		if err != nil {
			panic(err)
		}
		name := path.Base(p)
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
		assets[name] = Asset{Name: name, ContentType: contentType(name), Plain: b, gz: &lazy{}, br: &lazy{}}
	}
	for _, n := range FirstScreen {
		if _, ok := assets[n]; !ok {
			panic("app: first-screen file " + n + " is not in static/")
		}
	}
	Version = hex.EncodeToString(h.Sum(nil))[:12]
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".webmanifest":
		return "application/manifest+json"
	}
	panic("app: no content type for " + name)
}

// Lookup returns the named file of this version.
func Lookup(version, name string) (Asset, bool) {
	if version != Version {
		return Asset{}, false
	}
	a, ok := assets[name]
	return a, ok
}

// Names lists every file, sorted.
func Names() []string {
	out := make([]string, 0, len(assets))
	for n := range assets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Settings are what the page tells the client about this server, as data
// attributes on <body> (the page has no inline script).
type Settings struct {
	AppName                      string
	AppVersion                   string
	AllowRegistration            bool
	RegistrationRequiresJoinCode bool
	VoiceProvider                string // browser | elevenlabs
	SessionMaxDurationSeconds    int
}

// Page is the client's one HTML page. Base is where the files are served.
func Page(base string, s Settings) []byte {
	u := func(name string) string { return base + "/" + Version + "/" + name }
	var pre strings.Builder
	for _, n := range FirstScreen {
		if strings.HasSuffix(n, ".js") && n != "main.js" {
			fmt.Fprintf(&pre, "    <link rel=\"modulepreload\" href=\"%s\">\n", u(n))
		}
	}
	return fmt.Appendf(nil, `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <meta name="color-scheme" content="light">
    <title>%[1]s</title>
    <link rel="icon" href="%[2]s">
    <link rel="stylesheet" href="%[3]s">
%[4]s    <script type="module" src="%[5]s"></script>
  </head>
  <body data-app-name="%[1]s" data-app-version="%[6]s" data-allow-registration="%[7]t" data-registration-requires-join-code="%[8]t" data-voice-provider="%[9]s" data-session-max-duration="%[10]d" data-asset-base="%[11]s">
    <div id="app"><noscript><p>%[1]s needs JavaScript. Please turn it on and reload the page.</p></noscript></div>
    <footer class="foot"><a href="/docs">API reference</a> · <a href="/openapi.json">OpenAPI description</a> · version %[6]s</footer>
  </body>
</html>
`, html.EscapeString(s.AppName), u("icon.svg"), u("app.css"), pre.String(), u("main.js"),
		html.EscapeString(s.AppVersion), s.AllowRegistration, s.RegistrationRequiresJoinCode,
		html.EscapeString(s.VoiceProvider), s.SessionMaxDurationSeconds, html.EscapeString(base+"/"+Version))
}

// CSP is the page's Content-Security-Policy: every script, style, font and
// image from this server, no inline script or style at all; the API on this
// server (connect-src 'self') plus the voice provider's hosts when one is
// configured; recordings played and previewed from blob: URLs the page made
// itself; no form ever submitted by the browser (the client sends every
// form with fetch), no frames, no <base>.
func CSP(voiceOrigins []string) string {
	connect := "'self'"
	for _, o := range voiceOrigins {
		connect += " " + o
	}
	return "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
		"script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; " +
		"media-src 'self' blob:; manifest-src 'self'; connect-src " + connect
}

// VoiceOrigins are the origins the browser talks to for ElevenLabs voice:
// its API (HTTPS and WebSocket, at baseURL, which tests point elsewhere)
// and its WebRTC service.
func VoiceOrigins(baseURL string) []string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return nil
	}
	ws := "wss"
	if u.Scheme == "http" {
		ws = "ws"
	}
	return []string{u.Scheme + "://" + u.Host, ws + "://" + u.Host,
		"https://livekit.rtc.elevenlabs.io", "wss://livekit.rtc.elevenlabs.io"}
}
