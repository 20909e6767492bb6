package tutor

import (
	"errors"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/moderation"
)

// Offline themes: the noun phrases and case names a law teacher would
// open a discussion on, found without a model.
//
// A part-of-speech-free chunker reads the week's text as runs of words
// between punctuation and proposes three kinds of candidate:
//
//   - case names, "X v. Y", with the party names cut at the citation and
//     "See", "In" and the like dropped; variants ("Mathews v. Eldridge,
//     424 U. S." and "Mathews v. Eldridge") are one candidate;
//   - legal terms: runs of one to four words, no function word at either
//     end, that end on a legal head ("mirror image rule", "promissory
//     estoppel", "expectation damages", "Due Process Clause");
//   - other repeated noun phrases, and single words that read as nouns
//     ("consideration", "negligence").
//
// Each is scored by how often the week uses it, by its kind, and by its
// specificity: the share of its words that are not on the embedded list
// of words too common in English or in any opinion to carry a theme
// (commonWords), times, when the course has other weeks, the phrase's
// inverse document frequency over their passages. The embedded list was
// chosen over corpus IDF because a course often has a single week — there
// is no corpus to compare with — and over a general frequency table
// because a few hundred hand-picked words do the same job in a few
// kilobytes. Phrases that nearly always continue with the same word are
// dropped for the longer phrase ("procedural due" for "procedural due
// process"); proper names other than case names and named clauses, acts
// and amendments, place names, and phrases of common words only are never
// candidates. The best are kept, none inside another, at most two case
// names, each in the casing the reading uses.

// maxThemeWords and maxShapeChars bound a theme's length: a topic, not a
// sentence.
const (
	maxThemeWords = 8
	maxShapeChars = 80
	maxCaseThemes = 2
	maxSameHead   = 2
)

type themeTok struct {
	word  string // as written, outer punctuation and possessive trimmed
	lower string
	start bool // first word of a sentence
	brk   bool // punctuation between the previous token and this one
	ok    bool // letters (and inner hyphens or apostrophes) only
}

var themeAbbrevs = wordSet(`v. vs. co. inc. corp. ltd. no. nos. st. mr. mrs. ms. dr. jr. sr. u.s. e.g. i.e. al. cf. id. ibid. etc. ed. eds. supp. cir. ct. app. art. sec. stat. l.l.c. n.a.`)

// corporate suffixes may follow a comma inside a party's name.
var corporate = wordSet(`inc. co. corp. ltd. llc l.l.c. n.a.`)

func isOpenPunct(r rune) bool  { return strings.ContainsRune("([{\"“‘'«", r) }
func isClosePunct(r rune) bool { return strings.ContainsRune(")]}\"”’'».,;:?!", r) }

func tokenizeThemes(text string) []themeTok {
	fields := strings.Fields(text)
	out := make([]themeTok, 0, len(fields))
	sentence, brk := true, true
	for _, f := range fields {
		lead := strings.TrimLeftFunc(f, isOpenPunct)
		core := strings.TrimRightFunc(lead, isClosePunct)
		trail := lead[len(core):]
		if strings.HasPrefix(trail, ".") {
			if c := core + "."; themeAbbrevs[strings.ToLower(c)] || (utf8.RuneCountInString(core) == 1 && unicode.IsUpper([]rune(core)[0])) {
				core, trail = c, trail[1:]
			}
		}
		possessive := false
		for _, s := range []string{"’s", "'s", "’", "'"} {
			if len(core) > len(s) && strings.HasSuffix(core, s) {
				core, possessive = strings.TrimSuffix(core, s), true
				break
			}
		}
		t := themeTok{word: core, lower: strings.ToLower(core), start: sentence, brk: brk || len(lead) != len(f), ok: wordLike(core)}
		out = append(out, t)
		sentence = strings.ContainsAny(trail, ".?!") || (strings.HasSuffix(core, ".") && !themeAbbrevs[t.lower] && len(core) > 2)
		// An abbreviation ("v.", "Inc.", "U.") runs on; it is never
		// part of a phrase, being no word (t.ok), only of a case name.
		brk = trail != "" || possessive || (!t.ok && !strings.HasSuffix(core, "."))
	}
	return out
}

