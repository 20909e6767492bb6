// Package tutor is the Socratic tutor: one turn of a session, grounded in
// the week's readings.
package tutor

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// Move is one of PEDAGOGY.md's Socratic moves.
type Move string

// The session arc (PEDAGOGY.md, "Across a session"): the moves of each
// stage, rotated so that consecutive turns differ. Clarifying comes first
// (facts, issue, rule), then testing the student's understanding
// (reasoning, evidence, distinguishing), then hypotheticals and the other
// side; the last minute is the wrap-up.
var arc = [][]Move{
	{"facts", "issue", "rule", "clarification"},
	{"reasoning", "evidence", "rule", "distinguish"},
	{"hypothetical", "counterargument", "policy", "implication"},
}

// questions are each move's question, a few forms each: a session never
// asks the same one twice while another form is left.
var questions = map[Move][]string{
	"facts":           {"What exactly happened here, and who wanted what?", "Before the rule, which facts matter in this passage?", "Who is asking for what in this passage?"},
	"issue":           {"What question did the court actually have to decide here?", "What is the legal issue this passage turns on?"},
	"rule":            {"How would you state the rule this sets out, in one sentence of your own?", "What rule do you take from that, in your own words?", "Put the rule here in one plain sentence: what is it?"},
	"clarification":   {"Which word in that sentence carries the most weight, and what does it mean here?", "What exactly does that sentence commit the court to?"},
	"reasoning":       {"Why do you think it was put that way rather than another?", "What reasoning would justify that choice?", "What makes that the right approach, in the court's view?"},
	"evidence":        {"Where in the reading would you point to back up your view?", "What else in the reading supports or undercuts your view?"},
	"distinguish":     {"How is this different from the other material this week?", "Which other passage this week points the other way, and why?"},
	"hypothetical":    {"Suppose one key fact were different; would the result change?", "If the facts were reversed, would the same rule still apply?", "Change one fact of your choosing: does the outcome survive?"},
	"counterargument": {"If you argued for the other side, what would you say to that?", "What is the strongest answer someone could give against it?"},
	"policy":          {"Whom does that rule protect, and at what cost?", "What is that rule for, and who pays for it?"},
	"implication":     {"If that is right, where does it lead in the next case?", "If that holds, what follows for a harder case?"},
}

// aboutQuestions are each move's question about a case, doctrine or term
// the student named (%s): the turn turns on what they said.
var aboutQuestions = map[Move][]string{
	"facts":           {"What happened in %s that brought this question up?", "Which facts made %s matter here?"},
	"issue":           {"What question did %s have to answer?", "What issue does this passage use %s to settle?"},
	"rule":            {"What rule do you take from %s, in one sentence?", "How would you state what %s requires, in your own words?"},
	"clarification":   {"What exactly does %s stand for here?", "When the reading invokes %s, what does it mean by it?"},
	"reasoning":       {"Why does the reading rely on %s at this point?", "What reasoning makes %s decisive here?"},
	"evidence":        {"What in this passage shows how %s is being used?", "Which words here tell you how %s applies?"},
	"distinguish":     {"How does %s differ from the other authority this week?", "Where would %s point the other way?"},
	"hypothetical":    {"If one fact of %s changed, would the result still hold?", "Suppose the facts of %s were reversed; same outcome?"},
	"counterargument": {"How would the other side answer your reading of %s?", "What is the best argument against relying on %s here?"},
	"policy":          {"What interest does %s protect, and at what cost?", "Who gains and who loses under %s?"},
	"implication":     {"If %s is right, what follows for the next case?", "Where does %s lead if you push it one step further?"},
}

// termQuestions are each move's question about a doctrine or term the
// student named (%s).
var termQuestions = map[Move][]string{
	"facts":           {"Which facts here bring %s into play?", "What happened that made %s matter?"},
	"issue":           {"What question about %s does this passage raise?", "What issue turns on %s here?"},
	"rule":            {"How would you state what %s requires, in one sentence?", "What rule about %s do you take from this?"},
	"clarification":   {"When you say %s, what exactly do you mean?", "What does %s mean in this passage?"},
	"reasoning":       {"Why does the reading treat %s this way?", "What reasoning supports that view of %s?"},
	"evidence":        {"Which words here tell you how %s works?", "Where else does the reading rely on %s?"},
	"distinguish":     {"How does %s here differ from what you expected?", "Where would %s point the other way?"},
	"hypothetical":    {"Suppose one fact changed; would %s still apply?", "If the facts were reversed, would %s come out the same?"},
	"counterargument": {"What would someone who disagrees say about %s?", "What is the best argument against that reading of %s?"},
	"policy":          {"Whom does %s protect, and at what cost?", "What is %s for, and who pays for it?"},
	"implication":     {"If that is what %s means, where does it lead next?", "Where does %s take you in a harder case?"},
}

