package tutor

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestLeakWatchKeepsTheCompactTail: as text is delivered in pieces of every
// size (ASCII, accents and capitals that change length when lower-cased,
// punctuation, long pieces that push the whole tail out), the compact tail
// a check starts from is always compact(tail); after invalid UTF-8 it is
// no longer kept, and checks compact everything as before.
func TestLeakWatchKeepsTheCompactTail(t *testing.T) {
	text := "The Court’s view — ÉTAT, İstanbul and Straße: 3 readings; " + strings.Repeat("Mathews v. Eldridge (1976) weighs ÅNGSTRÖM interests. ", 12)
	for n := 1; n <= 97; n += 3 {
		var lw leakWatch
		lw.ix = rulesLeaks
		for _, p := range runePieces(text, n) {
			lw.sent(p)
			if lw.ctailOff || !bytes.Equal(lw.ctail, []byte(compact(lw.tail))) {
				t.Fatalf("pieces of %d: compact tail %q, want %q (off %v)", n, lw.ctail, compact(lw.tail), lw.ctailOff)
			}
		}
	}
	var lw leakWatch
	lw.ix = rulesLeaks
	lw.sent("fine so far ")
	lw.sent("bad \xff byte ")
	half := leakWatch{ix: rulesLeaks}
	half.sent("É"[:1]) // half a rune: not kept either
	if !lw.ctailOff || !half.ctailOff {
		t.Error("invalid UTF-8 delivered, yet the compact tail is still kept")
	}
	if leak, _ := lw.check(canary[:9]+canary[9:], true); !leak {
		t.Error("the canary after invalid UTF-8 was not caught")
	}
}

// runePieces cuts s into pieces of n runes (a model's deltas are whole
// runes: JSON strings).
func runePieces(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

// TestCanaryAtEveryOffset: the canary is caught wherever the pieces cut it,
// after a tail long enough to be cut, with and without text around it.
func TestCanaryAtEveryOffset(t *testing.T) {
	before := strings.Repeat("The court weighed the private interest and the risk of error. ", 6)
	for _, answer := range []string{before + "Marker " + canary + " here. What did it hold?", before + canary, "Ünïcode ✓ " + before + "x" + strings.ToUpper(canary) + "!"} {
		for n := 1; n <= len(canary)+2; n++ {
			got, v, redirected := filtered(t, pieces(answer, n)...)
			if !redirected || !v.Flagged || strings.Contains(compact(got), canary) {
				t.Fatalf("pieces of %d: redirected %v, verdict %+v, delivered %q", n, redirected, v, got)
			}
		}
	}
}

// TestLeakWatchKeepsTheTailWords: as text is delivered in pieces of every
// size, cut anywhere (inside words, apostrophes — "don't", "Court’s" —
// and runes, with invalid UTF-8 among them), the words a check reads are
// always leakWords of the tail and the pending text, and the words kept
// for the tail always leakWords(tail), however the tail was cut.
func TestLeakWatchKeepsTheTailWords(t *testing.T) {
	texts := []string{
		"The Court’s view — ÉTAT, İstanbul and Straße: 3 readings; don't ''quote' " + strings.Repeat("Mathews v. Eldridge (1976) weighs ÅNGSTRÖM interests. ", 12),
		strings.Repeat("can't won’t l'état x'y '' ’’ 12'34 ", 20) + "bad \xff byte \xe2\x82 half " + strings.Repeat("supercalifragilisticexpialidocious", 12),
		rulesBlock,
	}
	// A canary no text holds: a check finds it before it reads the words.
	ix := newLeakIndex(rulesBlock, "qzxqzxqzxnothere")
	for _, text := range texts {
		for n := 1; n <= 300; n += 7 {
			var lw leakWatch
			lw.ix = ix
			for rest := text; len(rest) > 0; {
				p := rest[:min(n, len(rest))]
				rest = rest[len(p):]
				lw.check(p, false)
				if got, want := lw.words, leakWords(lw.tail+p); !slices.Equal(got, want) {
					t.Fatalf("pieces of %d bytes, checking %q after %q: words %v, want %v", n, p, lw.tail, got, want)
				}
				lw.sent(p)
				if got, want := lw.tailWords, leakWords(lw.tail); !slices.Equal(got, want) {
					t.Fatalf("pieces of %d bytes, after %q: tail words %v, want %v", n, lw.tail, got, want)
				}
			}
		}
	}
}
