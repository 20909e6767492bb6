package tutor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// TestClassifierFirstOnAOneAtATimeServer: a local OpenAI-compatible server
// that runs one request at a time (llama.cpp with one slot, Ollama with
// OLLAMA_NUM_PARALLEL=1), wired as serve wires it (the classifier on the
// same model). Its answer takes about 2 s, more than the verdict's wait:
// had the classifier's request gone behind the answer's, the verdict
// would come after the whole answer, too late, and a safe question would
// get "say it again". It goes first, and the student gets the answer.
// (Found by review: the classifier was first asked after the answer's
// request on every provider.)
func TestClassifierFirstOnAOneAtATimeServer(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	var words []string
	for i := range 10 {
		words = append(words, fmt.Sprintf("Word%d ", i))
	}
	words = append(words, "why?")
	// Replies go by arrival: the classifier's verdict to the first
	// request, the answer to the second. The wrong order fails too.
	fake := llmtest.NewOpenAIChat(t,
		llmtest.ChatReply{Deltas: []string{`{"safe": true, "categories": [], "explanation": "a question about contract law"}`}, FirstDelay: 100 * time.Millisecond},
		llmtest.ChatReply{Deltas: words, FirstDelay: 200 * time.Millisecond, Gap: 200 * time.Millisecond})
	fake.OneAtATime = true
	model, err := llm.NewOpenAI(llm.OpenAIOptions{BaseURL: fake.URL, Model: "local"})
	if err != nil {
		t.Fatal(err)
	}
	if llm.Parallel(model) {
		t.Fatal("an OpenAI-compatible server is taken to answer in parallel")
	}
	tu := New(retrieval.NewSearcher(nil, 0, nil), model) // serve's wiring: the classifier on the same model
	reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(reply)
	var order []string
	for _, r := range fake.Requests() {
		kind := "answer"
		if b, _ := r.Body["messages"].([]any); strings.Contains(fmt.Sprint(b), "content filter") {
			kind = "classifier"
		}
		order = append(order, kind)
	}
	if want := strings.Join(words, ""); err != nil || text != want || reply.Verdict.Flagged {
		t.Fatalf("a safe question on a one-at-a-time server got %q, %v (verdict %+v; the server took %v), want the answer %q", text, err, *reply.Verdict, order, want)
	}
	if len(order) != 2 || order[0] != "classifier" {
		t.Fatalf("the server took %v; want the classifier first", order)
	}
}