// Lead-ins open a reply: a few words that take up what the student said.
// No two replies of a session open alike.
var (
	ackLeads = []string{"Let's test that against the text.", "Stay with that for a moment.", "That gives us something to work with.",
		"Let's put that next to the reading.", "Hold on to that idea.", "Let's take that one step further.", "That is a fair place to start.",
		"Let's see whether the reading agrees.", "Let's look more closely.", "Keep that answer in mind.", "Let's pin that down.",
		"That is worth checking against the opinion.", "Let's build on that.", "Now push a little further."}
	aboutLeads = []string{"You raise %s.", "Let's take %s, since you name it.", "%s is a good place to look.", "Stay with %s for a moment.",
		"Good, let's look at %s.", "Let's go back to %s."}
	askedLeads = []string{"That's yours to work out.", "Let me point you to the text instead.", "You can get there from the reading.",
		"The reading answers that better than I could.", "Let's find it in the text.", "Try it from the text first."}
	stuckLeads = []string{"That's all right, let's narrow it down.", "No problem, let's make it smaller.",
		"Fair enough, let's take one piece at a time.", "Let's try an easier way in.", "That's fine, let's start from one sentence.",
		"Let's break it down."}
	wrapLeads = []string{"We're almost out of time.", "We have about a minute left.", "Let's bring this together before time runs out.",
		"One last thing before we stop."}
)

// Questions for a stuck student offer two options (PEDAGOGY.md); for one
// who asked for the answer, a narrower question about the passage shown.
var (
	optionQuestions = []string{"Is that sentence stating a rule, or applying one to these facts?",
		"Does the court rest here on the text, or on the consequences?", "Is the point here about who decides, or about how they decide?",
		"Does that sentence favour the individual, or the government?", "Is the reading describing what happened, or what should happen?",
		"Would you call that a general rule, or an exception to one?"}
	narrowQuestions = []string{"Which words in that sentence do the most work?", "What does that sentence say has to be weighed?",
		"Whose position does that sentence support?", "What one condition does that sentence set?",
		"What would have to be true for that sentence to apply?"}
	wrapQuestions = []string{"In your own words, what is the rule here, and what is its best justification?",
		"Before we stop, how would you state the rule and the strongest reason for it?"}
)

// offTopic replies when nothing in the readings matches.
var offTopic = []string{
	"This week's reading does not seem to speak to that directly. Which passage of the reading would you like to start from?",
	"I cannot find where the reading speaks to that. What part of this week's reading do you think comes closest?",
	"That seems to lie outside this week's reading. Which case or passage from it should we take up instead?",
	"The reading does not cover that, as far as I can see. What in this week's material is closest to your question?",
}

// OfflineTurn is what the offline tutor says, and what it rests on.
type OfflineTurn struct {
	Text   string
	Move   Move
	Quote  string // "" when no passage was found
	Source *retrieval.Source
	About  string // the case, doctrine or term of the student's the turn took up
}

// OfflineInput is what the offline tutor knows of a turn: the student's
// words, the passages retrieved for them, the session so far (its own
// earlier replies: no opener or quote is said twice) and the clock.
type OfflineInput struct {
	Student  string
	Passages []retrieval.Source
	History  []llm.Message
	Clock    Clock
}

// maxReplyWords bounds a reply: under 60 words, spoken in about 20 s at
// the pace of a voice tutor; the quote takes what the rest leaves.
const (
	maxReplyWords = 59
	minQuoteWords = 6
)

