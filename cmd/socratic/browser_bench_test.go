package main

import (
	"context"
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

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
