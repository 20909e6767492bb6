package moderation

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizeRef, tokensRef and joinSpelledRef are Normalize, tokens and
// joinSpelled as they were before Normalize's ASCII path and its tokens
// cut from one string: every rune through its own slice and string.
func normalizeRef(text string) string {
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
	return strings.Join(joinSpelledRef(tokensRef(out)), " ")
}

func tokensRef(rs []rune) []token {
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

func joinSpelledRef(ts []token) []string {
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

// TestNormalizeAsBefore: Normalize gives exactly what it gave before its
// ASCII path and fewer allocations, over the labelled, eval and corpus
// texts (each prefix of some) and 20,000 random texts of the pieces that
// exercise its every step (normalizePieces: look-alikes, marks, invisible
// characters, leet, spelled-out letters, stray quotes, invalid UTF-8).
func TestNormalizeAsBefore(t *testing.T) {
	texts := altReplaceTexts(t)
	r := rand.New(rand.NewPCG(6, 2))
	for range 20000 {
		texts = append(texts, randomText(r, 1+r.IntN(30)))
	}
	ascii := 0
	for _, s := range texts {
		if got, want := Normalize(s), normalizeRef(s); got != want {
			t.Fatalf("Normalize(%q) = %q, before %q", s, got, want)
		}
		if isASCII(s) {
			ascii++
		}
	}
	if ascii < 10000 || len(texts)-ascii < 10000 {
		t.Errorf("%d ASCII texts of %d: both paths should meet many", ascii, len(texts))
	}
}
