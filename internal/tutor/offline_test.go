package tutor

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/testenv"
)

// corpusPassages are real passages nobody here wrote: the answer quotes of
// testdata/corpus/qa.jsonl, each with the question that paraphrases it.
func corpusPassages(t *testing.T) ([]retrieval.Source, []string) {
	t.Helper()
	f, err := os.Open(testenv.QA())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []retrieval.Source
	var questions []string
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		var it struct{ File, Question, AnswerQuote string }
		if err := json.Unmarshal(sc.Bytes(), &struct {
			File        *string `json:"file"`
			Question    *string `json:"question"`
			AnswerQuote *string `json:"answer_quote"`
		}{&it.File, &it.Question, &it.AnswerQuote}); err != nil {
			t.Fatal(err)
		}
		out = append(out, retrieval.Source{ChunkID: int64(i), DocumentID: 1, Filename: it.File, Page: i%9 + 1, Content: it.AnswerQuote})
		questions = append(questions, it.Question)
	}
	return out, questions
}

var terminator = regexp.MustCompile(`[.?!…](\s|$)`)

// sentencesOutsideQuote counts the sentences of a reply, not counting any
// inside the quotation.
func sentencesOutsideQuote(text string) int {
	if i, j := strings.Index(text, "“"), strings.LastIndex(text, "”"); i >= 0 && j > i {
		text = text[:i] + "QUOTE" + text[j+len("”"):]
	}
	return len(terminator.FindAllString(text, -1))
}

func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// session runs the offline tutor over the student's turns as a session
// does: each reply joins the history the next turn is given.
func session(passages []retrieval.Source, students []string, clock func(i int) Clock) []OfflineTurn {
	history := []llm.Message{{Role: llm.Assistant, Text: "Let's start with this week's readings. Which case or passage stayed with you, and why?"}}
	var out []OfflineTurn
	for i, s := range students {
		r := Offline(OfflineInput{Student: s, Passages: passages, History: history, Clock: clock(i)})
		out = append(out, r)
		history = append(history, llm.Message{Role: llm.User, Text: s}, llm.Message{Role: llm.Assistant, Text: r.Text})
	}
	return out
}

func noClock(int) Clock { return Clock{} }

// TestOfflineFollowsThePedagogy: over a session of turns on every corpus
// passage, each reply ends on exactly one question, has at most three
// sentences besides its quote, is under 60 words, quotes only a whole
// sentence that is in the passage, names the reading by title and page,
// and never makes the same move twice in a row.
func TestOfflineFollowsThePedagogy(t *testing.T) {
	passages, questions := corpusPassages(t)
	if len(passages) < 20 {
		t.Fatalf("%d passages", len(passages))
	}
	answers := []string{"I think it is about who gets to hold office.", "Because the framers feared abuse.", "I'm not sure.", "The court cared about intent."}
	for i, p := range passages {
		// A passage holding a whole sentence short enough to quote gets
		// quoted on the first turn.
		quotable := false
		for _, s := range sentences(CleanText(p.Content)) {
			if n := len(strings.Fields(s)); n >= minQuoteWords && n <= 25 && wholeSentence(s) {
				quotable = true
			}
		}
		var students []string
		for turn := range 8 {
			student := answers[turn%len(answers)]
			if turn%3 == 2 {
				student = questions[i] // a question, in the student's words
			}
			students = append(students, student)
		}
		var prev Move
		for turn, r := range session([]retrieval.Source{p}, students, noClock) {
			if turn == 0 && quotable && r.Quote == "" {
				t.Errorf("a quotable passage is not quoted: %q", p.Content)
			}
			if !strings.HasSuffix(r.Text, "?") || strings.Count(r.Text, "?")-strings.Count(r.Quote, "?") != 1 {
				t.Errorf("not exactly one question, at the end: %q", r.Text)
			}
			if n := sentencesOutsideQuote(r.Text); n > 3 {
				t.Errorf("%d sentences: %q", n, r.Text)
			}
			if n := len(strings.Fields(r.Text)); n >= 60 {
				t.Errorf("%d words: %q", n, r.Text)
			}
			if r.Move == prev {
				t.Errorf("the same move twice in a row: %s", r.Move)
			}
			prev = r.Move
			if r.Quote == "" {
				continue // every sentence said already: a question alone
			}
			if !strings.Contains(quoteKey(CleanText(p.Content)), quoteKey(r.Quote)) {
				t.Errorf("quote %q is not in the passage %q", r.Quote, p.Content)
			}
			if !wholeSentence(r.Quote) || strings.HasPrefix(r.Quote, "…") || strings.HasSuffix(r.Quote, "…") {
				t.Errorf("not a whole sentence: %q", r.Quote)
			}
			if want := "In " + ReadingTitle(p.Filename) + ", page " + itoa(p.Page) + ": “" + r.Quote + "”"; !strings.Contains(r.Text, want) {
				t.Errorf("reading not named by title and page (%q): %q", want, r.Text)
			}
		}
	}
}

