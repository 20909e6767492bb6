package tutor

import "github.com/lawtutor/socratic/internal/llm"

// answerMaxTokens is the most a tutor answer may cost in output tokens
// (its request's max_tokens; LLM_MAX_TOKENS may cap it lower).
const answerMaxTokens = 300

// weekAllowance and passageAllowance stand for what a turn's prompt
// carries that is only known once the turn runs: the week's block (course,
// title, a few themes) and each retrieved passage (a default 1,000
// character chunk is about 250 tokens of English, plus its framing).
const (
	weekAllowance    = 200
	passageAllowance = 300
)

// Cost is what a turn may cost before it is answered, in estimated
// tokens: the answer's request (prompt and max_tokens), the moderation
// classifier's beside it, and the search query's rewrite if the tutor
// asks for one.
type Cost struct {
	Answer, Classifier, Rewrite int
}

// Total is the whole estimate.
func (c Cost) Total() int { return c.Answer + c.Classifier + c.Rewrite }

// Estimate is a high estimate of what a turn on student's words costs the
// provider: the rules, the week and the readings, a full history budget
// (0: DefaultHistoryBudget), the words themselves and the answer's
// max_tokens; and, with a classifier that shows its request, that request.
// It is what the student's day is charged when a turn begins, so a turn
// whose client goes away (or whose answer fails) still counts. The
// offline tutor costs nothing.
func (t *Tutor) Estimate(student string, historyBudget int) Cost {
	if t.model == nil {
		return Cost{}
	}
	if historyBudget <= 0 {
		historyBudget = DefaultHistoryBudget
	}
	req := Prompt(Week{}, nil, Clock{}, nil, student, "")
	req.MaxTokens = answerMaxTokens
	c := Cost{Answer: RequestTokens(req) + weekAllowance + passagesPerTurn*passageAllowance + historyBudget}
	if r, ok := t.classify.(interface {
		Request(text, userID string) llm.Request
	}); ok {
		c.Classifier = RequestTokens(r.Request(student, ""))
	}
	if t.rewrite != nil {
		// The tutor's question is not known here: a long one is allowed.
		c.Rewrite = RequestTokens(t.rewrite.Request(student, "", "")) + passageAllowance
	}
	return c
}

// RequestTokens is the estimated cost of req: its system blocks and
// messages as EstimateTokens counts them, and its max_tokens.
func RequestTokens(req llm.Request) int {
	n := req.MaxTokens + HistoryTokens(req.Messages)
	for _, b := range req.System {
		n += EstimateTokens(b.Text) + messageOverhead
	}
	return n
}