// Offline is the tutor without a language model (PEDAGOGY.md, "The offline
// tutor"). It listens first: a case the student names is looked for in the
// passages and the turn is about the passage that names it; a doctrine or
// term they name shapes the question; a request for the answer is met with
// where the reading discusses it and a narrower question; a student who is
// stuck gets two options to choose between. It quotes one whole sentence of
// a passage (footnote marks removed), names the reading by title and page,
// and asks the move its place in the session calls for, in the last minute
// the rule and its justification. It never repeats an opener or a quote of
// the session, and quotes only text that is in the passages.
func Offline(in OfflineInput) OfflineTurn {
	mem := remember(in.History)
	intent := classifyStudent(in.Student)
	if len(in.Passages) == 0 {
		text := pickUnused(offTopic, mem.openers, func(s string) string { return opener(s) })
		return OfflineTurn{Move: "clarification", Text: text}
	}
	about, passages := caseNamed(in.Student, in.Passages)
	if about != "" && intent == asked && !askedRe.MatchString(in.Student) {
		intent = answered // "What about Mathews v. Eldridge?" raises the case
	}
	term := ""
	if about == "" {
		term = termNamed(in.Student, in.Passages)
	}
	move := mem.nextMove(in.Clock)
	if intent == stuck && move == "evidence" {
		move = "reasoning" // never "what else supports your view" after "I have none"
	}
	var lead, q string
	switch {
	case move == "wrap":
		lead = pickUnused(wrapLeads, mem.openers, opener)
		q = pickUnused(wrapQuestions, mem.questions, squash)
	case intent == stuck:
		move = "clarification"
		if mem.lastMove == move {
			move = "meta" // stuck twice: narrower still, and not the same move
		}
		lead = pickUnused(stuckLeads, mem.openers, opener)
		q = pickUnused(optionQuestions, mem.questions, squash)
	case intent == asked:
		move = "evidence"
		if mem.lastMove == move {
			move = "issue"
		}
		lead = pickUnused(askedLeads, mem.openers, opener)
		q = pickUnused(narrowQuestions, mem.questions, squash)
	}
	subject := about
	if subject == "" {
		subject = term
	}
	if lead == "" && about != "" {
		lead = pickUnused(formatAll(aboutLeads, about), mem.openers, opener)
	}
	if lead == "" {
		lead = pickUnused(ackLeads, mem.openers, opener)
	}
	if q == "" && about != "" {
		q = pickUnused(formatAll(aboutQuestions[move], about), mem.questions, squash)
	}
	if q == "" && term != "" {
		q = pickUnused(formatAll(termQuestions[move], term), mem.questions, squash)
	}
	if q == "" {
		q = pickUnused(questions[move], mem.questions, squash)
	}
	budget := maxReplyWords - len(strings.Fields(lead)) - len(strings.Fields(q)) - 3
	src, quote := pickQuote(passages, in.Student+" "+subject, about, mem, budget)
	if quote == "" && about != "" && len(passages) < len(in.Passages) {
		// No sentence of the passages naming the case fits: any passage.
		src, quote = pickQuote(in.Passages, in.Student+" "+subject, about, mem, budget)
	}
	if quote == "" {
		// Every sentence is said already or too long: ask without one.
		return OfflineTurn{Move: move, Text: lead + " " + q, About: subject}
	}
	text := fmt.Sprintf("%s In %s, page %d: “%s” %s", lead, ReadingTitle(src.Filename), src.Page, quote, q)
	return OfflineTurn{Text: text, Move: move, Quote: quote, Source: &src, About: subject}
}

// ReadingTitle is how the tutor names a reading: its file name without the
// extension, words spaced, "v" as "v.", capitalised like a title.
func ReadingTitle(filename string) string {
	base := filepath.Base(filename)
	if ext := filepath.Ext(base); ext != "" && len(ext) <= 5 {
		base = strings.TrimSuffix(base, ext)
	}
	fs := strings.FieldsFunc(base, func(r rune) bool { return r == '-' || r == '_' || unicode.IsSpace(r) })
	// A file name's trailing year and "slip opinion" or "excerpt" say
	// nothing a listener needs.
	for len(fs) > 1 {
		last := strings.ToLower(fs[len(fs)-1])
		if y, err := strconv.Atoi(last); (err == nil && y >= 1700 && y <= 2200) || last == "excerpt" || last == "opinion" || last == "slip" {
			fs = fs[:len(fs)-1]
			continue
		}
		break
	}
	small := map[string]bool{"of": true, "the": true, "and": true, "for": true, "in": true, "on": true, "to": true, "a": true, "an": true, "at": true, "by": true}
	for i, f := range fs {
		switch {
		case f == "v" || f == "vs" || f == "v.":
			fs[i] = "v."
		case i > 0 && small[f]:
		case strings.ToLower(f) == f:
			r, n := utf8.DecodeRuneInString(f)
			fs[i] = string(unicode.ToUpper(r)) + f[n:]
		}
	}
	if len(fs) == 0 {
		return "the reading"
	}
	return strings.Join(fs, " ")
}

// intent is what kind of turn the student took.
type intent int

const (
	answered intent = iota
	stuck           // "I don't know", "I have none"
	asked           // a question, or a request for the answer
)

