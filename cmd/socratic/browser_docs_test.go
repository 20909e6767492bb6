package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lawtutor/socratic/internal/testenv/browsertest"
)

// TestBrowserDocsRender opens /docs of the real binary in headless
// Chromium, under the page's real Content-Security-Policy, and checks that
// Swagger UI renders the operations with no CSP violation, no JavaScript
// error, and no request to any other host.
func TestBrowserDocsRender(t *testing.T) {
	ctx := browsertest.New(t) // skips (or fails, in CI) before the build without a browser
	base := startServer(t, buildBinary(t), t.TempDir()).base
	origin, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		problems []string // each a CSP violation, exception or console error
		requests []string // every URL the page asked for
		warnings []string
		docsCSP  string // the Content-Security-Policy the browser got with /docs
	)
	add := func(list *[]string, format string, args ...any) {
		mu.Lock()
		*list = append(*list, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// A CSP refusal is reported by Chromium as a log entry (source
	// "security" or "other") and as a console error, starting "Refused to".
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
			add(&problems, "exception at %s:%d: %s", d.URL, d.LineNumber+1, desc)
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
			switch {
			case ev.Type == runtime.ConsoleAPICalledTypeError || isCSP(msg):
				add(&problems, "console.%s: %s", ev.Type, msg)
			case ev.Type == runtime.ConsoleAPICalledTypeWarning:
				add(&warnings, "console.warn: %s", msg)
			}
		case *log.EventEntryAdded:
			e := ev.Entry
			switch {
			case e.Source == log.EntrySourceNetwork && e.URL == base+"/favicon.ico":
				// The browser asks for /favicon.ico by itself; the server
				// has none (404), and the page is not at fault.
			case e.Level == log.EntryLevelError || isCSP(e.Text):
				add(&problems, "log %s/%s (%s): %s", e.Source, e.Level, e.URL, e.Text)
			case e.Level == log.EntryLevelWarning:
				add(&warnings, "log %s/warning (%s): %s", e.Source, e.URL, e.Text)
			}
		case *network.EventRequestWillBeSent:
			add(&requests, "%s", ev.Request.URL)
		case *network.EventResponseReceived:
			if ev.Response.URL == base+"/docs" {
				for k, v := range ev.Response.Headers {
					if strings.EqualFold(k, "Content-Security-Policy") {
						mu.Lock()
						docsCSP = fmt.Sprint(v)
						mu.Unlock()
					}
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	// What Swagger UI renders from /openapi.json: the Sessions section and
	// one of its operations' summaries (internal/httpapi/opdocs.go).
	const tag, summary = "Sessions", "Start a tutoring session"
	rendered := fmt.Sprintf(`[...document.querySelectorAll('.opblock-tag')].some(e => e.textContent.includes(%q)) &&
		[...document.querySelectorAll('.opblock-summary-description')].some(e => e.textContent.trim() === %q)`, tag, summary)
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = chromedp.Run(wait, chromedp.Steps(
		chromedp.Navigate(base+"/docs"),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](rendered, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
			return chromedp.Void{}, err
		},
	))
	// Open that operation, as a reader would: Swagger UI then renders its
	// parameters, request body and responses (with their highlighted
	// examples), which the collapsed list does not.
	const open = `(() => { const s = [...document.querySelectorAll('.opblock-summary-description')].find(e => e.textContent.trim() === %q); s.closest('.opblock-summary').querySelector('button.opblock-summary-control').click(); return true })()`
	if err == nil {
		_, err = chromedp.Run(wait, chromedp.Steps(
			func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := chromedp.Evaluate[bool](fmt.Sprintf(open, summary))(ctx, tg)
				return chromedp.Void{}, err
			},
			func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := chromedp.Poll[bool](`!!document.querySelector('.opblock.is-open .responses-wrapper .response')`, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
				return chromedp.Void{}, err
			},
		))
	}
	var html string
	if err != nil {
		html, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
	}
	// The page has rendered; give late requests and reports (a font, an
	// icon, a violation report) a moment to arrive.
	time.Sleep(500 * time.Millisecond)
	if shot, serr := chromedp.Run(ctx, chromedp.FullScreenshot(80)); serr == nil {
		p := filepath.Join(t.TempDir(), "docs.jpg")
		if os.WriteFile(p, shot, 0o600) == nil {
			t.Logf("screenshot: %s (%d bytes; removed with the test's temp folder)", p, len(shot))
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for _, w := range warnings {
		t.Logf("browser warning: %s", w)
	}
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
	if err != nil {
		t.Fatalf("Swagger UI never showed the %q section with %q, opened: %v\npage text:\n%s", tag, summary, err, html)
	}
	// The test means something only if the browser enforced the page's
	// real policy.
	if !strings.Contains(docsCSP, "script-src 'self'") || !strings.Contains(docsCSP, "connect-src 'self'") {
		t.Errorf("/docs came with Content-Security-Policy %q, want the docs policy", docsCSP)
	}
	if len(requests) == 0 {
		t.Error("no request seen at all")
	}
	for _, r := range requests {
		u, perr := url.Parse(r)
		switch {
		case perr == nil && u.Scheme == "data":
			// An icon inside Swagger UI's stylesheet (img-src data:); no host.
		case perr != nil || u.Scheme != "http" || u.Host != origin.Host:
			t.Errorf("the page asked another origin than %s: %s", base, r)
		}
	}
	t.Logf("%d requests, all to %s", len(requests), origin.Host)
}