// wordLike: letters, with hyphens or apostrophes only between them.
func wordLike(w string) bool {
	if w == "" {
		return false
	}
	letters := 0
	for i, r := range w {
		switch {
		case unicode.IsLetter(r):
			letters++
		case (r == '-' || r == '\'' || r == '’') && i > 0 && i < len(w)-1:
		default:
			return false
		}
	}
	return letters >= 2
}

func capitalised(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

func allCaps(w string) bool { return strings.ToUpper(w) == w && strings.ToLower(w) != w }

type themeCand struct {
	key    string
	words  []string // lower-cased
	count  int
	forms  map[string]int // as written, mid-sentence
	judged int            // occurrences whose capitals tell (not at a sentence start, not all capitals)
	proper int            // of those, every content word capitalised
	isCase bool
	// namedBefore counts occurrences right after a capitalised word: a
	// name that starts earlier ("Post Facto Clause" of "Ex Post Facto
	// Clause").
	namedBefore int
	score       float64
	display     string
}

// caseNames finds "X v. Y" in the tokens.
func caseNames(toks []themeTok, add func(key, form string)) {
	connector := wordSet(`of the and & for ex rel. de la el`)
	party := func(t themeTok) bool {
		return (t.ok || strings.HasSuffix(t.word, ".")) && capitalised(t.word) || connector[t.lower]
	}
	lead := wordSet(`in see cf. but and the under compare accord also like as unlike following citing quoting then when
		while because after before since although if here thus that this both applying per so whereas where id. e.g.`)
	for i, t := range toks {
		if (t.lower != "v." && t.lower != "vs.") || i == 0 || i+1 >= len(toks) || t.brk || toks[i+1].brk ||
			!capitalised(toks[i-1].word) || !capitalised(toks[i+1].word) {
			continue
		}
		// Left party: back from "v." while the words run on, past a comma
		// only before "Inc." and the like.
		lo := i - 1
		for lo > 0 && i-lo < 5 && party(toks[lo-1]) && (!toks[lo].brk || corporate[toks[lo].lower]) {
			lo--
		}
		for lo < i-1 && (lead[toks[lo].lower] || connector[toks[lo].lower] || (toks[lo].start && funcWords[toks[lo].lower]) ||
			(!toks[lo].ok && !corporate[toks[lo].lower])) {
			lo++
		}
		// Right party: forward to the citation or the end of the clause.
		// A caption in capitals ends where the capitals do ("TRUMP v.
		// UNITED STATES Syllabus").
		hi := i + 1
		caps := allCaps(toks[i+1].word)
		for hi+1 < len(toks) && hi-i < 4 && !toks[hi+1].brk && party(toks[hi+1]) && !toks[hi+1].start &&
			(connector[toks[hi+1].lower] || allCaps(toks[hi+1].word) == caps) {
			hi++
		}
		for hi > i+1 && connector[toks[hi].lower] {
			hi--
		}
		left := lastParty(toks[lo:i])
		if left == "" || connector[toks[lo].lower] {
			continue
		}
		words := make([]string, 0, hi-lo+1)
		for _, x := range toks[lo : hi+1] {
			w := x.word
			if corporate[x.lower] && x.brk && len(words) > 0 {
				words[len(words)-1] += ","
			}
			words = append(words, w)
		}
		add(left+" v. "+toks[i+1].lower, strings.Join(words, " "))
	}
}

// lastParty is the left party's last word that is not "Inc." and the like.
func lastParty(toks []themeTok) string {
	for j := len(toks) - 1; j >= 0; j-- {
		if !corporate[toks[j].lower] {
			return strings.TrimSuffix(toks[j].lower, ",")
		}
	}
	return ""
}

// themeCandidates counts every candidate phrase and case name in text.
func themeCandidates(toks []themeTok) map[string]*themeCand {
	cands := map[string]*themeCand{}
	get := func(key string, words []string) *themeCand {
		c := cands[key]
		if c == nil {
			c = &themeCand{key: key, words: words, forms: map[string]int{}}
			cands[key] = c
		}
		return c
	}
	caseNames(toks, func(key, form string) {
		c := get("\x00"+key, nil)
		c.isCase = true
		c.count++
		c.forms[form]++
	})
	for i := range toks {
		for n := 1; n <= 6 && i+n <= len(toks); n++ {
			run := toks[i : i+n]
			last := run[n-1]
			if !last.ok || (n > 1 && last.brk) {
				break
			}
			if funcWords[run[0].lower] || funcWords[last.lower] || themeAbbrevs[last.lower] {
				continue
			}
			// Inside a theme only "of" ("statute of frauds"), and in the
			// name of an act "and" or "for" too; past three words, only
			// a legal term or a named clause or act.
			name := instrumentHeads[last.lower] && capitalised(last.word)
			inner := true
			for _, x := range run[1:max(1, n-1)] {
				switch {
				case !funcWords[x.lower], x.lower == "of":
				case name && (x.lower == "and" || x.lower == "for"):
				default:
					inner = false
				}
				if name && !funcWords[x.lower] && !capitalised(x.word) {
					name = false
				}
			}
			if !inner || (n > 3 && !name && !strongHeads[last.lower]) {
				continue
			}
			words := make([]string, n)
			form := make([]string, n)
			caps, content := true, 0
			shouting := false
			for j, x := range run {
				words[j], form[j] = x.lower, x.word
				if allCaps(x.word) && utf8.RuneCountInString(x.word) > 1 {
					shouting = true
				}
				if !funcWords[x.lower] && (j > 0 || !run[0].start) {
					content++
					caps = caps && capitalised(x.word)
				}
			}
			c := get(strings.Join(words, " "), words)
			c.count++
			if i > 0 && !run[0].brk && !run[0].start {
				p := toks[i-1]
				if (p.ok && capitalised(p.word) && !p.start) || ((p.lower == "and" || p.lower == "of") && i > 1 && capitalised(toks[i-2].word) && !p.brk) {
					c.namedBefore++
				}
			}
			if shouting {
				continue
			}
			if content > 0 {
				c.judged++
				if caps {
					c.proper++
				}
			}
			if !run[0].start {
				c.forms[strings.Join(form, " ")]++
			}
		}
	}
	return cands
}

func isPlace(key string) bool {
	k := strings.TrimPrefix(strings.TrimSuffix(key, "."), "the ")
	if places[k] {
		return true
	}
	for _, p := range placePrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// headOf is the kind of legal head a phrase ends on: 2 strong, 1 weak, 0.
func headOf(words []string) int {
	last := words[len(words)-1]
	switch {
	case len(words) > 1 && strongHeads[last]:
		return 2
	case len(words) == 1 && strongHeads[last] && !commonWords[last]:
		return 2
	case weakHeads[last]:
		return 1
	}
	return 0
}

// keepCandidate says whether a phrase can be a theme at all.
func keepCandidate(c *themeCand) bool {
	if c.isCase {
		return true
	}
	w := c.words
	if dangling[w[len(w)-1]] || isPlace(c.key) {
		return false
	}
	proper := c.judged == 0 || float64(c.proper) >= 0.6*float64(c.judged)
	if proper && (len(w) == 1 || !instrumentHeads[w[len(w)-1]]) {
		return false // a name: a person, a court, a party, a place
	}
	if proper && float64(c.namedBefore) >= 0.7*float64(c.count) {
		return false // the end of a longer name
	}
	if f := displayForm(c); len(w) > 1 && capitalised(lastWord(f)) && !capitalised(f) {
		return false // a word, then a name: "replace Standard"
	}
	var content, common int
	for _, x := range w {
		if funcWords[x] {
			continue
		}
		content++
		if commonWords[x] || places[x] {
			common++
		}
	}
	if len(w) == 1 {
		return common == 0 && utf8.RuneCountInString(w[0]) >= 5 && (headOf(w) == 2 || hasNounSuffix(w[0]))
	}
	return common < content
}

func hasNounSuffix(w string) bool {
	for _, s := range nounSuffixes {
		if strings.HasSuffix(w, s) && len(w) > len(s)+2 {
			return true
		}
	}
	return false
}

// OfflineThemes finds ThemeCount themes without a model: the week's case
// names and legal noun phrases most specific to it (see the comment at
// the top of themes_offline.go); rest, the passages of the course's other
// weeks, makes a phrase they share less specific. Fewer come back only
// when the week's text repeats too few phrases (a page of text gives
// five).
func OfflineThemes(week, rest []string) []string {
	return offlineThemes(week, rest, ThemeCount)
}

func offlineThemes(week, rest []string, n int) []string {
	text := strings.Join(week, "\n\n")
	toks := tokenizeThemes(text)
	cands := themeCandidates(toks)

	// A phrase that nearly always goes on with the same word was cut
	// short: the longer phrase stands for it.
	longer := map[string]int{}
	for _, c := range cands {
		if c.isCase || len(c.words) < 2 || !keepCandidate(c) {
			continue
		}
		for _, sub := range []string{strings.Join(c.words[:len(c.words)-1], " "), strings.Join(c.words[1:], " ")} {
			longer[sub] = max(longer[sub], c.count)
		}
	}
	var all []*themeCand
	for _, c := range cands {
		if c.count < 2 || !keepCandidate(c) || (!c.isCase && float64(longer[c.key]) >= 0.7*float64(c.count)) {
			continue
		}
		kind, spec := 1.0, 1.0
		switch {
		case c.isCase:
			kind = 1.6
		case len(c.words) == 1:
			kind = 0.7
		default:
			switch headOf(c.words) {
			case 2:
				kind = 2.5
			case 1:
				kind = 1.5
			}
			mods := c.words
			if headOf(c.words) > 0 {
				mods = mods[:len(mods)-1]
			}
			var content, common float64
			for _, x := range mods {
				if funcWords[x] {
					continue
				}
				content++
				if commonWords[x] {
					common++
				}
			}
			if content > 0 {
				spec = 1 - 0.65*common/content
			}
			if len(c.words) > 2 {
				spec *= 1.1
			}
		}
		c.score = (1 + math.Log(float64(c.count))) * kind * spec
		c.display = displayForm(c)
		all = append(all, c)
	}
	if len(rest) > 0 {
		// What the course's other weeks share is less the week's own:
		// each phrase's inverse document frequency over their passages,
		// scaled to 1 for a phrase none of them holds.
		df := restFrequency(rest, all)
		norm := math.Log(1+float64(len(rest))) + 1
		for _, c := range all {
			if !c.isCase {
				c.score *= (math.Log((1+float64(len(rest)))/(1+float64(df[c.key]))) + 1) / norm
			}
		}
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].score != all[b].score {
			return all[a].score > all[b].score
		}
		return all[a].key < all[b].key
	})
	var out []string
	var picked [][]string
	cases := 0
	heads := map[string]int{}
	for _, c := range all {
		if len(out) == n {
			break
		}
		if c.isCase && cases == maxCaseThemes {
			continue
		}
		words := strings.Fields(strings.ToLower(c.display))
		head := singular(words[len(words)-1])
		if overlapsAny(words, picked) || checkShape(c.display, toks) != nil || moderation.CheckTheme(c.display) != nil ||
			(!c.isCase && heads[head] == maxSameHead) {
			continue
		}
		if c.isCase {
			cases++
		} else {
			heads[head]++
		}
		picked = append(picked, words)
		out = append(out, c.display)
	}
	return out
}

