package tutor

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A reply leaks the prompt when it holds the canary, or leakRun words in a
// row of the rules block (compared as lower-case words, punctuation and
// spacing aside). A run of suspectRun such words at the end of what has
// arrived is held back until it breaks off or becomes a leak, so at most
// suspectRun words of a leaked run are delivered before the redirect (the
// last only when it was cut across two pieces).
const (
	leakRun    = 12
	suspectRun = 6
	// leakTail is how much delivered text a check looks back over: more
	// than leakRun words of the rules' and the canary's length.
	leakTail = 256
)

// leakIndex holds the rules' word windows, as hashes.
type leakIndex struct {
	runs, suspect map[uint64]bool
	canary        string
}

var rulesLeaks = newLeakIndex(rulesBlock, canary)

func newLeakIndex(rules, canary string) *leakIndex {
	ix := &leakIndex{runs: map[uint64]bool{}, suspect: map[uint64]bool{}, canary: canary}
	ws := leakWords(rules)
	for i := range ws {
		if i+suspectRun <= len(ws) {
			ix.suspect[window(ws[i:i+suspectRun])] = true
		}
		if i+leakRun <= len(ws) {
			ix.runs[window(ws[i:i+leakRun])] = true
		}
	}
	return ix
}

// leakWord is a word of a text: its hash and where it lies.
type leakWord struct {
	hash       uint64
	start, end int
}

// leakWords splits s into words: runs of letters and digits, lower-cased,
// apostrophes inside them dropped ("don't" is "dont"), anything else a
// separator.
func leakWords(s string) []leakWord { return appendLeakWords(nil, s) }

// appendLeakWords appends the words of s (leakWords) to out.
func appendLeakWords(out []leakWord, s string) []leakWord { return appendLeakWordsAt(out, s, 0) }

// appendLeakWordsAt is appendLeakWords with every word's place moved by
// base: the words of s when s is text[base:] and base is not inside a
// word of text (the start of one, or of the text).
func appendLeakWordsAt(out []leakWord, s string, base int) []leakWord {
	const offset, prime = 14695981039346656037, 1099511628211
	in := false
	var w leakWord
	for i, r := range s {
		i += base
		if r < utf8.RuneSelf {
			// ASCII without unicode's tables: these are exactly its
			// letters and digits, and ToLower's answer.
			c := byte(r)
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				if !in {
					in, w = true, leakWord{hash: offset, start: i}
				}
				w.hash = (w.hash ^ uint64(c)) * prime
				w.end = i + 1
				continue
			}
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !in {
				in, w = true, leakWord{hash: offset, start: i}
			}
			for _, b := range utf8.AppendRune(nil, unicode.ToLower(r)) {
				w.hash = (w.hash ^ uint64(b)) * prime
			}
			w.end = i + utf8.RuneLen(r)
		case in && (r == '\'' || r == '’'):
			// inside a word: skipped
		case in:
			in = false
			out = append(out, w)
		}
	}
	if in {
		out = append(out, w)
	}
	return out
}

// window hashes a sequence of words, in order.
func window(ws []leakWord) uint64 {
	h := uint64(len(ws))
	for _, w := range ws {
		h = (h^w.hash)*1099511628211 + 0x9e3779b97f4a7c15
	}
	return h
}

// leakWatch follows one reply as it is delivered.
type leakWatch struct {
	ix   *leakIndex
	tail string // the end of what was delivered
	// ctail is compact(tail), kept as text is delivered so that a check
	// compacts only the new piece (compact of a concatenation of valid
	// UTF-8 is the concatenation of the compacts). ctailOff: not kept,
	// after invalid UTF-8 was delivered; every check compacts all then.
	ctail    []byte
	ctailOff bool
	// tailWords are leakWords(tail), kept as text is delivered so that a
	// check reads only the last of them again (it may go on in pending)
	// and the pending text, not the whole tail.
	tailWords []leakWord
	// Reused by each check: the words and the compacted text.
	words   []leakWord
	compact []byte
}