var (
	stuckRe = regexp.MustCompile(`(?i)\b(i\s+(do\s*n[o']?t|dont|really\s+don'?t)\s+(really\s+)?know|not\s+sure|no\s+idea|i'?m\s+(lost|stuck|confused)|i\s+have\s+(none|nothing)|i\s+(can'?t|cannot)\s+(think|say|remember)|nothing\s+(else|comes)|no\s+clue|none\b|pass\b)`)
	askedRe = regexp.MustCompile(`(?i)\b(tell\s+me|just\s+(give|say)|what'?s\s+the\s+answer|what\s+is\s+the\s+answer|give\s+me\s+the\s+answer|can\s+you\s+explain|explain\s+(it|this)|what\s+did\s+the\s+court\s+(hold|decide|say)|what\s+was\s+the\s+holding|what'?s\s+the\s+holding)\b`)
)

func classifyStudent(s string) intent {
	switch {
	case stuckRe.MatchString(s) && len(words(s)) <= 14:
		return stuck
	case askedRe.MatchString(s) || isQuestion(s):
		return asked
	}
	return answered
}

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

// memory is what the session's earlier tutor replies say about this turn.
type memory struct {
	turns     int             // tutor replies so far (the opening included)
	quotes    map[string]bool // quotations said, normalised
	openers   map[string]bool // first sentences said, normalised
	questions map[string]bool // questions asked, normalised
	lastMove  Move
	pages     []string // "title/page" of each quote, in order
}

func remember(history []llm.Message) memory {
	m := memory{quotes: map[string]bool{}, openers: map[string]bool{}, questions: map[string]bool{}}
	for _, msg := range history {
		if msg.Role != llm.Assistant {
			continue
		}
		m.turns++
		m.openers[opener(msg.Text)] = true
		if q := QuoteOf(msg.Text); q != "" {
			m.quotes[quoteKey(q)] = true
			if c := citedRe.FindStringSubmatch(msg.Text); c != nil {
				page, _ := strconv.Atoi(c[2])
				m.pages = append(m.pages, pageKey(c[1], page))
			}
		}
		if q := lastQuestion(msg.Text); q != "" {
			m.questions[squash(q)] = true
			m.lastMove = moveOf(q)
		}
	}
	return m
}

// nextMove is the arc's move for this turn: the wrap-up in the session's
// last minute, else the stage the clock (or, without one, the turn count)
// has reached, rotated so that it differs from the last turn's move.
func (m memory) nextMove(c Clock) Move {
	if c.Limit > 0 && c.Limit-c.Elapsed <= closingWindow {
		return "wrap"
	}
	stage := min(m.turns/3, len(arc)-1)
	if c.Limit > 0 {
		stage = min(int(3*float64(c.Elapsed)/float64(max(c.Limit-closingWindow, time.Second))), len(arc)-1)
	}
	moves := arc[stage]
	mv := moves[m.turns%len(moves)]
	if mv == m.lastMove {
		mv = moves[(m.turns+1)%len(moves)]
	}
	return mv
}

// moveOf recognises the move of one of our own questions ("" if none).
func moveOf(q string) Move {
	q = squash(q)
	if mv, ok := questionMoves[q]; ok {
		return mv
	}
	for _, f := range aboutForms {
		if strings.HasPrefix(q, f.pre) && strings.HasSuffix(q, f.post) {
			return f.move
		}
	}
	return ""
}

// questionMoves and aboutForms index the questions by their move, made
// once: moveOf runs over every earlier reply of a session, every turn.
var questionMoves, aboutForms = func() (map[string]Move, []aboutForm) {
	m := map[string]Move{}
	for mv, qs := range map[Move][]string{"clarification": optionQuestions, "evidence": narrowQuestions, "wrap": wrapQuestions} {
		for _, s := range qs {
			m[squash(s)] = mv
		}
	}
	for mv, qs := range questions {
		for _, s := range qs {
			m[squash(s)] = mv
		}
	}
	var forms []aboutForm
	for mv, qs := range mergeForms(aboutQuestions, termQuestions) {
		for _, s := range qs {
			pre, post, _ := strings.Cut(s, "%s")
			forms = append(forms, aboutForm{squash(pre), squash(post), mv})
		}
	}
	return m, forms
}()

type aboutForm struct {
	pre, post string
	move      Move
}

// opener is a reply's first sentence, normalised: what a listener hears
// as the way it opens.
func opener(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexAny(text, ".?!:“"); i >= 0 {
		text = text[:i]
	}
	return squash(strings.ToLower(text))
}

// QuoteOf is the quotation a reply makes (between “ and ”), or "".
func QuoteOf(text string) string {
	i := strings.Index(text, "“")
	j := strings.LastIndex(text, "”")
	if i < 0 || j <= i {
		return ""
	}
	return text[i+len("“") : j]
}

