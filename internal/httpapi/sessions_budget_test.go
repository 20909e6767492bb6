package httpapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// TestCancelledTurnsCountAgainstBudget: a student who hangs up on the
// stream after the first delta has still cost the provider the prompt, so
// the turn moves their day's tokens (charged when it began, at the
// tutor's estimate), and a student who keeps doing it is refused (429,
// Retry-After to midnight) once STUDENT_DAILY_TOKEN_BUDGET is spent,
// though no answer was ever stored.
func TestCancelledTurnsCountAgainstBudget(t *testing.T) {
	const attempts = 20
	fake := llmtest.NewAnthropic(t)
	for range attempts {
		// A first delta, then nothing for longer than the test waits.
		held := llmtest.Text("Before the rule: ", "what exactly did the officer see?")
		for i, ev := range held.Events {
			if ev.Name == "content_block_delta" && strings.Contains(ev.Data, "what exactly") {
				held.Events[i].Delay = time.Minute
			}
		}
		fake.Push(held)
	}
	w := newSessionWorld(t, fakeClaude(t, fake), func(c *cfgT) {
		c.SessionMinTurnIntervalSeconds = 0
		c.StudentDailyTokenBudget = 20000
		c.RateLimitConversationsPerWeek = 100
	})
	id := w.startAs(t, "enrolled")
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	tokensUsed := func() int64 {
		var n int64
		if err := w.f.db.Read.QueryRow(`SELECT tokens_used FROM sessions WHERE id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	cancelled := 0
	for i := range attempts {
		ctx, cancel := context.WithCancel(context.Background())
		res, events := streamTurn(t, ctx, srv.URL, w.persona["enrolled"], id, messageBody(longMessage(i), ""))
		if res.StatusCode == 429 {
			body := readAll(t, res)
			cancel()
			loc, _ := time.LoadLocation(w.f.cfg.WeekTimezone)
			now := w.clock.Now().In(loc)
			midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
			if want := int((midnight.Sub(now) + time.Second - 1) / time.Second); retryAfter(response{header: res.Header}) != want {
				t.Errorf("refused with Retry-After %q, want %d: %s", res.Header.Get("Retry-After"), want, body)
			}
			break
		}
		if res.StatusCode != 200 {
			cancel()
			t.Fatalf("attempt %d: %d %s", i, res.StatusCode, readAll(t, res))
		}
		if ev, ok := events.next(); !ok || ev.name != "delta" {
			cancel()
			t.Fatalf("attempt %d: first event %v %v", i, ev, ok)
		}
		before := tokensUsed()
		cancel()
		res.Body.Close()
		w.waitUnanswered(t, id)
		cancelled++
		if i == 0 && before == 0 {
			t.Errorf("a turn the client hung up on left tokens_used at 0")
		}
		if after := tokensUsed(); after != before {
			t.Errorf("attempt %d: the charge moved from %d to %d when the client hung up; the provider read the prompt all the same", i, before, after)
		}
	}
	if cancelled == attempts {
		t.Fatalf("%d turns cancelled after the first delta and none refused; the budget is %d tokens", attempts, w.f.cfg.StudentDailyTokenBudget)
	}
	if cancelled == 0 {
		t.Fatalf("the first turn was refused")
	}
	if used := tokensUsed(); used < w.f.cfg.StudentDailyTokenBudget {
		t.Errorf("refused at %d tokens, under the budget of %d", used, w.f.cfg.StudentDailyTokenBudget)
	}
	if m := w.modelStats(t); m["tokens_today"] != float64(tokensUsed()) || m["turns_refused_budget"] != 1.0 {
		t.Errorf("stats %v; the session has used %d", m, tokensUsed())
	}
}

// waitUnanswered waits for the session's last student turn to be given up.
func (w *sessionWorld) waitUnanswered(t *testing.T, sessionID int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var state string
		w.f.db.Read.QueryRow(`SELECT state FROM turns WHERE session_id = ? AND role = 'user' ORDER BY id DESC LIMIT 1`, sessionID).Scan(&state)
		if state == "unanswered" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the student's turn is %q", state)
		}
	}
}
