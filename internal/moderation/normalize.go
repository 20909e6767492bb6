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
//
// It runs on every turn and on each piece of the tutor's streamed reply,
// so its common case, ASCII text, goes byte by byte (NFKD leaves ASCII as
// it is, and ASCII's letters are A–Z and a–z), and words are cut from one
// string rather than copied one by one (TestNormalizeAsBefore holds it to
// the rune-by-rune version).
func Normalize(text string) string {
	if isASCII(text) {
		return joinSpelled(tokens(mapASCII(text)))
	}
	return joinSpelled(tokens(mapRunes(norm.NFKD.String(text))))
}

// isASCII says whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// mapASCII is mapRunes for ASCII text: lower case, and leet read as
// letters where mapRunes reads it so.
func mapASCII(text string) string {
	same := true // no upper case and no leet: nothing to map
	for i := 0; i < len(text) && same; i++ {
		same = !('A' <= text[i] && text[i] <= 'Z') && leetASCII[text[i]] == 0
	}
	if same {
		return text
	}
	b := make([]byte, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	isLetter := func(i int) bool { return i >= 0 && i < len(b) && 'a' <= b[i] && b[i] <= 'z' }
	lone := func(i int) bool { return isLetter(i) && !isLetter(i-1) && !isLetter(i+1) }
	// Each decision reads the text as it was: the letters leet becomes
	// are written after all are made.
	var fix [8]int
	fixes := fix[:0]
	for i, c := range b {
		if leetASCII[c] == 0 {
			continue
		}
		before, after := isLetter(i-1), isLetter(i+1)
		spelled := i > 0 && i+1 < len(b) && b[i-1] == b[i+1] && (b[i-1] == ' ' || spellSep(rune(b[i-1]))) && lone(i-2) && lone(i+2)
		if (c == '!' || c == '|') && before && after || (c != '!' && c != '|') && (before || after || spelled) {
			fixes = append(fixes, i)
		}
	}
	for _, i := range fixes {
		b[i] = byte(leetASCII[b[i]])
	}
	return string(b)
}

// mapRunes lowers the case of NFKD text, drops invisible characters and
// combining marks, maps look-alike letters to Latin ones, and reads leet
// as letters beside a letter or spelled out among single letters.
func mapRunes(text string) string {
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
	return string(out)
}

// A token is one word and the characters that separate it from the word
// before (empty for the first).
type token struct {
	word, sep string
}

// isWord says whether r is part of a word: a letter, an apostrophe or a
// digit.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '\''
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// tokens splits text into words (letters and apostrophes) and numbers
// ("1983", "2028"), each with the separator before it, and undoes
// drawn-out letters in each word. Words and separators are cut from text.
func tokens(text string) []token {
	out := make([]token, 0, len(text)/6+1)
	// next is the end of the run from i of runes that are (word) or are
	// not words.
	next := func(i int, word bool) int {
		for i < len(text) {
			r, n := rune(text[i]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(text[i:])
			}
			if isWord(r) != word {
				break
			}
			i += n
		}
		return i
	}
	pending := "" // a stray quote, kept in the next word's separator
	for i := 0; i < len(text); {
		j := next(i, false)
		k := next(j, true)
		if k == j {
			break
		}
		sep := text[i:j]
		if pending != "" {
			sep = pending + sep
		}
		if w := squeeze(strings.Trim(text[j:k], "'")); w != "" {
			out = append(out, token{word: w, sep: sep})
			pending = ""
		} else {
			pending = sep + text[j:k]
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
func joinSpelled(ts []token) string {
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
	size := 0
	for _, t := range ts {
		size += len(t.word) + 1
	}
	var b strings.Builder
	b.Grow(size)
	for i := 0; i < len(ts); {
		if i > 0 {
			b.WriteByte(' ')
		}
		j := i + 1
		spaced := false
		if single(i) && single(j) {
			spaced = ts[j].sep == " "
			for single(j) && tight(ts[j].sep, spaced) {
				j++
			}
		}
		if j-i >= 3 || j-i == 2 && spaced && (spelledBreak(i) || spelledBreak(j)) {
			for _, t := range ts[i:j] {
				b.WriteString(t.word)
			}
			i = j
			continue
		}
		b.WriteString(ts[i].word)
		i++
	}
	return b.String()
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