func quoteKey(q string) string { return squash(strings.ToLower(quoteMarks.Replace(q))) }

var quoteMarks = strings.NewReplacer("“", "'", "”", "'", "‘", "'", "’", "'", "\"", "'")

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// citedRe is how a reply names the page it quotes.
var citedRe = regexp.MustCompile(`(?:In (.+?), )?[Pp]age (\d+): “`)

func pageKey(title string, page int) string { return title + "/" + strconv.Itoa(page) }

func lastQuestion(text string) string {
	if q := QuoteOf(text); q != "" {
		text = text[strings.LastIndex(text, "”")+len("”"):]
	}
	text = strings.TrimSpace(text)
	if !strings.HasSuffix(text, "?") {
		return ""
	}
	body := strings.TrimSuffix(text, "?")
	if i := strings.LastIndexAny(body, ".!?"); i >= 0 {
		text = text[i+1:]
	}
	return strings.TrimSpace(text)
}

func pickUnused(options []string, used map[string]bool, key func(string) string) string {
	for _, o := range options {
		if !used[key(o)] {
			return o
		}
	}
	return ""
}

func mergeForms(a, b map[Move][]string) map[Move][]string {
	out := map[Move][]string{}
	for mv, qs := range a {
		out[mv] = append(out[mv], qs...)
	}
	for mv, qs := range b {
		out[mv] = append(out[mv], qs...)
	}
	return out
}

func formatAll(forms []string, arg string) []string {
	out := make([]string, len(forms))
	for i, f := range forms {
		out[i] = fmt.Sprintf(f, arg)
	}
	return out
}

// caseRe finds a case name in a reading: "Mathews v. Eldridge",
// "United States v. Vinton", "Calvary Chapel of Bangor v. Mills".
var caseRe = regexp.MustCompile(`\b([A-Z][\w'&.-]*(?:,?\s+(?:of|the|and|for|de|ex rel\.|[A-Z][\w'&.-]*)){0,5}),?\s+v\.?\s+([A-Z][\w'&-]*(?:\s+(?:of|the|[A-Z][\w'&-]*)){0,4})`)

// generic party words do not identify a case by themselves.
var genericParty = map[string]bool{"united": true, "states": true, "state": true, "people": true, "commissioner": true, "county": true,
	"city": true, "board": true, "department": true, "secretary": true, "inc": true, "co": true, "corp": true, "company": true,
	"america": true, "the": true, "of": true, "and": true, "court": true, "district": true, "school": true, "new": true, "york": true}

// CaseNames are the case names a text holds, as written there.
func CaseNames(text string) []string {
	if !strings.Contains(text, " v") {
		return nil // no "v." at all: skip the pattern's cost
	}
	var out []string
	for _, m := range caseRe.FindAllStringSubmatch(strings.Join(strings.Fields(text), " "), -1) {
		first := trimParty(m[1], true)
		second := trimParty(m[2], false)
		if first == "" || second == "" {
			continue
		}
		out = append(out, first+" v. "+second)
	}
	return out
}

// trimParty drops a party's leading (first) or trailing (second) small
// words and sentence starts ("In", "See", "Under").
func trimParty(p string, first bool) string {
	fs := strings.Fields(strings.TrimRight(p, ".,"))
	lead := map[string]bool{"In": true, "See": true, "Under": true, "As": true, "And": true, "But": true, "The": true, "Cf.": true, "Compare": true, "Also": true, "Then": true, "Like": true, "Unlike": true, "Both": true, "Since": true, "When": true}
	if first {
		for len(fs) > 1 && (lead[fs[0]] || strings.ToLower(fs[0]) == fs[0]) {
			fs = fs[1:]
		}
	}
	for len(fs) > 0 && strings.ToLower(fs[len(fs)-1]) == fs[len(fs)-1] {
		fs = fs[:len(fs)-1]
	}
	return strings.Join(fs, " ")
}

// partyWords are the words of a case name that identify it: the first
// party's last distinctive word and the second's first ("Inc", "United
// States" and the like identify nothing).
func partyWords(name string) []string {
	a, b, ok := strings.Cut(name, " v. ")
	if !ok {
		return nil
	}
	distinctive := func(w string) string {
		w = strings.ToLower(strings.Trim(w, ".,'’"))
		if utf8.RuneCountInString(w) < 3 || genericParty[w] || strings.Contains(w, ".") {
			return ""
		}
		return w
	}
	var out []string
	fa := strings.Fields(a)
	for i := len(fa) - 1; i >= 0; i-- {
		if w := distinctive(fa[i]); w != "" {
			out = append(out, w)
			break
		}
	}
	for _, f := range strings.Fields(b) {
		if w := distinctive(f); w != "" {
			out = append(out, w)
			break
		}
	}
	return out
}