// TestOfflineQuotesWithoutFootnoteMarks: a sentence carrying a footnote
// mark ("question.4") is quoted whole, without the mark, and the quote
// never ends mid-citation.
func TestOfflineQuotesWithoutFootnoteMarks(t *testing.T) {
	p := retrieval.Source{Filename: "goldberg-v-kelly.pdf", Page: 21, Content: "The Court had to decide a narrow\nquestion.4 Welfare recipients must be given an evidentiary hearing before their benefits are terminated.12 The State's interest in saving money does not outweigh it, see 397 U."}
	r := Offline(OfflineInput{Student: "Do welfare recipients get a hearing before benefits are terminated?", Passages: []retrieval.Source{p}})
	if r.Quote != "Welfare recipients must be given an evidentiary hearing before their benefits are terminated." {
		t.Errorf("quote %q", r.Quote)
	}
	if regexp.MustCompile(`[a-z][.,]\d`).MatchString(r.Text) {
		t.Errorf("a footnote mark is quoted: %q", r.Text)
	}
	if !strings.Contains(r.Text, "In Goldberg v. Kelly, page 21: “") {
		t.Errorf("reading not named: %q", r.Text)
	}
}

func TestReadingTitle(t *testing.T) {
	for in, want := range map[string]string{
		"casebook-gowder-14th-amendment-reader-procedural-due-process-excerpt.pdf": "Casebook Gowder 14th Amendment Reader Procedural Due Process",
		"scotus-trump-v-united-states-2024-slip-opinion.pdf":                       "Scotus Trump v. United States",
		"Mathews v. Eldridge.pdf":                                                  "Mathews v. Eldridge",
		"week_3_offer_and_acceptance.PDF":                                          "Week 3 Offer and Acceptance",
	} {
		if got := ReadingTitle(in); got != want {
			t.Errorf("ReadingTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

// mathews and others are passages of a due process week.
var (
	general  = retrieval.Source{Filename: "due-process-reader.pdf", Page: 10, Content: "Procedural due process asks what process is due before the government deprives someone of property. The answer depends on the interests at stake and the procedures already in place."}
	mathews  = retrieval.Source{Filename: "due-process-reader.pdf", Page: 24, Content: "In Mathews v. Eldridge, the Court weighed three factors to decide whether an evidentiary hearing was required before disability benefits were terminated. The private interest affected by the official action comes first. The Court held that the existing administrative procedures satisfied due process."}
	goldberg = retrieval.Source{Filename: "goldberg-v-kelly.pdf", Page: 21, Content: "Goldberg v. Kelly required a pre-termination evidentiary hearing for welfare recipients. Welfare provides the means to obtain essential food, clothing, housing, and medical care."}
)

// TestOfflineTakesUpTheCaseNamed: a student who names a case the passages
// hold (even one ranked below another, even in lower case) gets a quote
// from a passage naming it, and a question about it.
func TestOfflineTakesUpTheCaseNamed(t *testing.T) {
	for _, student := range []string{"What about Mathews v. Eldridge? I remember some balancing.", "i think mathews v eldridge is the key case", "Isn't Eldridge the case with the three factors"} {
		r := Offline(OfflineInput{Student: student, Passages: []retrieval.Source{general, goldberg, mathews}})
		if r.About != "Mathews v. Eldridge" || r.Source == nil || r.Source.Page != 24 {
			t.Errorf("%q: about %q, source %+v", student, r.About, r.Source)
			continue
		}
		if !strings.Contains(r.Quote, "Mathews v. Eldridge") || !strings.Contains(strings.TrimPrefix(r.Text, r.Quote), "Mathews v. Eldridge") {
			t.Errorf("%q: the turn is not about the case: %q", student, r.Text)
		}
	}
	// A case the passages do not hold is not made up.
	r := Offline(OfflineInput{Student: "What about Marbury v. Madison?", Passages: []retrieval.Source{general}})
	if strings.Contains(r.Text, "Marbury") || r.About != "" {
		t.Errorf("a case not in the reading: %q", r.Text)
	}
}

// TestOfflineTakesUpTheTermNamed: a doctrine the student names, found in
// the passage, is what the question turns on.
func TestOfflineTakesUpTheTermNamed(t *testing.T) {
	r := Offline(OfflineInput{Student: "I think procedural due process is about fairness.", Passages: []retrieval.Source{general}})
	if r.About != "procedural due process" || !strings.Contains(r.Text[strings.LastIndex(r.Text, "”"):], "procedural due process") {
		t.Errorf("about %q: %q", r.About, r.Text)
	}
}

// TestOfflineNeverRepeatsInASession: over twelve turns, no opener and no
// quote is said twice, as long as the passages have sentences left.
func TestOfflineNeverRepeatsInASession(t *testing.T) {
	passages, _ := corpusPassages(t)
	students := []string{"I think it's about fairness.", "I don't know.", "Just tell me the answer.", "Maybe the court wanted to protect people.", "I have none.",
		"What about Mathews v. Eldridge?", "I'm not sure.", "Because the rule is clear.", "Can you explain it?", "I guess the state has an interest too.", "No idea.", "The rule protects the individual."}
	rs := session(append([]retrieval.Source{general, mathews, goldberg}, passages[:6]...), students, noClock)
	openers, quotes := map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		o := opener(r.Text)
		if openers[o] {
			t.Errorf("opener %q twice: %q", o, r.Text)
		}
		openers[o] = true
		if r.Quote == "" {
			t.Errorf("no quote though sentences are left: %q", r.Text)
			continue
		}
		if quotes[quoteKey(r.Quote)] {
			t.Errorf("quote said twice: %q", r.Quote)
		}
		quotes[quoteKey(r.Quote)] = true
	}
}

// TestOfflineFollowsTheArc: early turns clarify, later ones test with
// hypotheticals and the other side, and in the last minute the tutor asks
// for the rule and its justification.
func TestOfflineFollowsTheArc(t *testing.T) {
	at := func(s int) Clock { return Clock{Elapsed: time.Duration(s) * time.Second, Limit: 5 * time.Minute} }
	students := []string{"It's about hearings.", "The government has to give notice.", "Because people rely on benefits.", "The state has to pay for hearings.", "It protects people.", "The cost matters too."}
	secs := []int{20, 60, 140, 200, 230, 265}
	rs := session([]retrieval.Source{general, mathews, goldberg}, students, func(i int) Clock { return at(secs[i]) })
	in := func(m Move, stage int) bool { return slices.Contains(arc[stage], m) }
	if !in(rs[0].Move, 0) || !in(rs[1].Move, 0) {
		t.Errorf("the opening turns do not clarify: %s, %s", rs[0].Move, rs[1].Move)
	}
	if !in(rs[3].Move, 2) || !in(rs[4].Move, 2) {
		t.Errorf("the later turns do not test: %s, %s", rs[3].Move, rs[4].Move)
	}
	last := rs[len(rs)-1]
	if last.Move != "wrap" || !strings.Contains(last.Text, "rule") || !strings.Contains(last.Text, "justification") {
		t.Errorf("the last minute does not wrap up: %s %q", last.Move, last.Text)
	}
	for _, r := range rs[:len(rs)-1] {
		if r.Move == "wrap" {
			t.Errorf("wrapped up before the last minute: %q", r.Text)
		}
	}
}

// TestOfflineStuckAndAsked: a student with nothing to add is offered two
// options, never asked what else supports their view; one who asks for
// the answer is pointed to the passage and asked a narrower question.
func TestOfflineStuckAndAsked(t *testing.T) {
	for _, s := range []string{"I have none.", "I don't know.", "Nothing else comes to mind.", "I'm not sure."} {
		r := Offline(OfflineInput{Student: s, Passages: []retrieval.Source{general, mathews}})
		q := r.Text[strings.LastIndex(r.Text, "”"):]
		if strings.Contains(r.Text, "supports") || !strings.Contains(q, ", or ") {
			t.Errorf("%q: %q", s, r.Text)
		}
	}
	for _, s := range []string{"Just tell me the answer.", "What did the court hold?", "Can you explain the three factors?"} {
		r := Offline(OfflineInput{Student: s, Passages: []retrieval.Source{general, mathews}})
		if r.Quote == "" || r.Move != "evidence" || !slices.Contains(narrowQuestions, lastQuestion(r.Text)) {
			t.Errorf("%q: %q", s, r.Text)
		}
	}
}

func TestWholeSentenceRefusesFragments(t *testing.T) {
	for _, s := range []string{
		"At least with respect to the 2 TRUMP v. UNITED STATES Syllabus President’s exercise of his core powers, this immunity must be absolute.",
		"Id. We concluded that New Jersey would restrict recovery to that available in contract.",
		"But relying on the maxim that a void judgment is a nullity, United Student Aid Funds, Inc. v. Espinosa, 559 U.",
		"The Court rejected the bitter with the sweet defense. people’s liberty to a large degree before a hearing.",
		"must be given an evidentiary hearing before termination.",
		"Is a hearing required before termination?",
	} {
		if wholeSentence(s) {
			t.Errorf("quotable: %q", s)
		}
	}
	for _, s := range []string{"Mr. Justice POWELL delivered the opinion of the Court.", "In Mathews v. Eldridge, the Court weighed three factors."} {
		if !wholeSentence(s) {
			t.Errorf("not quotable: %q", s)
		}
	}
}

func TestProperNames(t *testing.T) {
	for in, want := range map[string]string{
		"What did East River say about products?":   "East River",
		"I think the Court cared. Fairness matters": "",
		"i have no idea":                      "",
		"Is Goldberg different from Mathews?": "Goldberg Mathews",
	} {
		if got := properNames(in); got != want {
			t.Errorf("properNames(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOfflineWithoutPassagesStillAsks(t *testing.T) {
	var history []llm.Message
	seen := map[string]bool{}
	for _, s := range []string{"Tell me about celebrities.", "What is the answer?", "", "Who won the game?"} {
		r := Offline(OfflineInput{Student: s, History: history})
		if !strings.HasSuffix(r.Text, "?") || r.Quote != "" || strings.Contains(r.Text, "“") || seen[r.Text] {
			t.Errorf("%q: %+v", s, r)
		}
		seen[r.Text] = true
		history = append(history, llm.Message{Role: llm.User, Text: s}, llm.Message{Role: llm.Assistant, Text: r.Text})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkOffline is the offline tutor's own cost for one turn: five
// passages, a session of eight exchanges behind it, a case named.
func BenchmarkOffline(b *testing.B) {
	f, err := os.Open(testenv.QA())
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	var t testing.T
	passages, _ := corpusPassages(&t)
	in := OfflineInput{Student: "What about Mathews v. Eldridge? I think the hearing has to come first.", Passages: append([]retrieval.Source{mathews}, passages[:4]...),
		Clock: Clock{Elapsed: 2 * time.Minute, Limit: 5 * time.Minute}}
	for _, r := range session(in.Passages, []string{"It's about hearings.", "I don't know.", "Just tell me.", "Because benefits matter.", "I have none.", "The state pays.", "Maybe.", "Fairness."}, noClock) {
		in.History = append(in.History, llm.Message{Role: llm.User, Text: "a turn"}, llm.Message{Role: llm.Assistant, Text: r.Text})
	}
	for b.Loop() {
		Offline(in)
	}
}
