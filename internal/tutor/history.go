package tutor

import (
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/llm"
)

// DefaultHistoryBudget is the history's share of a prompt, in estimated
// tokens, when none is configured (LLM_HISTORY_TOKEN_BUDGET): a whole
// five-minute spoken session (forty short exchanges) fits, a session of
// 4,000-character messages keeps its last few.
const DefaultHistoryBudget = 4000

// messageOverhead is what a message costs beyond its text (role and
// framing tokens), rounded up.
const messageOverhead = 4

// EstimateTokens is a cheap, deliberately high estimate of the tokens s
// costs: a token per four ASCII characters (English prose runs at about
// 4.5 characters a token on Claude's and OpenAI's tokenizers, so this errs
// high), rounded up, and a whole token for every other character (accented
// letters, CJK, emoji cost a token or more each in those tokenizers,
// where counting bytes/4 would count them low).
func EstimateTokens(s string) int {
	ascii, other := 0, 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			ascii++
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		other++
		i += n
	}
	return (ascii+3)/4 + other
}

// HistoryTokens is the estimated size of msgs as sent: each message's text
// and its framing.
func HistoryTokens(msgs []llm.Message) int {
	n := 0
	for _, m := range msgs {
		n += EstimateTokens(m.Text) + messageOverhead
	}
	return n
}

// fitHistory keeps a conversation (as conversation() shapes it: starting
// with the student, alternating, ending with the tutor) within budget
// estimated tokens, by dropping whole exchanges — a student's turn and the
// tutor's answer, so the roles still alternate — oldest first. The first
// exchange, which holds the tutor's opening question (what the session is
// about), is kept when it fits the budget by itself; the newest exchanges
// fill what is left. What is sent never exceeds the budget, even if that
// leaves nothing: the rules and the readings are in the system prompt and
// always go.
func fitHistory(msgs []llm.Message, budget int) []llm.Message {
	if budget <= 0 {
		budget = DefaultHistoryBudget
	}
	if HistoryTokens(msgs) <= budget {
		return msgs
	}
	n := len(msgs) / 2
	cost := func(i int) int { return HistoryTokens(msgs[2*i : 2*i+2]) }
	used, keepFirst := 0, false
	if n > 0 && cost(0) <= budget {
		used, keepFirst = cost(0), true
	}
	from := n // the oldest exchange kept after the first
	for from > 1 && used+cost(from-1) <= budget {
		used += cost(from - 1)
		from--
	}
	out := make([]llm.Message, 0, 2*(n-from+1))
	if keepFirst {
		out = append(out, msgs[0], msgs[1])
	}
	out = append(out, msgs[2*from:]...)
	// A shape conversation() never makes (an odd message out) must not
	// slip past the budget either.
	for len(out) > 0 && HistoryTokens(out) > budget {
		out = out[min(2, len(out)):]
	}
	return out
}
