package retrieval

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestMentions(t *testing.T) {
	for in, want := range map[string][]string{
		"What are the factors under Mathews v. Eldridge?":                  {"mathewsveldridge"},
		"In Trump v. United States, what doubt did the concurrence raise?": {"trumpvunited"},
		"Is a claim under 42 U.S.C. § 1983 barred by Rule 60(b)?":          {"42usc§1983", "rule60b"},
		"Does § 465(b)(4) apply?":                                          {"§465b4"},
		"What does the court say about negligence?":                        nil,
		"Why wasn't Smith v. Doe the controlling case?":                    {"smithvdoe"},
	} {
		if got := mentions(in); !slices.Equal(got, want) {
			t.Errorf("mentions(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMentionPrefilters: mayNameCase and mayCite never refuse a text either
// regexp matches (they only spare the others the regexps), over the
// mentions above and texts built around each way a match can start or
// turn on a space character.
func TestMentionPrefilters(t *testing.T) {
	texts := []string{
		"What are the factors under Mathews v. Eldridge?", "In Trump v. United States, what doubt?",
		"Is a claim under 42 U.S.C. § 1983 barred by Rule 60(b)?", "Does § 465(b)(4) apply?", "Why wasn't Smith v. Doe the case?",
		"Smith vs Doe", "Smith vs. Doe", "Smith\tv\tDoe", "Smith\nv.\nDoe", "Smith\fv Doe", "Smith\rvs. Doe", "A v B",
		"§1", "§§ 2", "rule 7(a)", "RULE 12(b)(6)", "5 USC 552", "28 C.F.R. § 35", "347 U.S. 483", "1 S. Ct. 2", "9 F.2d 10", "9 F. Supp. 3d 4",
		"Smithv. Doe", "Smith V. Doe", "no case here", "what about the vote", "rule of lenity", "", "v", " v",
		"rule 7.2(a)", "Rule\t60(b)(1)", "42 usc 1983", "42\nU.S.C. 1983", "42  C.F.R. 5", "5 ſ. Ct. 3", "5 f. supp. 2d 9", "12 F.3d 4",
		"42 u.s.c. 1983", "28 c.f.r. 35", "9 f.2d 10", "1 s. ct. 2", "5 ſ. ct. 3", "7 us 8", "§", "2020 was the year", "(bench-s001-t02-x)", "in 2020, the court", "9", "9 ", "9 U", "9.", "9(", "a9 U.S. 1", "1 2 U.S. 3",
	}
	var more []string
	for _, s := range texts {
		more = append(more, s+" and "+s, "Well, "+s, s+"!")
	}
	// And random texts of the characters the regexps turn on.
	alphabet := []string{"0", "4", "2", " ", "\t", "\n", ".", "(", ")", "b", "§", "S", "s", "ſ", "U", "u", "C", "F", "R", "v", "V", "Smith", "Doe", "rule", "Ct", "2d", "Supp"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		more = append(more, b.String())
	}
	for _, s := range append(texts, more...) {
		if caseName.MatchString(s) && !mayNameCase(s) {
			t.Errorf("mayNameCase(%q) = false, but caseName matches", s)
		}
		if citation.MatchString(s) && !mayCite(s) {
			t.Errorf("mayCite(%q) = false, but citation matches", s)
		}
	}
	// And they do spare the regexps a plain turn.
	for _, s := range []string{"What does the court say about negligence and the duty of care?", "In 2020, the court held it (turn-3-s001)."} {
		if mayNameCase(s) || mayCite(s) {
			t.Errorf("a plain turn passes the prefilters: %q", s)
		}
	}
}
