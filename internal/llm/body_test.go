package llm

import (
	"math"
	"strings"
	"testing"
)

// TestAnthropicBodyIsTheSDKs: the request's JSON is byte for byte what the
// SDK's encoder makes of the same request — every field present or
// absent, texts that need escaping, odd numbers.
func TestAnthropicBodyIsTheSDKs(t *testing.T) {
	a, err := NewAnthropic(AnthropicOptions{APIKey: "k", Model: "claude-x", FastModel: "claude-fast", MaxTokens: 700})
	if err != nil {
		t.Fatal(err)
	}
	odd := "sys <a> & \"q\" \u2028\u2029 é \x00\x01\x1f\t\n\r \\ / bad \xff\xfe \xc3 😀 \U0010FFFF \ufffd"
	reqs := []Request{
		{},
		{Messages: []Message{{Role: User, Text: "hi"}}},
		{System: []Block{{Text: odd, Cache: true}, {Text: "two"}, {Text: ""}}, Messages: []Message{{Role: User, Text: odd}, {Role: Assistant, Text: "yo\n"}, {Role: "other", Text: ""}}, MaxTokens: 300, Temperature: 0.7, UserID: "u1"},
		{System: []Block{{Text: "a"}, {Text: "b", Cache: true}}, Messages: []Message{{Role: User, Text: strings.Repeat("long words ", 500)}}, MaxTokens: 5000, Fast: true},
		{Messages: []Message{{Role: User, Text: "x"}}, Temperature: 1, UserID: odd},
		{Messages: []Message{{Role: User, Text: "x"}}, Temperature: 0.1 + 0.2},
		{Messages: []Message{{Role: User, Text: "x"}}, Temperature: 1e-7},
		{Messages: []Message{{Role: User, Text: "x"}}, Temperature: 1e21},
		{Messages: []Message{{Role: User, Text: "x"}}, Temperature: -1, MaxTokens: -5},
		{Messages: []Message{{Role: User, Text: "x"}}, Deterministic: true},
	}
	for i, req := range reqs {
		want, err := a.params(req).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.body(req)
		if err != nil || string(got) != string(want) {
			t.Errorf("request %d:\n got %s (%v)\nwant %s", i, got, err, want)
		}
	}
	// A deterministic request says temperature 0 on the wire (the API's
	// default is 1).
	if got, err := a.body(Request{Messages: []Message{{Role: User, Text: "x"}}, Deterministic: true}); err != nil || !strings.Contains(string(got), `"temperature":0`) {
		t.Errorf("deterministic: %s %v", got, err)
	}
	// What JSON cannot hold fails, and the SDK's encoder is used instead.
	if _, err := a.body(Request{Temperature: math.Inf(1)}); err == nil {
		t.Errorf("an infinite temperature encoded")
	}
}
