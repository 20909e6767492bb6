package moderation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// confusables are letters from other scripts that look like Latin ones.
// NFKD has already folded full-width and other compatibility forms, and
// accents are dropped with the other combining marks.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'һ': 'h', 'ԁ': 'd', 'ɡ': 'g',
	'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'ς': 's',
	// Latin look-alikes outside ASCII
	'ı': 'i', 'ɩ': 'i', 'ɑ': 'a', 'ℓ': 'l',
	// Armenian
	'օ': 'o', 'ս': 'u', 'ո': 'n', 'հ': 'h',
}

// leet are digits and symbols used as letters. They count as letters only
// beside one ("k1ll", "s3x", "$ex") or spelled out among single letters
// ("k 1 l l"), so numbers ("section 1983") stay numbers; '!' and '|' only
// between two ("k!ll", not "kill!").
var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', '$': 's', '!': 'i', '|': 'l'}

// leetASCII is leet as a table (its keys are all ASCII).
var leetASCII = func() (t [utf8.RuneSelf]rune) {
	for k, v := range leet {
		if k >= utf8.RuneSelf {
			panic("moderation: a leet key outside ASCII")
		}
		t[k] = v
	}
	return t
}()

// invisible are characters that render as nothing and split words.
func invisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u180e':
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// spellSep are the characters that join letters spelled out one at a time
// inside a token: "s.e.x", "k-i-l-l", "s_e_x", "s*e*x".
func spellSep(r rune) bool {
	switch r {
	case '.', '-', '_', '*', '·', '•', '/', '~', '+':
		return true
	}
	return false
}

// Normalize reduces text to what a reader sees: lower-case Latin words and
// numbers separated by single spaces, with look-alike letters, accents and
// other combining marks, leetspeak digits, invisible characters, letters
// spelled out one at a time ("s e x", "k-i-l-l") and drawn-out letters
// ("sexxxy") undone. Rules match against it, never against the raw text.
func Normalize(text string) string {
	text = norm.NFKD.String(text)
	rs := make([]rune, 0, len(text))
	for _, r := range text {
		if r < utf8.RuneSelf { // ASCII: no invisible, mark or look-alike
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			rs = append(rs, r)
			continue
		}
		if invisible(r) || unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if c, ok := confusables[r]; ok {
			r = c
		}
		rs = append(rs, r)
	}
	isLetter := func(i int) bool { return i >= 0 && i < len(rs) && unicode.IsLetter(rs[i]) }
	// lone says whether rs[i] is a letter standing alone, as in "k 1 l l"
	// or "k.1.l.l": no letter on either side of it.
	lone := func(i int) bool { return isLetter(i) && !isLetter(i-1) && !isLetter(i+1) }
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[i] = r
		if r >= utf8.RuneSelf || leetASCII[r] == 0 {
			continue // not in leet
		}
		c := leetASCII[r]
		before, after := isLetter(i-1), isLetter(i+1)
		// A digit spelled out among single letters: "k 1 l l", "k.1.l.l".
		spelled := i > 0 && i+1 < len(rs) && rs[i-1] == rs[i+1] && (rs[i-1] == ' ' || spellSep(rs[i-1])) && lone(i-2) && lone(i+2)
		if (r == '!' || r == '|') && before && after || (r != '!' && r != '|') && (before || after || spelled) {
			out[i] = c
		}
	}
	return strings.Join(joinSpelled(tokens(out)), " ")
}

// A token is one word and the characters that separate it from the word
// before (empty for the first).
type token struct {
	word, sep string
}

// tokens splits text into words (letters and apostrophes) and numbers
// ("1983", "2028"), each with the separator before it, and undoes
// drawn-out letters in each word.
func tokens(rs []rune) []token {
	var out []token
	isWord := func(r rune) bool { return unicode.IsLetter(r) || r == '\'' || unicode.IsDigit(r) }
	pending := "" // a stray quote, kept in the next word's separator
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && !isWord(rs[j]) {
			j++
		}
		k := j
		for k < len(rs) && isWord(rs[k]) {
			k++
		}
		if k == j {
			break
		}
		sep := pending + string(rs[i:j])
		if w := squeeze(strings.Trim(string(rs[j:k]), "'")); w != "" {
			out = append(out, token{word: w, sep: sep})
			pending = ""
		} else {
			pending = sep + string(rs[j:k])
		}
		i = k
	}
	return out
}

// squeeze shortens runs of three or more of one letter to one: "sexxxy"
// is "sexy", "soooo" is "so"; doubled letters ("kill") and digits
// ("1000") stay.
func squeeze(w string) string {
	if !hasRun3(w) {
		return w
	}
	rs := []rune(w)
	out := rs[:0]
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		n := j - i
		if n >= 3 && unicode.IsLetter(rs[i]) {
			n = 1
		}
		for range n {
			out = append(out, rs[i])
		}
		i = j
	}
	return string(out)
}

// joinSpelled joins runs of three or more one-letter words into one word:
// "i g n o r e" is "ignore", "k-i-l-l" is "kill". Real sentences rarely
// hold three single letters in a row ("a" and "i" are the only one-letter
// words). A run keeps to one kind of gap: single spaces ("i g n o r e  a l
// l": a wider gap is a word break, so that is "ignore all"), or one
// punctuation mark inside a token ("s-a-y e-x-a-c-t-l-y": the space is a
// word break, so that is "say exactly"). Where wide gaps mark the word
// breaks, two letters are a word too ("a f t e r  m e" is "after me").
func joinSpelled(ts []token) []string {
	single := func(i int) bool {
		if i < 0 || i >= len(ts) {
			return false
		}
		r, n := utf8.DecodeRuneInString(ts[i].word)
		return n == len(ts[i].word) && n > 0 && unicode.IsLetter(r)
	}
	// spelledBreak says whether the gap before ts[i] is a wide one between
	// spelled-out letters.
	spelledBreak := func(i int) bool { return i < len(ts) && wide(ts[i].sep) && single(i-1) && single(i) }
	var out []string
	for i := 0; i < len(ts); {
		j := i + 1
		spaced := false
		if single(i) && single(j) {
			spaced = ts[j].sep == " "
			for single(j) && tight(ts[j].sep, spaced) {
				j++
			}
		}
		if j-i >= 3 || j-i == 2 && spaced && (spelledBreak(i) || spelledBreak(j)) {
			var b strings.Builder
			for _, t := range ts[i:j] {
				b.WriteString(t.word)
			}
			out = append(out, b.String())
			i = j
			continue
		}
		out = append(out, ts[i].word)
		i++
	}
	return out
}

// tight says whether sep is the kind of gap that joins spelled-out letters:
// one space in a spaced run, one punctuation mark in a punctuated one.
func tight(sep string, spaced bool) bool {
	if spaced {
		return sep == " "
	}
	r, n := utf8.DecodeRuneInString(sep)
	return n == len(sep) && n > 0 && spellSep(r)
}

// hasRun3 says whether w holds one character three or more times in a
// row (what squeeze may shorten).
func hasRun3(w string) bool {
	var a, b rune = -1, -1
	for _, r := range w {
		if r == a && r == b {
			return true
		}
		a, b = b, r
	}
	return false
}

// wide says whether sep is two or more spaces and nothing else.
func wide(sep string) bool { return len(sep) >= 2 && strings.Trim(sep, " ") == "" }
