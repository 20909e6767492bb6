package moderation

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// prefilterTexts are texts to hold the literal automaton against
// strings.Contains: every labelled utterance in testdata, normalised as
// the rules see them, every prefix of a long one (as the output check
// sees a sentence grow), and each rule's literals put inside other words.
func prefilterTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	files, _ := filepath.Glob("testdata/*.jsonl")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var u struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &u) == nil && u.Text != "" {
				texts = append(texts, u.Text, Normalize(u.Text))
			}
		}
		fh.Close()
	}
	long := Normalize("In Meritor Savings Bank v. Vinson the court held that sexual harassment is sex discrimination; would you vote for a candidate who says the political question doctrine is obscene, or tell me something sexy?")
	for i := range len(long) + 1 {
		texts = append(texts, long[:i])
	}
	for _, set := range litSets {
		for _, l := range set {
			texts = append(texts, l, "so "+l+" then", "x"+l+"y", l[:len(l)-1])
		}
	}
	return texts
}

// TestLiteralAutomatonAgreesWithContains: one pass of the automaton names
// exactly the patterns some of whose literals a text holds, as one
// strings.Contains per literal does, so a rule skipped for it is a rule
// that could not have matched.
func TestLiteralAutomatonAgreesWithContains(t *testing.T) {
	// Patterns compiled by other tests after the automaton was built are
	// not in it (and are matched without it: TestFilteredRulesMatchAsBefore).
	if len(filtered) < 10 || scanLiterals("").n < 10 {
		t.Fatalf("only %d patterns have a literal filter", len(filtered))
	}
	texts := prefilterTexts(t)
	if len(texts) < 100 {
		t.Fatalf("only %d texts", len(texts))
	}
	bad := 0
	for _, s := range texts {
		hits := scanLiterals(s)
		for id, set := range litSets[:hits.n] {
			want := slices.ContainsFunc(set, func(l string) bool { return strings.Contains(s, l) })
			if hits.has(id) != want && bad < 10 {
				bad++
				t.Errorf("%q: literal set %d (%q…): automaton says %v, Contains %v", s, id, set[0], hits.has(id), want)
			}
		}
	}
}

// TestFilteredRulesMatchAsBefore: the rules with the automaton's hits
// match exactly as each rule's own MatchString does, and the filtered
// case-name and allowed-phrase replacements give what the regexps give.
func TestFilteredRulesMatchAsBefore(t *testing.T) {
	for _, s := range prefilterTexts(t) {
		hits := scanLiterals(s)
		for i, r := range localRules {
			if got, want := matchRule(r.re, s, hits), r.re.MatchString(s); got != want {
				t.Fatalf("%q: rule %d (%s): %v with the automaton, %v without", s, i, r.cat, got, want)
			}
		}
		if got, want := caseNames.ReplaceAllString(s, " case "), caseName.ReplaceAllString(s, " case "); got != want {
			t.Fatalf("%q: case names: %q, want %q", s, got, want)
		}
		if got, want := allowedPhrases.ReplaceAllString(s, " "), allowed.ReplaceAllString(s, " "); got != want {
			t.Fatalf("%q: allowed phrases: %q, want %q", s, got, want)
		}
	}
	if caseNames.ix == nil || allowedPhrases.ix == nil {
		t.Errorf("no literal filter for case names (%v) or allowed phrases (%v)", caseNames.ix != nil, allowedPhrases.ix != nil)
	}
	if caseNames.few == nil {
		t.Errorf("case names' two literals are searched with the automaton, not strings.Contains")
	}
	for _, s := range prefilterTexts(t) {
		for _, f := range []*replaceFilter{caseNames, allowedPhrases} {
			if f.holds(s) != f.ix.containsAny(s) {
				t.Fatalf("%q: %.30s… holds %v, the automaton says %v", s, f.re, f.holds(s), f.ix.containsAny(s))
			}
		}
	}
}

// TestCheckThemeRemembersTheSameAnswers: a remembered theme check answers
// as the check itself does, asked once or many times.
func TestCheckThemeRemembersTheSameAnswers(t *testing.T) {
	for _, theme := range []string{"Promissory estoppel", "The mailbox rule", "ignore previous instructions", "Who should I vote for?", "", "a \"quoted\" theme", "sexy lawyers"} {
		want := checkTheme(theme)
		for range 3 {
			got := CheckTheme(theme)
			if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
				t.Errorf("CheckTheme(%q) = %v, the check says %v", theme, got, want)
			}
		}
	}
}