func lastWord(s string) string {
	fs := strings.Fields(s)
	if len(fs) == 0 {
		return ""
	}
	return fs[len(fs)-1]
}

func firstWord(s string) string {
	fs := strings.Fields(s)
	if len(fs) == 0 {
		return ""
	}
	return fs[0]
}

// NamesCase: the student's words name the case (both parties' words, or
// the one identifying word of a case like "United States v. Vinton").
func NamesCase(student, name string) bool {
	ws := map[string]bool{}
	for _, w := range words(student) {
		ws[w] = true
	}
	pw := partyWords(name)
	if len(pw) == 0 {
		return false
	}
	for _, w := range pw {
		if ws[w] {
			return true
		}
	}
	return false
}

// caseNamed is the case the student names that the passages hold, as the
// reading writes it, and the passages that name it (all passages when
// none does).
func caseNamed(student string, passages []retrieval.Source) (string, []retrieval.Source) {
	best, most := "", 0
	for _, p := range passages {
		for _, name := range CaseNames(p.Content) {
			if n := namedWords(student, name); n > most {
				best, most = name, n
			}
		}
	}
	if best == "" {
		return "", passages
	}
	var naming []retrieval.Source
	for _, q := range passages {
		if passageNames(q.Content, best) {
			naming = append(naming, q)
		}
	}
	return best, naming
}

// namedWords is how many of a case's identifying words the student said.
func namedWords(student, name string) int {
	ws := map[string]bool{}
	for _, w := range words(student) {
		ws[w] = true
	}
	n := 0
	for _, w := range partyWords(name) {
		if ws[w] {
			n++
		}
	}
	return n
}

// passageNames: the passage holds the case's name (its identifying party
// words beside a "v.").
func passageNames(content, name string) bool {
	lower := strings.ToLower(content)
	for _, w := range partyWords(name) {
		if !strings.Contains(lower, w) {
			return false
		}
	}
	for _, n := range CaseNames(content) {
		if n == name {
			return true
		}
		a, b := partyWords(n), partyWords(name)
		if len(a) > 0 && len(b) > 0 && strings.Join(a, " ") == strings.Join(b, " ") {
			return true
		}
	}
	return false
}

// StudentCase is a case the student names by its parties ("mathews v
// eldridge", "Goldberg versus Kelly"), as "A v. B" in the student's words,
// or "": what the tutor searches the week for when the passages found for
// the turn do not name it.
func StudentCase(student string) string {
	fs := strings.Fields(student)
	for i := 1; i+1 < len(fs); i++ {
		switch strings.ToLower(strings.Trim(fs[i], ",")) {
		case "v", "v.", "vs", "vs.", "versus":
			a, b := strings.Trim(fs[i-1], ".,;:?!\"'“”"), strings.Trim(fs[i+1], ".,;:?!\"'“”")
			if a != "" && b != "" {
				return a + " v. " + b
			}
		}
	}
	return ""
}

var stop = map[string]bool{"the": true, "and": true, "that": true, "this": true, "with": true, "from": true, "what": true, "which": true,
	"about": true, "there": true, "their": true, "they": true, "have": true, "were": true, "would": true, "could": true, "should": true,
	"think": true, "because": true, "court": true, "case": true, "reading": true, "does": true, "just": true, "really": true,
	"mean": true, "means": true, "here": true, "into": true, "some": true, "more": true, "than": true, "then": true, "when": true,
	"where": true, "your": true, "like": true, "know": true, "sure": true, "maybe": true, "been": true, "also": true, "only": true,
	"it's": true, "is": true, "of": true, "to": true, "in": true, "a": true, "an": true, "for": true, "on": true, "it": true, "be": true,
	"was": true, "are": true, "i": true, "we": true, "you": true, "me": true, "my": true, "not": true, "or": true, "by": true, "as": true,
	"so": true, "if": true, "at": true, "do": true, "did": true, "can": true, "answer": true, "tell": true, "explain": true, "question": true,
	"before": true, "after": true, "whether": true, "over": true, "under": true, "upon": true, "being": true, "said": true, "even": true,
	"much": true, "many": true, "guess": true, "thing": true, "things": true, "kind": true, "other": true, "another": true, "these": true,
	"those": true, "them": true, "said.": true, "says": true, "say": true, "held": true, "hold": true, "holding": true, "decide": true,
	"decided": true, "right": true, "wrong": true, "why": true, "how": true, "who": true, "whom": true, "will": true, "wants": true,
	"wanted": true, "want": true, "used": true, "use": true, "part": true, "against": true, "without": true, "between": true, "through": true,
	"same": true, "different": true, "someone": true, "something": true, "anything": true, "nothing": true, "everything": true,
	"government": true, "state": true, "states": true, "first": true, "last": true, "later": true, "years": true}

