package tutor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/llm"
)

func TestEstimateTokensErrsHigh(t *testing.T) {
	for _, c := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"abcd", 1},
		{"abcde", 2},
		{strings.Repeat("a", 4000), 1000},
		{"café", 1 + 1},            // three ASCII letters, one accented
		{"判例法", 3},                 // a token a character at least
		{"🙂🙂", 2},                  // four bytes each, one token each
		{"a\x00b\nc", (5 + 3) / 4}, // control characters are ASCII
	} {
		if got := EstimateTokens(c.text); got != c.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}

// exchange is a student turn and the tutor's answer.
func exchange(i, studentChars int) []llm.Message {
	s := fmt.Sprintf("student %d: ", i)
	return []llm.Message{
		{Role: llm.User, Text: s + strings.Repeat("x", max(studentChars-len(s), 0))},
		{Role: llm.Assistant, Text: fmt.Sprintf("tutor %d: why?", i)},
	}
}

func TestFitHistoryDropsOldestExchangesFirst(t *testing.T) {
	opening := []llm.Message{{Role: llm.User, Text: "(The session begins.)"}, {Role: llm.Assistant, Text: "Let's begin with consideration. What is it?"}}
	var long []llm.Message
	long = append(long, opening...)
	for i := range 20 {
		long = append(long, exchange(i, 4000)...)
	}
	for _, budget := range []int{200, 1100, 2500, 10_000, 100_000} {
		got := fitHistory(conversation(long), budget)
		if n := HistoryTokens(got); n > budget {
			t.Errorf("budget %d: %d tokens kept", budget, n)
		}
		if len(got)%2 != 0 || (len(got) > 0 && (got[0].Role != llm.User || got[len(got)-1].Role != llm.Assistant)) {
			t.Errorf("budget %d: the kept history does not alternate from the student to the tutor", budget)
		}
		if got[1].Text != opening[1].Text {
			t.Errorf("budget %d: the opening was dropped", budget)
		}
		// What is kept after the opening is the newest exchanges, in order.
		rest := got[2:]
		for j := 0; j < len(rest); j += 2 {
			want := 20 - len(rest)/2 + j/2
			if !strings.HasPrefix(rest[j].Text, fmt.Sprintf("student %d: ", want)) {
				t.Errorf("budget %d: kept %q at %d, want exchange %d", budget, rest[j].Text[:12], j, want)
			}
		}
		if budget >= 2500 && len(rest) < 2 {
			t.Errorf("budget %d keeps no recent exchange", budget)
		}
	}
	if got := fitHistory(conversation(long), 100_000); len(got) != len(long) {
		t.Errorf("a history within the budget was cut: %d of %d messages", len(got), len(long))
	}
	// An exchange bigger than the whole budget goes, even the newest.
	big := conversation(append(append([]llm.Message{}, opening...), exchange(0, 40_000)...))
	if got := fitHistory(big, 500); HistoryTokens(got) > 500 || len(got) != 2 {
		t.Errorf("a too-big exchange: kept %d messages, %d tokens", len(got), HistoryTokens(got))
	}
}
