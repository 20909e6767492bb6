package main

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// markInteractive records, in every document, the moment (ms since the
// navigation started) a Sign in button is first in the DOM: the client
// renders it, so its script has run and the form answers.
const markInteractive = `new MutationObserver((_, obs) => {
  const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Sign in');
  if (b) { window.__interactiveAt = performance.now(); obs.disconnect(); }
}).observe(document, {childList: true, subtree: true});`

// BenchmarkBrowserSignInInteractive measures, in headless Chromium against
// the real binary on loopback, the time from navigation to an interactive
// sign-in form, for b.N loads with the browser's cache off (a first visit)
// and b.N with it on (a return visit: the hashed files come from the
// cache). It reports the medians as cold-ms and warm-ms. Median of 10:
//
//	go test -run '^$' -bench BrowserSignIn -benchtime 10x ./cmd/socratic/
func BenchmarkBrowserSignInInteractive(b *testing.B) {
	a := startApp(b)
	p := openPage(b, a.base, withInitScript(markInteractive))
	load := func(cache bool) float64 {
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		defer cancel()
		err := chromedp.Do(ctx,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: !cache})
				return err
			}),
			chromedp.Navigate("about:blank"),
			chromedp.Navigate(a.base+"/#/signin"),
		)
		if err != nil {
			b.Fatal(err)
		}
		ms, err := chromedp.Run(ctx, chromedp.Poll[float64](`window.__interactiveAt || 0`, chromedp.WithPollingInterval(20*time.Millisecond)))
		if err != nil {
			b.Fatal(err)
		}
		return ms
	}
	load(true) // the first load fills the cache
	var cold, warm []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cold = append(cold, load(false))
		warm = append(warm, load(true))
	}
	b.StopTimer()
	b.ReportMetric(median(cold), "cold-ms")
	b.ReportMetric(median(warm), "warm-ms")
	b.Logf("cold: %v ms; warm: %v ms", cold, warm)
}

// markDeltas instruments the page's fetch: the event stream of each
// message is teed, and for every delta the moment its bytes reached the
// page's JavaScript is recorded with the reply's text so far; a
// MutationObserver records when that text is first in the conversation
// log (the DOM updated), and two animation frames later (painted).
const markDeltas = `(() => {
  const marks = window.__deltaMarks = [];
  window.__turnsDone = 0;
  const pending = [];
  const logText = () => { const l = document.querySelector('[role=log]'); return l ? l.textContent.replace(/\s+/g, ' ') : ''; };
  const check = () => {
    if (!pending.length) return;
    const text = logText();
    const now = performance.now();
    while (pending.length && text.includes(pending[0].sofar.replace(/\s+/g, ' ').trim())) {
      const m = pending.shift();
      m.shown = now;
      requestAnimationFrame(() => requestAnimationFrame(() => { m.painted = performance.now(); }));
    }
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, characterData: true});
  const orig = window.fetch;
  window.fetch = async function (input, init) {
    const res = await orig.apply(this, arguments);
    const url = typeof input === 'string' ? input : input.url;
    if (!/\/message\/stream$/.test(url) || !res.body) return res;
    const [app, mine] = res.body.tee();
    (async () => {
      const reader = mine.getReader(), dec = new TextDecoder();
      let buf = '', sofar = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        const now = performance.now();
        buf += dec.decode(value, {stream: true});
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i); buf = buf.slice(i + 2);
          const name = (ev.match(/^event: (.*)$/m) || [])[1], data = (ev.match(/^data: (.*)$/m) || [])[1];
          if (name === 'delta') {
            sofar += JSON.parse(data).text;
            const m = {arrived: now, sofar};
            marks.push(m); pending.push(m);
          }
          if (name === 'done') window.__turnsDone++;
        }
      }
    })();
    return new Response(app, {status: res.status, statusText: res.statusText, headers: res.headers});
  };
})();`

// BenchmarkBrowserDeltaToScreen measures, in headless Chromium against
// the real binary with a model that streams a word every 40 ms, the time
// from a delta's bytes reaching the page to its text in the conversation
// log (dom-ms) and painted (paint-ms, two animation frames later), over
// every delta of b.N replies (medians and p99).
//
//	go test -run '^$' -bench BrowserDeltaToScreen -benchtime 5x ./cmd/socratic/
func BenchmarkBrowserDeltaToScreen(b *testing.B) {
	model := startTutorModel(b, 100*time.Millisecond, 40*time.Millisecond)
	a := startApp(b, model.env()...)
	w := setupCourse(b, a)
	a.addStudent(b, w, "ada", "Ada Student")
	p := openPage(b, a.base, withInitScript(markDeltas))
	p.signIn("ada", "a long enough password")
	p.visit(fmt.Sprintf("/weeks/%d", w.weekID))
	p.click("button", "Start session")
	p.waitFor("timer", "")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.fill("textbox", "Message", fmt.Sprintf("Turn %d: the court says notice and a hearing are required.", i+1))
		p.click("button", "Send")
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`window.__turnsDone >= %d && window.__deltaMarks.every(m => m.painted)`, i+1), chromedp.WithPollingInterval(20*time.Millisecond)))
		cancel()
		if err != nil {
			b.Fatalf("turn %d: %v\n%s", i+1, err, p.bodyText())
		}
	}
	b.StopTimer()
	type mark struct {
		Arrived float64 `json:"arrived"`
		Shown   float64 `json:"shown"`
		Painted float64 `json:"painted"`
	}
	marks := evalAs[[]mark](p, `window.__deltaMarks`)
	var dom, paint []float64
	for _, m := range marks {
		dom = append(dom, m.Shown-m.Arrived)
		paint = append(paint, m.Painted-m.Arrived)
	}
	if len(dom) < b.N*10 {
		b.Fatalf("only %d deltas over %d replies", len(dom), b.N)
	}
	b.ReportMetric(median(dom), "dom-ms")
	b.ReportMetric(quantile(dom, 0.99), "dom-p99-ms")
	b.ReportMetric(median(paint), "paint-ms")
	b.ReportMetric(quantile(paint, 0.99), "paint-p99-ms")
	b.Logf("%d deltas over %d replies", len(dom), b.N)
}

func quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}