// termNamed is the longest run of two or three of the student's words
// (content words at both ends) that a passage holds: the doctrine or term
// the question turns on ("procedural due process", "mailbox rule").
func termNamed(student string, passages []retrieval.Source) string {
	ws := words(student)
	var hay []string
	for _, p := range passages {
		hay = append(hay, " "+strings.Join(words(p.Content), " ")+" ")
	}
	for n := 3; n >= 2; n-- {
		for i := 0; i+n <= len(ws); i++ {
			g := ws[i : i+n]
			if stop[g[0]] || stop[g[n-1]] || len(g[0]) < 3 || len(g[n-1]) < 3 {
				continue
			}
			phrase := strings.Join(g, " ")
			for _, h := range hay {
				if strings.Contains(h, " "+phrase+" ") {
					return phrase
				}
			}
		}
	}
	return ""
}

// footnoteRe is a footnote mark glued to the end of a word or sentence:
// "question.4 The", "hearing,12 and".
var footnoteRe = regexp.MustCompile(`([A-Za-z][.,;:!?”"’)\]])\d{1,3}(\s|$)`)

// CleanText is a passage as the tutor quotes it: footnote marks removed,
// whitespace collapsed.
func CleanText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if !footnoteCandidate(s) {
		return s
	}
	return footnoteRe.ReplaceAllString(s, "$1$2")
}

// footnoteCandidate: s has a digit right after punctuation, which the
// footnote pattern needs (most passages do not: the pattern is skipped).
func footnoteCandidate(s string) bool {
	for i := 1; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			switch s[i-1] {
			case '.', ',', ';', ':', '!', '?', '"', ')', ']', 0x9d, 0x99: // 0x9d, 0x99: the last bytes of ” and ’
				return true
			}
		}
	}
	return false
}

// pickQuote is the best whole sentence to quote, of at most budget words,
// not said before in the session: one that shares the most of the
// student's words (naming the case, when they named one), from the
// better-ranked passage, preferably not on the page quoted last.
func pickQuote(passages []retrieval.Source, student, about string, mem memory, budget int) (retrieval.Source, string) {
	want := map[string]float64{}
	for _, w := range words(student) {
		if len(w) > 3 && !stop[w] {
			want[w] = 1
		}
	}
	var best retrieval.Source
	bestQuote, bestScore := "", -1e9
	for rank, p := range passages {
		clean := CleanText(p.Content)
		title := ReadingTitle(p.Filename)
		titleWords := len(strings.Fields(title))
		// Where the passage names the case: a passage may carry a little
		// of its neighbours' text, so the sentences near the name are the
		// ones that are surely of the passage naming it.
		var mentions []int
		if about != "" {
			lower := strings.ToLower(clean)
			for _, w := range partyWords(about) {
				for i := 0; ; {
					j := strings.Index(lower[i:], w)
					if j < 0 {
						break
					}
					mentions = append(mentions, i+j)
					i += j + len(w)
				}
			}
		}
		for k, s := range sentences(clean) {
			n := len(strings.Fields(s))
			if n < minQuoteWords || n > budget-titleWords || !wholeSentence(s) || (len(mem.quotes) > 0 && mem.quotes[quoteKey(s)]) {
				continue
			}
			score := -0.4 * float64(rank)
			if k == 0 {
				score -= 2 // a passage may begin mid-sentence (after a "v. ")
			}
			seen := map[string]bool{}
			for _, w := range words(s) {
				if want[w] > 0 && !seen[w] {
					score += 2
					seen[w] = true
				}
			}
			if about != "" && passageNames(s, about) {
				score += 20
			}
			if at := strings.Index(clean, s); at >= 0 && slices.ContainsFunc(mentions, func(m int) bool { return m >= at-300 && m <= at+len(s)+300 }) {
				score += 8
			}
			score -= digitShare(s) * 6
			if strings.Contains(s, "- ") {
				score -= 2 // a word hyphenated at a line end
			}
			if n >= 10 && n <= 30 {
				score++
			}
			if len(mem.pages) > 0 && mem.pages[len(mem.pages)-1] == pageKey(title, p.Page) {
				score--
			}
			if score > bestScore {
				best, bestQuote, bestScore = p, s, score
			}
		}
	}
	return best, strings.NewReplacer("“", "‘", "”", "’").Replace(bestQuote)
}

