package tutor

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

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

// TestOfflineFollowsThePedagogy: over a session of turns on every corpus
// passage, each reply ends on a question, has at most three sentences,
// quotes only text that is in the passage, cites its page, and never makes
// the same move twice in a row; a student's question is turned back.
func TestOfflineFollowsThePedagogy(t *testing.T) {
	passages, questions := corpusPassages(t)
	if len(passages) < 20 {
		t.Fatalf("%d passages", len(passages))
	}
	answers := []string{"I think it is about who gets to hold office.", "Because the framers feared abuse.", "I'm not sure.", "The court cared about intent."}
	for i, p := range passages {
		var prev Move
		for turn := range 12 {
			student := answers[turn%len(answers)]
			if turn%3 == 2 {
				student = questions[i] // a question, in the student's words
			}
			r := Offline(student, []retrieval.Source{p}, turn)
			if !strings.HasSuffix(r.Text, "?") {
				t.Errorf("does not end on a question: %q", r.Text)
			}
			if strings.Count(r.Text, "?")-strings.Count(r.Quote, "?") != 1 {
				t.Errorf("not exactly one question: %q", r.Text)
			}
			if n := sentencesOutsideQuote(r.Text); n > 3 {
				t.Errorf("%d sentences: %q", n, r.Text)
			}
			quote := strings.TrimPrefix(strings.TrimSuffix(r.Quote, " …"), "… ")
			if quote == "" || !strings.Contains(norm(p.Content), norm(quote)) || !strings.Contains(r.Text, "“"+r.Quote+"”") {
				t.Errorf("quote %q is not in the passage %q", r.Quote, p.Content)
			}
			if !strings.Contains(r.Text, "Page "+itoa(p.Page)+" of the reading") {
				t.Errorf("no page cited: %q", r.Text)
			}
			if r.Move == prev {
				t.Errorf("the same move twice in a row: %s", r.Move)
			}
			prev = r.Move
			if isQuestion(student) != strings.HasPrefix(r.Text, turnBack) {
				t.Errorf("student %q: reply %q", student, r.Text)
			}
			if len(strings.Fields(r.Text)) > maxReplyWords {
				t.Errorf("too long to say in 15 seconds (%d words): %q", len(strings.Fields(r.Text)), r.Text)
			}
		}
	}
}

func TestOfflineWithoutPassagesStillAsks(t *testing.T) {
	var prev Move
	for turn, s := range []string{"Tell me about celebrities.", "What is the answer?", "", "Who won the game?"} {
		r := Offline(s, nil, turn)
		if !strings.HasSuffix(r.Text, "?") || r.Quote != "" || strings.Contains(r.Text, "“") || r.Move == prev {
			t.Errorf("%q: %+v", s, r)
		}
		prev = r.Move
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
