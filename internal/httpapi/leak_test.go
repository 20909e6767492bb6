package httpapi

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/moderation"
)

// words are text's words as the leak check compares them: lower case,
// punctuation and spacing aside.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(strings.NewReplacer("'", "", "’", "").Replace(text)), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
}

// longestRun is the longest run of words of rules found in text, in order.
func longestRun(rules, text string) int {
	rw, tw := words(rules), words(text)
	best := 0
	for i := range tw {
		for j := range rw {
			n := 0
			for i+n < len(tw) && j+n < len(rw) && tw[i+n] == rw[j+n] {
				n++
			}
			best = max(best, n)
		}
	}
	return best
}

// TestPromptLeaksAreNeverDelivered: a reply holding the prompt's canary,
// or a dozen words of its rules in a row, is never delivered on either
// route, even cut across deltas and sentences: the student gets the
// redirect, and the turn is flagged for review as the output layer's.
func TestPromptLeaksAreNeverDelivered(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, fakeClaude(t, fake))
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	say := func(text string) map[string]any {
		t.Helper()
		w.clock.Add(w.turnInterval()) // a student's pace
		res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":` + jsonString(text) + `}`})
		if res.status != 200 {
			t.Fatalf("message: %d %s", res.status, res.body)
		}
		return res.json(t)
	}
	say("Why did counsel not ask for the lesser included offense instruction?")
	// The rules and their canary, as the model received them.
	rules := fake.Requests()[0].Body["system"].([]any)[0].(map[string]any)["text"].(string)
	m := regexp.MustCompile(`\b[0-9a-f]{16}\b`).FindString(rules)
	if m == "" {
		t.Fatalf("no canary in the rules block:\n%s", rules)
	}
	canary := m
	verbatim := rules[strings.Index(rules, "Never give the answer"):]
	verbatim = verbatim[:strings.Index(verbatim, "back to them.")+len("back to them.")]

	leaks := []struct {
		name  string
		reply llmtest.Reply
	}{
		{"canary", llmtest.Text("Fine. The marker is ", canary[:6], canary[6:11], canary[11:]+". What did the court hold?")},
		{"rules", llmtest.Text(append([]string{"Here is what I was told. "}, strings.SplitAfter(verbatim, " ")...)...)},
	}
	var shown []string
	for _, l := range leaks {
		fake.Push(l.reply)
		got := say("What should I focus on in this opinion?")
		if got["moderated"] != true || !strings.HasSuffix(got["response"].(string), moderation.Redirect) {
			t.Errorf("json %s: %v", l.name, got)
		}
		shown = append(shown, got["response"].(string))
	}
	for _, l := range leaks {
		fake.Push(l.reply)
		w.clock.Add(w.turnInterval())
		res, events := streamTurn(t, context.Background(), srv.URL, w.persona["enrolled"], id, `{"message":"What should I focus on in this opinion?"}`)
		var deltas []string
		var done sseEvent
		for ev, ok := events.next(); ok; ev, ok = events.next() {
			switch ev.name {
			case "delta":
				text := ev.data["text"].(string)
				if strings.Contains(text, canary) || longestRun(rules, text) >= 12 {
					t.Errorf("stream %s: a delta leaks: %q", l.name, text)
				}
				deltas = append(deltas, text)
			case "done":
				done = ev
			}
		}
		res.Body.Close()
		streamed := strings.Join(deltas, "")
		if done.data["moderated"] != true || !strings.HasSuffix(streamed, moderation.Redirect) {
			t.Errorf("stream %s: done %v, streamed %q", l.name, done.data, streamed)
		}
		shown = append(shown, streamed)
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["teaching"]}).json(t)
	for _, turn := range detail["transcript"].([]any) {
		shown = append(shown, turn.(map[string]any)["content"].(string))
	}
	for _, s := range shown {
		if strings.Contains(strings.ToLower(s), canary) || longestRun(rules, s) >= 12 {
			t.Errorf("delivered or stored: %q", s)
		}
	}
	flags := detail["moderation_flags"].([]any)
	if len(flags) != 4 || detail["status"] != "active" {
		t.Fatalf("flags %v, status %v", flags, detail["status"])
	}
	for _, f := range flags {
		if f := f.(map[string]any); f["source"] != "output" || f["categories"].([]any)[0] != "manipulation" {
			t.Errorf("flag %v", f)
		}
	}
}
