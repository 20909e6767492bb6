package retrieval

import (
	"slices"
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

// The week's numbered words must give rerank exactly what reading each
// candidate's text gives: the same coverage, the same scores, the same
// order; a candidate whose text is not what was indexed is read as before.
func TestPassageWordsCoverageMatchesText(t *testing.T) {
	texts := []string{
		"The Court held, in Smith v. Jones (2019), that § 1983 applies to the state's officers.",
		"ÉCOLE Straße naïve CAFÉ déjà-vu İstanbul ΣΟΦΙΑ ǅemal consideration CONSIDERED",
		"An offer is accepted when the acceptance is dispatched: the mailbox rule. The offeror may revoke before.",
		strings.Repeat("promissory estoppel reliance detriment ", 30) + "expectation damages",
		"",
		"x1y2z3 ABCDEFGHIJ abc_def 42nd ½ ٣ 三 tab\there\nnewline bad \xff\xfe utf8",
	}
	ids := []int64{11, 12, 13, 14, 15, 16}
	pw := newPassageWords(ids, texts)
	queries := []string{
		"What did the court hold about the state officers?",
		"is acceptance effective on dispatch under the mailbox rule",
		"consideration école straße déjà naive",
		"reliance damages and promissory estoppel detriment expectation",
		"nothing here matches zzz",
		"42nd 1983 applies officers offeror revoke",
	}
	for _, q := range queries {
		words := DefaultTuning.turnWords(Turn{Student: q})
		want, weights, _ := wantOf(words)
		wd := pw.wanted(want, weights)
		for d, text := range texts {
			any1, near1 := coverage(text, want, weights)
			any2, near2, ok := wd.coverage(ids[d], text)
			if !ok || any1 != any2 || near1 != near2 {
				t.Errorf("%q over passage %d: numbered words give %v %v (ok %v), the text %v %v", q, d, any2, near2, ok, any1, near1)
			}
		}
		if _, _, ok := wd.coverage(ids[2], texts[2]+" changed"); ok {
			t.Errorf("a changed text used the indexed words")
		}
		if _, _, ok := wd.coverage(99, texts[2]); ok {
			t.Errorf("a passage not indexed used some words")
		}
		var a, b []Source
		for d, text := range texts {
			a = append(a, Source{ChunkID: ids[d], Content: text, Score: float64(len(texts) - d)})
		}
		a[3].Content += " (edited)" // read from its text
		b = slices.Clone(a)
		rerank(a, words)
		rerankIn(b, words, pw)
		if !slices.Equal(a, b) {
			t.Errorf("%q: rerank with numbered words\n%v\nwithout\n%v", q, b, a)
		}
	}
}
