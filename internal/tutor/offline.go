// Package tutor is the Socratic tutor: one turn of a session, grounded in
// the week's readings.
package tutor

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/retrieval"
)

// Move is one of PEDAGOGY.md's Socratic moves.
type Move string

// The offline tutor's rotation (PEDAGOGY.md): consecutive turns never
// make the same move.
var rotation = []Move{"facts", "rule", "reasoning", "evidence", "counterargument", "policy", "implication"}

// questions are each move's question, a few forms each so that the wording
// varies from session to session as well as from turn to turn.
var questions = map[Move][]string{
	"facts":           {"What exactly happened here, and who wanted what?", "Before the rule, what are the facts that matter in this passage?"},
	"rule":            {"How would you state the rule this sets out, in one sentence of your own?", "What rule do you take from that, in your own words?"},
	"reasoning":       {"Why do you think it was put that way rather than another?", "What reasoning would justify that choice?"},
	"evidence":        {"What else in the reading supports or undercuts your view of it?", "Where in the reading would you point to back that up?"},
	"counterargument": {"If you argued for the other side, what would you say to that?", "What is the strongest answer someone could give against it?"},
	"policy":          {"Whom does that rule protect, and at what cost?", "What is that rule for, and who pays for it?"},
	"implication":     {"If that is right, where does it lead in the next case?", "Suppose one fact changed: would the result change with it?"},
}

// OfflineTurn is what the offline tutor says, and what it rests on.
type OfflineTurn struct {
	Text   string
	Move   Move
	Quote  string // "" when no passage was found
	Source *retrieval.Source
}

// maxQuoteWords bounds a quotation, and maxReplyWords a reply: spoken at
// about 160 words a minute, a reply takes under 15 s (PEDAGOGY.md).
const (
	maxQuoteWords = 12
	maxReplyWords = 40
)

// Offline is the tutor without a language model (PEDAGOGY.md, "The offline
// tutor"): it quotes a short span of the passage most relevant to what the
// student said, with its page, and asks the turn's move; a student's
// question is turned back, never answered. turn counts the tutor's turns
// so far in the session (0 for the first reply), so consecutive turns make
// different moves. It quotes only text that is in the passages.
func Offline(student string, passages []retrieval.Source, turn int) OfflineTurn {
	move := rotation[turn%len(rotation)]
	q := questions[move][(turn/len(rotation))%len(questions[move])]
	asked := isQuestion(student)
	if len(passages) == 0 {
		// Nothing in the reading matches: steer back, in one of two forms
		// so that two such turns in a row still differ.
		if turn%2 == 0 {
			return OfflineTurn{Move: "clarification", Text: "This week's reading does not seem to speak to that directly. Which passage of the reading would you like to start from?"}
		}
		return OfflineTurn{Move: "meta", Text: "I cannot find where the reading speaks to that. What part of this week's reading do you think comes closest?"}
	}
	src := passages[0]
	quote := bestSpan(src.Content, student)
	var b strings.Builder
	if asked {
		b.WriteString(turnBack)
	}
	fmt.Fprintf(&b, "Page %d of the reading says: “%s”. %s", src.Page, quote, q)
	return OfflineTurn{Text: b.String(), Move: move, Quote: quote, Source: &src}
}

// turnBack opens a reply to a student's question: the tutor does not
// answer it, it sends the student to the passage.
const turnBack = "Let's reason that out from the reading. "

// isQuestion: the student asked something rather than answered.
func isQuestion(s string) bool {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "?") {
		return true
	}
	ws := words(s)
	if len(ws) == 0 {
		return false
	}
	switch ws[0] {
	case "what", "why", "how", "when", "where", "who", "which", "is", "are", "does", "do", "can", "could", "should", "would":
		return true
	}
	return false
}

// bestSpan is a short, exact span of the passage (whitespace collapsed for
// speech): within the sentence sharing the most words with what the
// student said, the maxQuoteWords words that share the most.
func bestSpan(passage, student string) string {
	want := map[string]bool{}
	for _, w := range words(student) {
		if len(w) > 3 {
			want[w] = true
		}
	}
	best, bestScore := "", -1
	for _, s := range sentences(passage) {
		score := 0
		for _, w := range words(s) {
			if want[w] {
				score++
			}
		}
		// A sentence that starts like one (not the tail of a citation
		// such as "124, 128, the Court…") reads better aloud.
		score *= 2
		if r, _ := utf8.DecodeRuneInString(s); unicode.IsUpper(r) {
			score++
		}
		if score > bestScore && len(words(s)) >= 3 {
			best, bestScore = s, score
		}
	}
	if best == "" {
		best = passage
	}
	// The window of maxQuoteWords words holding most of the student's
	// words (the earliest on a tie), marked "…" where it cuts.
	fields := strings.Fields(best)
	from, most := 0, -1
	for start := 0; start+maxQuoteWords <= len(fields) || start == 0; start++ {
		n := 0
		for _, f := range fields[start:min(len(fields), start+maxQuoteWords)] {
			for _, w := range words(f) {
				if want[w] {
					n++
				}
			}
		}
		if n > most {
			from, most = start, n
		}
	}
	to := min(len(fields), from+maxQuoteWords)
	out := strings.TrimRight(strings.Join(fields[from:to], " "), ".;:,?!")
	if from > 0 {
		out = "… " + out
	}
	if to < len(fields) {
		out += " …"
	}
	return out
}

// sentences splits text after ., ? or ! followed by a space, but not
// after an abbreviation ("v.", "U. S.", "Id.") or before a number or a
// lower-case word, as legal citations would have it.
func sentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if r != '.' && r != '?' && r != '!' {
			continue
		}
		next := i + utf8.RuneLen(r)
		if next < len(text) && !unicode.IsSpace(rune(text[next])) {
			continue
		}
		if r == '.' && !endsSentence(text[start:i], text[next:]) {
			continue
		}
		if s := strings.TrimSpace(text[start:next]); s != "" {
			out = append(out, s)
		}
		start = next
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// endsSentence: a period after before ends a sentence when the word it
// closes is no abbreviation and what follows starts like a sentence.
func endsSentence(before, after string) bool {
	fs := strings.Fields(before)
	if len(fs) == 0 {
		return false
	}
	last := strings.ToLower(strings.TrimLeft(fs[len(fs)-1], "(“\"'"))
	if utf8.RuneCountInString(last) <= 2 || abbreviations[last] {
		return false
	}
	next, _ := utf8.DecodeRuneInString(strings.TrimLeft(after, " \t\n“\"'("))
	return next == utf8.RuneError || unicode.IsUpper(next)
}

var abbreviations = map[string]bool{"inc": true, "corp": true, "ltd": true, "mr": true, "mrs": true, "dr": true,
	"id": true, "cf": true, "e.g": true, "i.e": true, "et": true, "al": true, "app": true, "supp": true, "cir": true,
	"art": true, "sec": true, "ch": true, "cl": true, "amend": true, "const": true, "stat": true, "rev": true, "ed": true}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