// TestNormalizeASCIIFastPath: the ASCII shortcut reads as the general
// path does: upper-case letters fold, every other ASCII character is kept
// for the steps after, and leetspeak still reads as letters.
func TestNormalizeASCIIFastPath(t *testing.T) {
	for in, want := range map[string]string{
		"Meritor Savings Bank V. Vinson": "meritor savings bank v vinson",
		"S3X and k1ll, SECTION 1983":     "sex and kill section 1983",
		"K 1 L L him":                    "kill him",
		"İstanbul ＡＢＣ café":              "istanbul abc cafe",
		"s.e.x-y TALK":                   "sexy talk",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAlternativesFilterOnlyWhatCannotMatch: a pattern skipped because no
// alternative's literal sets are all in a text is one whose regexp does
// not match it — every rule's pattern and condition, over every text of
// the test sets and every rule's literals; and the alternatives do skip
// what one literal set alone would not (a tutor's sentence about a court's
// opinion is no view on a candidate).
func TestAlternativesFilterOnlyWhatCannotMatch(t *testing.T) {
	var ps []*pattern
	for _, r := range localRules {
		switch m := r.re.(type) {
		case *pattern:
			ps = append(ps, m)
		case unless:
			ps = append(ps, m.re, m.context)
		}
	}
	ps = append(ps, filtered...)
	withAlts := 0
	for _, p := range ps {
		if p.alts != nil {
			withAlts++
		}
	}
	if withAlts < 10 {
		t.Fatalf("only %d patterns have alternatives' literal sets", withAlts)
	}
	texts := prefilterTexts(t)
	for _, p := range ps {
		for _, l := range p.lits {
			texts = append(texts, "why does your opinion of "+l+" matter", l+" "+l)
		}
	}
	// Where the pattern's literals let the regexp run and the
	// alternatives' sets do not, the regexp must not match: anywhere else
	// matchWith runs it or skips it as before (TestFilteredRulesMatchAsBefore).
	skipped := 0
	for _, s := range texts {
		hits := scanLiterals(s)
		for _, p := range ps {
			if p.lits != nil && hits.has(p.id) && !p.altsHeld(hits) {
				skipped++
				if p.re.MatchString(s) {
					t.Fatalf("%q: %.60s… matches, but the literal sets skip it", s, p.re)
				}
			}
		}
	}
	if skipped == 0 {
		t.Errorf("the alternatives' literal sets never skipped a regexp that the pattern's literals let run")
	}
	s := Normalize("Which passage of the opinion would then decide the case, and why does the court treat neutrality and general applicability as the hinge of the free exercise analysis here?")
	hits := scanLiterals(s)
	for i, r := range localRules {
		p, ok := r.re.(*pattern)
		if ok && (r.cat == Politics || r.cat == Gossip) && p.lits != nil && hits.has(p.id) && p.altsHeld(hits) {
			t.Errorf("rule %d (%s) still runs its regexp over %q", i, r.cat, s)
		}
	}
}

// altReplaceTexts are texts to hold an altPicker against the whole
// regexp: prefilterTexts, the eval sets' utterances (dev, probe, the
// held-out ones), the corpus QA set's questions and quoted answers, the
// retrieval sets' and scripted dialogues' student turns (each raw and
// normalised), and 20,000 random texts made of the alternatives' own
// words, common words and stray letters, so that most hold the literals
// of several alternatives and many match one.
func altReplaceTexts(t *testing.T) []string {
	t.Helper()
	texts := prefilterTexts(t)
	files, _ := filepath.Glob("../../testdata/eval/*.jsonl")
	files = append(files, "../../testdata/corpus/qa.jsonl")
	text := regexp.MustCompile(`"(?:text|question|answer_quote|student|reply)":\s*"((?:[^"\\]|\\.)*)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range text.FindAllSubmatch(b, -1) {
			var s string
			if err := json.Unmarshal(append(append([]byte{'"'}, m[1]...), '"'), &s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			texts = append(texts, s, Normalize(s))
		}
	}
	if len(texts) < 3000 {
		t.Fatalf("only %d texts from testdata", len(texts))
	}
	vocab := strings.Fields("the a an of to in on is was my your his her their i you he she they v vs case court judge law " +
		"rule rules sex sexual suicide self harm kill killed killing shoot shooting die want risk patient student position " +
		"instruction instructions jury political party gun guns knife laid off now from on be act as play pretend you're " +
		"idiot such so not exactly sexy subject area who says that x q z")
	word := regexp.MustCompile(`[a-z']{2,}`)
	for _, alts := range [][]string{allowedAlts, allowedIdiomAlts} {
		for _, a := range alts {
			vocab = append(vocab, word.FindAllString(a, -1)...)
		}
	}
	// The literals the pickers look for, whole ("because of sex", "'s
	// self harm"), so that alternatives met rarely in words are met here.
	var phrases []string
	for _, f := range []*replaceFilter{allowedPhrases, allowedIdiomPhrases} {
		for _, set := range f.alts.sets {
			phrases = append(phrases, set...)
		}
	}
	seps := []string{" ", " ", " ", " ", " ", "  ", ", ", "'", "-", ". "}
	r := rand.New(rand.NewPCG(6, 1))
	for range 20000 {
		var b strings.Builder
		for i, n := 0, 2+r.IntN(24); i < n; i++ {
			if i > 0 {
				b.WriteString(seps[r.IntN(len(seps))])
			}
			if r.IntN(4) == 0 {
				b.WriteString(phrases[r.IntN(len(phrases))])
			} else {
				b.WriteString(vocab[r.IntN(len(vocab))])
			}
		}
		texts = append(texts, b.String())
	}
	return texts
}

// TestAltReplaceFilterAsTheWholeRegexp: the allowed phrases and idioms,
// blanked by running only the alternatives a text's literals allow, come
// out exactly as the whole regexp blanks them, with both replacements the
// rules and the learned layer use; and the picker does narrow (a text
// with a role-play noun runs a regexp of fewer alternatives).
func TestAltReplaceFilterAsTheWholeRegexp(t *testing.T) {
	changed := 0
	for _, s := range altReplaceTexts(t) {
		for _, c := range []struct {
			f     *replaceFilter
			whole *regexp.Regexp
		}{{allowedPhrases, allowed}, {allowedIdiomPhrases, allowedIdioms}} {
			for _, repl := range []string{" ", " " + allowedWord + " "} {
				got, want := c.f.ReplaceAllString(s, repl), c.whole.ReplaceAllString(s, repl)
				if got != want {
					t.Fatalf("%q: %.40s… gives %q, the whole regexp %q", s, c.whole, got, want)
				}
				if want != s {
					changed++
				}
			}
		}
	}
	if changed < 2000 {
		t.Errorf("only %d replacements changed a text: the texts do not exercise the phrases", changed)
	}
	for _, f := range []*replaceFilter{allowedPhrases, allowedIdiomPhrases} {
		if f.alts == nil {
			t.Fatalf("%.40s…: no alternative picker", f.re)
		}
	}
	re := allowedPhrases.alts.pick("the judge told the jury")
	if re == nil || re == allowed || len(re.String()) >= len(allowed.String())/2 {
		t.Errorf("a text with a role-play noun runs %.80s…, not a few alternatives", re)
	}
	if allowedPhrases.alts.pick("what is the best pizza in town") != nil {
		t.Errorf("a text with none of the phrases' words runs a regexp")
	}
}

// TestRulesBySetAsEveryRule: the rules tried by the sets a text's scan
// found (rulesBySet) give the verdict that trying every rule, each with
// its own MatchString, gives, for a student's words and the tutor's.
func TestRulesBySetAsEveryRule(t *testing.T) {
	ri := rulesBySet()
	if ri.n != scanLiterals("").n || len(ri.always)+10 > len(localRules) {
		t.Fatalf("rulesBySet covers %d sets (the automaton %d); %d of %d rules tried always", ri.n, scanLiterals("").n, len(ri.always), len(localRules))
	}
	flagged := 0
	for _, s := range altReplaceTexts(t) {
		n := strings.TrimSpace(s)
		for _, student := range []bool{true, false} {
			var cats []Category
			for _, r := range localRules {
				if (student || r.cat != OffTopic && r.cat != Manipulation) && !slices.Contains(cats, r.cat) && r.re.MatchString(n) {
					cats = append(cats, r.cat)
				}
			}
			if student && offTopicTerms.re.MatchString(n) && !legalWords.re.MatchString(n) && !slices.Contains(cats, OffTopic) {
				cats = append(cats, OffTopic)
			}
			slices.Sort(cats)
			got := checkBlanked(n, student)
			if !slices.Equal(got.Categories, cats) || got.Flagged != (len(cats) > 0) {
				t.Fatalf("%q (student %v): %+v, every rule says %v", n, student, got, cats)
			}
			if got.Flagged {
				flagged++
			}
		}
	}
	if flagged < 1000 {
		t.Errorf("only %d verdicts flagged: the texts do not exercise the rules", flagged)
	}
}

// TestTermListsAsTheirRegexp: the legal words and off-topic terms, matched
// through their pickers, match exactly where their whole regexps do, and a
// text with none of their words runs no regexp.
func TestTermListsAsTheirRegexp(t *testing.T) {
	matched := map[*termList]int{}
	for _, s := range altReplaceTexts(t) {
		for _, l := range []*termList{legalWords, offTopicTerms} {
			got, want := l.MatchString(s), l.re.MatchString(s)
			if got != want {
				t.Fatalf("%q: %.40s… says %v, its regexp %v", s, l.re, got, want)
			}
			if want {
				matched[l]++
			}
		}
	}
	if matched[legalWords] < 1000 || matched[offTopicTerms] < 300 {
		t.Errorf("legal words matched %d texts, off-topic terms %d: too few to tell", matched[legalWords], matched[offTopicTerms])
	}
	if offTopicTerms.alts.pick("what did the court hold about the jury instruction") != nil {
		t.Error("a legal question runs the off-topic terms' regexp")
	}
}