// restFrequency counts, for each candidate, the passages of rest that
// hold it.
func restFrequency(rest []string, cands []*themeCand) map[string]int {
	want := map[string]bool{}
	for _, c := range cands {
		want[c.key] = true
	}
	df := map[string]int{}
	for _, p := range rest {
		toks := tokenizeThemes(p)
		seen := map[string]bool{}
		for i := range toks {
			key := ""
			for n := 1; n <= 6 && i+n <= len(toks); n++ {
				x := toks[i+n-1]
				if !x.ok || (n > 1 && x.brk) {
					break
				}
				if n > 1 {
					key += " "
				}
				key += x.lower
				if want[key] && !seen[key] {
					seen[key] = true
					df[key]++
				}
			}
		}
	}
	return df
}

// displayForm is the phrase as the reading writes it mid-sentence most
// often (lower case if it only ever starts a sentence or is shouted).
func displayForm(c *themeCand) string {
	best, n := "", 0
	for f, k := range c.forms {
		if c.isCase && shouted(f) {
			k = 0 // a caption: only if it is all there is
		}
		if best == "" || k > n || (k == n && f < best) {
			best, n = f, k
		}
	}
	switch {
	case best == "":
		return strings.Join(c.words, " ")
	case c.isCase && shouted(best):
		ws := strings.Fields(strings.ToLower(best))
		for i, w := range ws {
			if w != "v." && (i == 0 || !funcWords[w]) {
				r, size := utf8.DecodeRuneInString(w)
				ws[i] = string(unicode.ToUpper(r)) + w[size:]
			}
		}
		return strings.Join(ws, " ")
	}
	return best
}

