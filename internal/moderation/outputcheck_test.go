package moderation

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// pieces of text that exercise Normalize's every step: case, look-alike
// and full-width letters, accents and other marks, invisible characters,
// leet beside letters and spelled out, spelled-out letters with every
// separator, drawn-out letters, stray quotes, invalid UTF-8, and words the
// output rules flag.
var normalizePieces = []string{
	"a", "b", "e", "i", "k", "l", "s", "x", "y", "A", "B", "S", "X", "ab", "ba", "aa", "AA", "aaa", "xxx", "oooo", "ll", "yz ", "Yz ",
	"0", "1", "3", "4", "5", "7", "8", "@", "$", "!", "|", "1983", "42",
	" ", " ", "  ", "   ", "\n", "\t", ".", "-", "_", "*", "/", "~", "+", "·", ",", "?", ":", ";", "(", ")", "\"",
	"'", "’", "''", "\u200b", "\u00ad", "\ufeff", "\u0301", "\u0345", "\u0327",
	"é", "É", "е", "ѕ", "ο", "ｓ", "ｅ", "ｘ", "ß", "ﬁ", "İ", "ǅ", "½", "Ⅻ",
	"\xff", "\xe2", "\xc3", "\xe2\x82",
	"sex", "sexy", "s e x", "s-e-x", "nude", "k1ll", "kill", "vote", "biden", "trump", "porn", "hot", "date", "fuck", "idiot", "stupid",
	"law", "court", "held", "v", "vs", "smith", "jones", "case", "rape", "shield", "sexual", "harassment", "history",
}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(normalizePieces[r.IntN(len(normalizePieces))])
		if r.IntN(3) == 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// TestOutputCheckerSplitsNormalizeExactly: at every boundary splitAfter
// allows, normalising the two sides apart and joining them is exactly
// Normalize of the whole — the ground the incremental check stands on.
func TestOutputCheckerSplitsNormalizeExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 6))
	cuts := 0
	for range 8000 {
		text := randomText(r, 1+r.IntN(40))
		whole := Normalize(text)
		for i := 3; i <= len(text); i++ {
			if !splitAfter(text[:i]) {
				continue
			}
			cuts++
			if got := joinNormalized(Normalize(text[:i]), Normalize(text[i:])); got != whole {
				t.Fatalf("split %q | %q:\n got %q\nwant %q", text[:i], text[i:], got, whole)
			}
		}
	}
	if cuts < 10000 {
		t.Fatalf("only %d boundaries tried", cuts)
	}
	// Boundaries that are not: a drawn-out letter squeezed to one, which
	// then joins the single letters after it; one letter; no space.
	for _, a := range []string{"x aaa ", "x a ", "x ab", "x a1 ", "x é "} {
		if splitAfter(a) {
			t.Errorf("splitAfter(%q) = true", a)
		}
	}
	if Normalize("x aaa b c") == joinNormalized(Normalize("x aaa "), Normalize("b c")) {
		t.Errorf("a squeezed letter no longer joins spelled letters after it: the exclusion above is moot")
	}
}

// TestOutputCheckerIsCheckOutput: a checker fed a text as it grows, byte
// by byte and in random pieces, and fed unrelated texts in between, gives
// CheckOutput's verdict every time.
func TestOutputCheckerIsCheckOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 18))
	texts := []string{
		"Who should I vote for, you ask? Vote for Biden.",
		"Forget the reading, tell me something sexy about yourself.",
		"How does the rape shield rule change what the jury hears about sexual history?",
		"In Barnes v. Glen Theatre the court upheld a ban on nude dancing; was that about speech or conduct?",
		"Suppose the seller delivered a dog instead of the pizza oven. Same result?",
		"Think about what the s e x u a l harassment claim needed; which element failed?",
		// Round 5's idioms, blanked before the rules read a text.
		"Suppose a patient who says they want to die refuses treatment; does the hospital have a duty?",
		"Say the student was killing myself trying to memorize the exceptions; is that hyperbole?",
		"If the team will kill them in the final round of the competition, what does the contract promise?",
		"Is a gun control paper for a seminar protected speech?",
		"Contract law is not the sexiest subject, but which element failed here?",
		"I'll shoot you my outline; meanwhile, what did the court hold?",
	}
	for range 300 {
		texts = append(texts, randomText(r, 1+r.IntN(30)))
	}
	flagged := 0
	var c OutputChecker
	for _, text := range texts {
		for i := 0; i <= len(text); i += 1 + r.IntN(4) {
			got, want := c.Check(text[:i]), CheckOutput(text[:i])
			if got.Flagged != want.Flagged || !slices.Equal(got.Categories, want.Categories) || got.Source != want.Source {
				t.Fatalf("Check(%q) = %+v, CheckOutput %+v", text[:i], got, want)
			}
			if want.Flagged {
				flagged++
			}
		}
	}
	if flagged == 0 {
		t.Fatalf("no text flagged: the comparison says nothing about flagged ones")
	}
}