// wholeSentence: s reads as a sentence on its own: it starts with a
// capital (perhaps after an opening quote or bracket), ends on a full
// stop, holds no question mark (a reply asks exactly one question), and is
// mostly words, not a citation or a running head.
func wholeSentence(s string) bool {
	r, _ := utf8.DecodeRuneInString(strings.TrimLeft(s, "“\"'‘("))
	if !unicode.IsUpper(r) || strings.ContainsAny(s, "?") {
		return false
	}
	end := strings.TrimRight(s, "”\"’')")
	if !strings.HasSuffix(end, ".") && !strings.HasSuffix(end, "!") {
		return false
	}
	if strings.ToUpper(s) == s || strings.Contains(s, "___") || joined(s) {
		return false
	}
	// Nor does it run over a page's running head ("2 TRUMP v. UNITED
	// STATES Syllabus").
	if runningHead(s) {
		return false
	}
	// Nor does it open on a citation's abbreviation ("Id. We concluded").
	switch strings.ToLower(strings.TrimRight(firstWord(s), ".,")) {
	case "id", "cf", "ibid", "supra", "infra", "app", "e.g", "i.e":
		return false
	}
	// The last word is a word, not an abbreviation or a cut citation
	// ("559 U.", "Id.").
	if last := words(lastWord(end)); len(last) == 0 || utf8.RuneCountInString(last[len(last)-1]) <= 2 || abbreviations[last[len(last)-1]] {
		return false
	}
	return digitShare(s) < 0.25
}

// joinedRe is two pieces of text run together at a page break: a
// sentence's end followed by a lower-case word.
var joinedRe = regexp.MustCompile(`[a-z]{2}[.!?]['’”"]? [a-z]+`)

func joined(s string) bool {
	for _, m := range joinedRe.FindAllString(s, -1) {
		if w := m[strings.LastIndexByte(m, ' ')+1:]; w != "v" && w != "vs" && w != "see" && w != "cf" && w != "at" && w != "id" {
			return true
		}
	}
	return false
}

// runningHead: two words in capitals in a row, as a page's running head
// has them ("TRUMP v. UNITED STATES"); a justice's name alone is fine.
func runningHead(s string) bool {
	caps := 0
	for _, f := range strings.Fields(s) {
		w := strings.Trim(f, ".,;:’'”“()")
		if w == "v" {
			continue
		}
		upper := utf8.RuneCountInString(w) >= 2
		for _, r := range w {
			if !unicode.IsUpper(r) {
				upper = false
				break
			}
		}
		if !upper {
			caps = 0
			continue
		}
		if caps++; caps >= 2 {
			return true
		}
	}
	return false
}

// digitShare is the share of a text's words that hold digits.
func digitShare(s string) float64 {
	fs := strings.Fields(s)
	n := 0
	for _, f := range fs {
		if strings.ContainsAny(f, "0123456789§") {
			n++
		}
	}
	return float64(n) / float64(max(len(fs), 1))
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
		if next < start {
			continue // inside closing quotes already taken
		}
		// Closing quotes and brackets belong to the sentence they close.
		for next < len(text) {
			c, n := utf8.DecodeRuneInString(text[next:])
			if c != '’' && c != '”' && c != '"' && c != '\'' && c != ')' {
				break
			}
			next += n
		}
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

// caseIn is the case name in content that the student's name of a case
// refers to, or "".
func caseIn(content, student string) string {
	for _, n := range CaseNames(content) {
		if NamesCase(student, n) {
			return n
		}
	}
	return ""
}

// properNames are the capitalised words of the student's that do not
// start a sentence ("What did East River say" → "East River"), joined, or
// "": a name a case may go by.
func properNames(student string) string {
	var out []string
	fs := strings.Fields(student)
	for i, f := range fs {
		w := strings.Trim(f, ".,;:?!\"'“”‘’()")
		r, _ := utf8.DecodeRuneInString(w)
		if i == 0 || !unicode.IsUpper(r) || w == "I" || utf8.RuneCountInString(w) < 3 || genericParty[strings.ToLower(w)] {
			continue
		}
		if prev := fs[i-1]; strings.HasSuffix(prev, ".") || strings.HasSuffix(prev, "?") || strings.HasSuffix(prev, "!") {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}