// shouted: a case name in capitals, as captions print it.
func shouted(f string) bool {
	for _, w := range strings.Fields(f) {
		if w != "v." && !allCaps(w) {
			return false
		}
	}
	return true
}

// overlapsAny: words run inside one of picked, or one of picked inside
// words ("estoppel" and "promissory estoppel" are one theme).
func overlapsAny(words []string, picked [][]string) bool {
	for _, p := range picked {
		if contains(p, words) || contains(words, p) {
			return true
		}
	}
	return false
}

func contains(long, short []string) bool {
	for i := 0; i+len(short) <= len(long); i++ {
		same := true
		for j := range short {
			if singular(strings.Trim(long[i+j], ",.")) != singular(strings.Trim(short[j], ",.")) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// singular drops a plural "s" ("clauses", "rules"), for comparing.
func singular(w string) string {
	if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
		return w[:len(w)-1]
	}
	return w
}

// CheckThemeShape says why a theme is not the shape of one: too long to
// be a topic, cut short (it ends on a word that needs another — "the
// procedural due" — or, in the week's own text, it is nearly always
// followed, or preceded, by the same word: "image rule" of "mirror image
// rule"), or a bare place name ("United States", "Virginia"). week may be nil; a model's themes are checked against the
// week they are for.
func CheckThemeShape(theme string, week []string) error {
	var toks []themeTok
	if len(week) > 0 {
		toks = tokenizeThemes(strings.Join(week, "\n\n"))
	}
	return checkShape(theme, toks)
}

func checkShape(theme string, toks []themeTok) error {
	t := strings.Join(strings.Fields(theme), " ")
	words := strings.Fields(strings.ToLower(t))
	switch {
	case len(words) == 0:
		return errors.New("is empty")
	case len(words) > maxThemeWords || utf8.RuneCountInString(t) > maxShapeChars:
		return errors.New("is too long for a theme")
	case isPlace(strings.ToLower(t)):
		return errors.New("is a place name, not a topic")
	}
	last := strings.TrimRight(words[len(words)-1], ",;:")
	if funcWords[strings.TrimSuffix(last, ".")] || dangling[last] || last == "v." || last == "vs." {
		return errors.New("is cut short")
	}
	if toks == nil {
		return nil
	}
	// In the week's text, what follows the phrase each time it occurs.
	next, prev := map[string]int{}, map[string]int{}
	seen := 0
	for i := 0; i+len(words) <= len(toks); i++ {
		match := true
		for j, w := range words {
			if toks[i+j].lower != strings.Trim(w, ",.") || (j > 0 && toks[i+j].brk) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		seen++
		if k := i + len(words); k < len(toks) && !toks[k].brk && toks[k].ok && !funcWords[toks[k].lower] {
			next[toks[k].lower]++
		}
		if i > 0 && !toks[i].brk && toks[i-1].ok && !funcWords[toks[i-1].lower] {
			prev[toks[i-1].lower]++
		}
	}
	if seen >= 2 {
		for _, k := range next {
			if float64(k) >= 0.8*float64(seen) {
				return errors.New("is cut short")
			}
		}
		for _, k := range prev {
			if float64(k) >= 0.8*float64(seen) {
				return errors.New("is cut short at its start")
			}
		}
	}
	// So is one whose last word the text nearly always goes on from with
	// the same word, even where a line or column break hides it from the
	// phrase ("writ of habeas" for "habeas corpus").
	if len(words) > 1 {
		lastW := strings.Trim(words[len(words)-1], ",.")
		clear(next)
		seen = 0
		for i, x := range toks {
			if x.lower != lastW {
				continue
			}
			// Counted where a word follows: a page number or a full
			// stop says nothing either way.
			if k := i + 1; k < len(toks) && !toks[k].brk && toks[k].ok {
				seen++
				if !funcWords[toks[k].lower] {
					next[toks[k].lower]++
				}
			}
		}
		if seen >= 3 {
			for _, k := range next {
				if float64(k) >= 0.7*float64(seen) {
					return errors.New("is cut short")
				}
			}
		}
	}
	return nil
}