// wordsAfter appends to out the words of text, which starts with words'
// text: the words but the last, then the words of text from the last's
// start (the last may go on, or end where it did).
func wordsAfter(out, words []leakWord, text string) []leakWord {
	from := 0
	if n := len(words); n > 0 {
		out = append(out, words[:n-1]...)
		from = words[n-1].start
	}
	return appendLeakWordsAt(out, text[from:], from)
}

// check looks at pending, the text received and not yet delivered, after
// what was: leak when it completes a leak; otherwise how many bytes of
// pending may go now (the rest is a run of the rules' words, or the start
// of the canary, still being written). final: nothing more will come.
func (lw *leakWatch) check(pending string, final bool) (leak bool, ready int) {
	ix := lw.ix
	text := lw.tail + pending
	off := len(lw.tail)
	if !lw.ctailOff && utf8.ValidString(pending) {
		lw.compact = appendCompact(append(lw.compact[:0], lw.ctail...), pending)
	} else {
		lw.compact = appendCompact(lw.compact[:0], text)
	}
	if bytes.Contains(lw.compact, []byte(ix.canary)) {
		return true, 0
	}
	lw.words = wordsAfter(lw.words[:0], lw.tailWords, text)
	ws := lw.words
	complete := ws
	partial := !final && len(ws) > 0 && ws[len(ws)-1].end == len(text)
	if partial {
		complete = ws[:len(ws)-1] // the last word may go on in the next piece
	}
	for i := leakRun; i <= len(complete); i++ {
		if complete[i-1].end > off && ix.runs[window(complete[i-leakRun:i])] {
			return true, 0
		}
	}
	if final {
		return false, len(pending)
	}
	hold := len(text)
	// A run of the rules' words at the end, from its first word.
	for i := len(complete); i >= suspectRun && ix.suspect[window(complete[i-suspectRun:i])]; i-- {
		hold = complete[i-suspectRun].start
	}
	if hold == len(text) && partial {
		// The canary may be arriving a few characters at a time.
		last := ws[len(ws)-1]
		if strings.HasPrefix(ix.canary, compact(text[last.start:])) {
			hold = last.start
		}
	}
	return false, max(hold-off, 0)
}

// sent records text as delivered.
func (lw *leakWatch) sent(text string) {
	t := lw.tail + text
	if !lw.ctailOff && !utf8.ValidString(text) {
		lw.ctailOff, lw.ctail = true, nil
	}
	if !lw.ctailOff {
		lw.ctail = appendCompact(lw.ctail, text)
	}
	lw.words = wordsAfter(lw.words[:0], lw.tailWords, t)
	ws := lw.words
	if len(t) > leakTail {
		cut := len(t) - leakTail
		for cut < len(t) && !utf8.RuneStart(t[cut]) {
			cut++
		}
		if !lw.ctailOff { // drop what the cut drops
			lw.compact = appendCompact(lw.compact[:0], t[:cut]) // a scratch here
			k := len(lw.compact)
			lw.ctail = append(lw.ctail[:0], lw.ctail[k:]...)
		}
		// The words from the first that starts at or after the cut are
		// the same after it, moved; what lies before that one is read
		// again from the cut (a word the cut splits keeps its end).
		first := len(ws)
		for i, w := range ws {
			if w.start >= cut {
				first = i
				break
			}
		}
		end := len(t)
		if first < len(ws) {
			end = ws[first].start
		}
		tw := appendLeakWordsAt(lw.tailWords[:0], t[cut:end], 0)
		for _, w := range ws[first:] {
			tw = append(tw, leakWord{hash: w.hash, start: w.start - cut, end: w.end - cut})
		}
		lw.tailWords = tw
		t = t[cut:]
	} else {
		lw.tailWords = append(lw.tailWords[:0], ws...)
	}
	lw.tail = t
}

// compact is s's letters and digits, lower-cased: the canary is found
// even when spaces or dashes are put inside it.
func compact(s string) string { return string(appendCompact(nil, s)) }

// appendCompact appends compact(s) to b.
func appendCompact(b []byte, s string) []byte {
	for _, r := range s {
		if r < utf8.RuneSelf { // ASCII, as in leakWords
			c := byte(r)
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				b = append(b, c)
			}
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	return b
}
