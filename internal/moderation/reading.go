package moderation

import (
	"regexp"
	"strings"
	"unicode"
)

// Readings are checked for text that reads as instructions to an AI model
// (indirect prompt injection), to warn their instructors. A student's
// words are normalized generously (leetspeak, spelled-out letters) because
// a student disguises them; a scanned reading's OCR noise is full of
// digits for letters and stray single letters, which that normalization
// turns into words ("N0 RU|ES" is "no rules"). So for readings the rules
// only see readable words, in a readable sentence: a warning someone can
// check by reading the sentence it quotes.

// readingSentenceEnd ends a sentence: a stop and a space, or a blank line.
var readingSentenceEnd = regexp.MustCompile(`[.?!]["'”’)]*\s+|\n\s*\n`)

// maxReadingSentence bounds a "sentence" of text that has no stops.
const maxReadingSentence = 600

// Instruction is a sentence of a reading that reads as instructions to
// an AI model: its text, whitespace collapsed, and its byte offset in the
// text it was found in.
type Instruction struct {
	Sentence string
	At       int
}

// Instructions are the sentences of a reading's text whose readable words
// the local rules find manipulative.
func Instructions(text string) []Instruction {
	if !mayManipulate(Normalize(text)) {
		return nil // the common case: no sentence can match, and checking each costs
	}
	var out []Instruction
	for _, s := range readingSentences(text) {
		if manipulative(text[s[0]:s[1]]) {
			out = append(out, Instruction{Sentence: strings.Join(strings.Fields(text[s[0]:s[1]]), " "), At: s[0]})
		}
	}
	return out
}

// readingSentences splits text into sentences of at most
// maxReadingSentence bytes (a longer one is cut at spaces), as byte spans.
func readingSentences(text string) [][2]int {
	var out [][2]int
	add := func(from, to int) {
		for to-from > maxReadingSentence {
			cut := from + strings.LastIndexAny(text[from:from+maxReadingSentence], " \n\t")
			if cut <= from {
				cut = from + maxReadingSentence
				for cut < to && !isRuneStart(text[cut]) {
					cut++
				}
			}
			out = append(out, [2]int{from, cut})
			from = cut
		}
		if strings.TrimSpace(text[from:to]) != "" {
			out = append(out, [2]int{from, to})
		}
	}
	start := 0
	for _, loc := range readingSentenceEnd.FindAllStringIndex(text, -1) {
		add(start, loc[1])
		start = loc[1]
	}
	add(start, len(text))
	return out
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// tokenKind is what a whitespace-separated token of a reading is.
type tokenKind int

const (
	neutral  tokenKind = iota // numbers, citations, abbreviations, punctuation: neither
	readable                  // a word
	garbage                   // letters mixed with digits or symbols, no vowel, odd case
)

// wordShape is a word's letters: lower case, Capitalized, UPPER, or a
// short capitalized prefix and a capitalized rest ("McDonald", "DeShaney").
var wordShape = regexp.MustCompile(`^(?:\p{Lu}?\p{Ll}+|\p{Lu}+|\p{Lu}\p{Ll}{1,2}\p{Lu}\p{Ll}+)$`)

func kind(token string) (tokenKind, string) {
	core := strings.TrimFunc(token, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if !strings.ContainsFunc(core, unicode.IsLetter) {
		return neutral, ""
	}
	if strings.ContainsFunc(core, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’' && r != '-' && r != '.'
	}) {
		return garbage, ""
	}
	if strings.Contains(core, ".") {
		return neutral, "" // "U.S.C", "e.g"
	}
	if len([]rune(core)) == 1 {
		if strings.ContainsAny(core, "aAiI") {
			return readable, core
		}
		return neutral, "" // "v", "F", a footnote mark
	}
	for _, part := range strings.FieldsFunc(core, func(r rune) bool { return r == '\'' || r == '’' || r == '-' }) {
		if !wordShape.MatchString(part) {
			return garbage, ""
		}
	}
	if !strings.ContainsFunc(strings.ToLower(core), func(r rune) bool { return strings.ContainsRune("aeiouy", r) || r > unicode.MaxASCII }) {
		return garbage, ""
	}
	return readable, core
}

// manipulative says whether a run of the sentence's readable words (runs
// broken by garbage and stray letters) matches a manipulation rule, in a
// sentence that is mostly readable words.
func manipulative(sentence string) bool {
	var runs []string
	var run []string
	words, junk := 0, 0
	for _, tok := range strings.Fields(sentence) {
		k, w := kind(tok)
		switch {
		case k == readable:
			words++
			run = append(run, w)
			continue
		case k == garbage:
			junk++
		case strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }):
			// a stray letter, an abbreviation, a number: breaks a run, so
			// a run is words that stand together in the text
		default:
			continue // punctuation does not
		}
		if len(run) > 0 {
			runs = append(runs, strings.Join(run, " "))
			run = nil
		}
	}
	if len(run) > 0 {
		runs = append(runs, strings.Join(run, " "))
	}
	if words < 3 || words*4 < (words+junk)*3 {
		return false // fewer than three readable words in four
	}
	for _, r := range runs {
		if Check(r).Has(Manipulation) {
			return true
		}
	}
	return false
}

// manipulationLits are literals one of which every match of a
// manipulation rule contains; nil when some rule has none to give.
var manipulationLits = func() []string {
	var lits []string
	for _, r := range localRules {
		if r.cat != Manipulation {
			continue
		}
		p, ok := r.re.(*pattern)
		if !ok || p.lits == nil {
			return nil
		}
		lits = append(lits, p.lits...)
	}
	return lits
}()

// mayManipulate says whether normalized text holds a literal a
// manipulation rule needs. The readable runs of a text normalize to parts
// of its normalization, so a text without one has no run that matches.
func mayManipulate(n string) bool {
	if manipulationLits == nil {
		return true
	}
	for _, l := range manipulationLits {
		if strings.Contains(n, l) {
			return true
		}
	}
	return false
}
