package llm

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/option"
)

// TestAnthropicBodyIsTheSDKs: the request's JSON is byte for byte what the
// SDK sends for the same request streamed (its encoder, then "stream" set
// by option.WithJSONSet, the request as it reaches the server) — every
// field present or absent, texts that need escaping, odd numbers.
func TestAnthropicBodyIsTheSDKs(t *testing.T) {
	var sent []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
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
		var raw *http.Response
		sent = nil
		if err := a.client.Post(context.Background(), "v1/messages", a.params(req), &raw, append(streamSet, option.WithBaseURL(srv.URL))...); err != nil {
			t.Fatal(err)
		}
		raw.Body.Close()
		want := sent
		if !strings.HasSuffix(string(want), `,"stream":true}`) {
			t.Fatalf("request %d: the SDK sent %s", i, want)
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
