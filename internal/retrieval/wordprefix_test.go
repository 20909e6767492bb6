package retrieval

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// eachWordPrefixRunes is eachWordPrefix as it was before its ASCII fast
// path: every rune through unicode's tables. The two must agree exactly.
func eachWordPrefixRunes(s string, fn func(p []byte)) {
	var buf [5 * utf8.UTFMax]byte
	b := buf[:0]
	runes, in := 0, false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if runes < 5 {
				b = utf8.AppendRune(b, unicode.ToLower(r))
				runes++
			}
			in = true
			continue
		}
		if in {
			fn(b)
			b, runes, in = buf[:0], 0, false
		}
	}
	if in {
		fn(b)
	}
}

func TestEachWordPrefixMatchesRuneByRune(t *testing.T) {
	texts := []string{
		"",
		"The Court held, in Smith v. Jones (2019), that § 1983 applies.",
		"ÉCOLE Straße naïve CAFÉ déjà-vu İstanbul ΣΟΦΙΑ ǅemal",
		"x1y2z3 ABCDEFGHIJ abc_def 42nd ½ ٣ 三 tab\there\nnewline",
		"bad \xff\xfe utf8 \xc3 trailing \xe2\x82",
		"WORDS-with–dashes—and…ellipses “quoted” ‘single’",
	}
	// Every ASCII byte and some runes beyond, each between letters.
	var all strings.Builder
	for c := 0; c < 0x250; c++ {
		all.WriteString("ab")
		all.WriteRune(rune(c))
		all.WriteString("Cd ")
	}
	texts = append(texts, all.String())
	for _, text := range texts {
		var got, want []string
		eachWordPrefix(text, func(p []byte) { got = append(got, string(p)) })
		eachWordPrefixRunes(text, func(p []byte) { want = append(want, string(p)) })
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("eachWordPrefix(%q)\n got %q\nwant %q", text, got, want)
		}
	}
}
