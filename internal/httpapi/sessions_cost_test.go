package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// longMessage is a student message of exactly session.MaxMessageLen
// characters of on-topic prose (the local rules let it through), with n
// at the front so no two are alike.
func longMessage(n int) string {
	s := fmt.Sprintf("(%d) ", n) + strings.Repeat("The officer's search of the house was reasonable because the exigency was real. ", 60)
	return s[:4000]
}

func messageBody(text, clientMsgID string) string {
	b := `{"message":` + jsonString(text)
	if clientMsgID != "" {
		b += `,"client_msg_id":` + jsonString(clientMsgID)
	}
	return b + `}`
}

// retryAfter is the Retry-After header in whole seconds; 0 when absent or
// not a positive number.
func retryAfter(res response) int {
	n, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// turnInterval is SESSION_MIN_TURN_INTERVAL_SECONDS: tests that send
// several messages move the clock by it between them, as a student's pace.
func (w *sessionWorld) turnInterval() time.Duration {
	return time.Duration(w.f.cfg.SessionMinTurnIntervalSeconds) * time.Second
}

func (w *sessionWorld) studentTurns(t *testing.T, sessionID int64) int {
	t.Helper()
	var n int
	if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ? AND role = 'user'`, sessionID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (w *sessionWorld) modelStats(t *testing.T) map[string]any {
	t.Helper()
	res := w.f.do(request{method: "GET", path: "/api/admin/stats", token: w.persona["admin"]})
	if res.status != 200 {
		t.Fatalf("stats: %d %s", res.status, res.body)
	}
	m, ok := res.json(t)["model"].(map[string]any)
	if !ok {
		t.Fatalf("stats without model figures: %s", res.body)
	}
	return m
}

// TestRapidTurnsAreRefused: the attack of issue 14 — 4,000-character
// messages in a tight loop — lands at most SESSION_MAX_TURNS turns; the
// rest are 429 with Retry-After (too soon) or 409 (the session is full),
// and the 301st is refused. The loop runs at two messages a second of the
// session's clock, so only the pace and the cap can stop it: the
// five-minute clock does not run out.
func TestRapidTurnsAreRefused(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	path := "/api/sessions/" + itoa(id) + "/message"
	landed, tooSoon, full := 0, 0, 0
	var last response
	for i := range 301 {
		last = w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: messageBody(longMessage(i), "")})
		switch last.status {
		case 200:
			landed++
		case 429:
			tooSoon++
			if ra := retryAfter(last); ra < 1 || ra > w.f.cfg.SessionMinTurnIntervalSeconds {
				t.Fatalf("turn %d: 429 with Retry-After %q", i, last.header.Get("Retry-After"))
			}
			assertProblem(t, last)
		case 409:
			full++
			assertProblem(t, last)
			if d := last.json(t)["detail"].(string); !strings.Contains(d, "40 messages") {
				t.Fatalf("turn %d: 409 %s", i, last.body)
			}
		default:
			t.Fatalf("turn %d: %d %s", i, last.status, last.body)
		}
		w.clock.Add(500 * time.Millisecond)
	}
	if last.status == 200 {
		t.Errorf("the 301st rapid turn was answered")
	}
	if landed > w.f.cfg.SessionMaxTurns || w.studentTurns(t, id) > w.f.cfg.SessionMaxTurns {
		t.Errorf("%d turns answered, %d stored; at most %d may land", landed, w.studentTurns(t, id), w.f.cfg.SessionMaxTurns)
	}
	if tooSoon == 0 || full == 0 {
		t.Errorf("refusals: %d too soon, %d past the cap; want both", tooSoon, full)
	}
	m := w.modelStats(t)
	if m["turns_refused_rate"] != float64(tooSoon) || m["turns_refused_max_turns"] != float64(full) {
		t.Errorf("stats %v; refused %d too soon, %d full", m, tooSoon, full)
	}
}

// TestTurnPaceHoldsUnderConcurrencyAndSparesReplays: twenty copies of a
// message sent at once land one turn; repeating the answered message's
// client_msg_id at once replays it (no 429); the stream route refuses a
// message too soon before the stream opens, as problem+json.
func TestTurnPaceHoldsUnderConcurrencyAndSparesReplays(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	path := "/api/sessions/" + itoa(id) + "/message"
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			statuses[i] = w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: messageBody(fmt.Sprintf("Was search %d reasonable?", i), "")}).status
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409, 429: // still answering the first; too soon after it
		default:
			t.Errorf("burst: status %d", s)
		}
	}
	if ok != 1 || w.studentTurns(t, id) != 1 {
		t.Errorf("a burst of 20 landed %d answers, %d stored turns; want 1", ok, w.studentTurns(t, id))
	}

	w.clock.Add(3 * time.Second)
	first := w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: messageBody("What did the officer see?", "c-1")})
	if first.status != 200 {
		t.Fatalf("message: %d %s", first.status, first.body)
	}
	again := w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: messageBody("What did the officer see?", "c-1")})
	if again.status != 200 || again.json(t)["response"] != first.json(t)["response"] {
		t.Errorf("a replayed client_msg_id: %d %s", again.status, again.body)
	}
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	res, _ := streamTurn(t, context.Background(), srv.URL, w.persona["enrolled"], id, messageBody("And then?", "c-2"))
	body := readAll(t, res)
	if res.StatusCode != 429 || res.Header.Get("Content-Type") != "application/problem+json" || retryAfter(response{header: res.Header}) == 0 {
		t.Errorf("stream too soon: %d %s %q %s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Retry-After"), body)
	}
	if n := w.studentTurns(t, id); n != 2 {
		t.Errorf("%d student turns stored, want 2 (the burst's and c-1)", n)
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestModelGetsBoundedRequests: in a long session of 4,000-character
// messages, no request the model receives carries more history than
// LLM_HISTORY_TOKEN_BUDGET (checked in characters: the estimate counts at
// least a token per four), the student's new message always goes whole,
// the opening question stays, and every request carries max_tokens within
// LLM_MAX_TOKENS.
func TestModelGetsBoundedRequests(t *testing.T) {
	const budget, maxTokens = 2500, 120
	fake := llmtest.NewAnthropic(t)
	cfg := func(c *cfgT) {
		c.SessionMinTurnIntervalSeconds = 0
		c.LLMHistoryTokenBudget = budget
		c.LLMMaxTokens = maxTokens
	}
	p, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m", MaxTokens: maxTokens})
	if err != nil {
		t.Fatal(err)
	}
	w := newSessionWorld(t, p, cfg)
	id := w.startAs(t, "enrolled")
	var opening string
	w.f.db.Read.QueryRow(`SELECT content FROM turns WHERE session_id = ? ORDER BY id LIMIT 1`, id).Scan(&opening)
	const turns = 30
	for i := range turns {
		res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: messageBody(longMessage(i), "")})
		if res.status != 200 {
			t.Fatalf("turn %d: %d %s", i, res.status, res.body)
		}
	}
	reqs := fake.Requests()
	if len(reqs) != turns {
		t.Fatalf("the model got %d requests, want %d", len(reqs), turns)
	}
	for i, r := range reqs {
		if mt, ok := r.Body["max_tokens"].(float64); !ok || mt < 1 || mt > maxTokens {
			t.Errorf("request %d: max_tokens %v, want 1..%d", i, r.Body["max_tokens"], maxTokens)
		}
		msgs, _ := r.Body["messages"].([]any)
		if len(msgs) == 0 {
			t.Fatalf("request %d has no messages", i)
		}
		historyChars := 0
		history := ""
		for _, m := range msgs[:len(msgs)-1] {
			text := messageText(t, m)
			historyChars += len(text)
			history += text
		}
		if historyChars > 4*budget {
			t.Errorf("request %d: %d messages, %d characters of history; the budget is %d tokens (%d characters)", i, len(msgs), historyChars, budget, 4*budget)
		}
		if got := messageText(t, msgs[len(msgs)-1]); got != longMessage(i) {
			t.Errorf("request %d: the student's message was not sent whole (%d characters)", i, len(got))
		}
		if i > 0 && !strings.Contains(history, opening) {
			t.Errorf("request %d: the opening question was dropped", i)
		}
		if i > 0 && !strings.Contains(history, longMessage(i-1)) {
			t.Errorf("request %d: the last exchange was dropped", i)
		}
	}
}

// messageText is the text of one message of a recorded Messages API
// request (content as an array of text blocks, as the SDK sends it).
func messageText(t *testing.T, m any) string {
	t.Helper()
	blocks, _ := m.(map[string]any)["content"].([]any)
	var b strings.Builder
	for _, bl := range blocks {
		text, _ := bl.(map[string]any)["text"].(string)
		b.WriteString(text)
	}
	return b.String()
}

// TestDailyTokenBudget: once a student's answers today have cost
// STUDENT_DAILY_TOKEN_BUDGET (the fake reports 3,021 tokens an answer),
// the next message and the next start are 429 with Retry-After until
// midnight in WEEK_TIMEZONE, and nothing is stored; after midnight the
// student talks again. The admin's figures count the tokens.
func TestDailyTokenBudget(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, fakeClaude(t, fake), func(c *cfgT) {
		c.SessionMinTurnIntervalSeconds = 0
		c.StudentDailyTokenBudget = 5000
		c.RateLimitConversationsPerWeek = 100
	})
	id := w.startAs(t, "enrolled")
	say := func(sessionID int64, text string) response {
		return w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(sessionID) + "/message", token: w.persona["enrolled"], body: messageBody(text, "")})
	}
	for i := range 2 {
		if res := say(id, fmt.Sprintf("Was search %d reasonable?", i)); res.status != 200 {
			t.Fatalf("turn %d: %d %s", i, res.status, res.body)
		}
	}
	before := w.f.sessionState()
	res := say(id, "And the third?")
	loc, _ := time.LoadLocation(w.f.cfg.WeekTimezone)
	now := w.clock.Now().In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, loc)
	wantWait := int((midnight.Sub(now) + time.Second - 1) / time.Second)
	if res.status != 429 || retryAfter(res) != wantWait {
		t.Fatalf("past the budget: %d Retry-After %q (want %d) %s", res.status, res.header.Get("Retry-After"), wantWait, res.body)
	}
	assertProblem(t, res)
	if d := res.json(t)["detail"].(string); !strings.Contains(d, "allowance") || !strings.Contains(d, "midnight") {
		t.Errorf("detail %q", d)
	}
	start := w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.persona["enrolled"], body: `{"week_id":` + itoa(w.week.ID) + `}`})
	if start.status != 429 || retryAfter(start) != wantWait {
		t.Errorf("start past the budget: %d %q %s", start.status, start.header.Get("Retry-After"), start.body)
	}
	if w.f.sessionState() != before {
		t.Errorf("a refused turn or start changed sessions or turns")
	}
	m := w.modelStats(t)
	if m["tokens_today"] != 2*3021.0 || m["tokens_total"] != 2*3021.0 || m["turns_refused_budget"] != 2.0 {
		t.Errorf("stats %v", m)
	}
	// The classmate's day is their own.
	other := w.startAs(t, "classmate")
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(other) + "/message", token: w.persona["classmate"], body: messageBody("Was it reasonable?", "")}); res.status != 200 {
		t.Errorf("the classmate: %d %s", res.status, res.body)
	}

	w.clock.Add(time.Duration(wantWait) * time.Second)
	next := w.startAs(t, "enrolled")
	if res := say(next, "A new day: was the search reasonable?"); res.status != 200 {
		t.Errorf("after midnight: %d %s", res.status, res.body)
	}
}

// TestModelConcurrencyCap: with LLM_MAX_CONCURRENT=1 and the model busy
// with one student's turn (the fake holds it open), another student's
// message is 503 with Retry-After at once — on the JSON and the stream
// route, before any stream opens — and nothing of it is stored; once the
// first turn ends, the second student is answered.
func TestModelConcurrencyCap(t *testing.T) {
	held := llmtest.Reply{Events: llmtest.Text("Hold on").Events[:3]} // no message_stop: open until the client goes
	fake := llmtest.NewAnthropic(t, held)
	w := newSessionWorld(t, llm.NewLimiter(fakeClaude(t, fake), 1, 0), func(c *cfgT) { c.LLMMaxConcurrent = 1 })
	first := w.startAs(t, "enrolled")
	second := w.startAs(t, "classmate")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		r := httptest.NewRequest("POST", "/api/sessions/"+itoa(first)+"/message", strings.NewReader(messageBody("Was the search reasonable?", ""))).WithContext(ctx)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+w.persona["enrolled"])
		rec := httptest.NewRecorder()
		w.f.srv.Handler().ServeHTTP(rec, r)
		done <- rec.Code
	}()
	for deadline := time.Now().Add(30 * time.Second); len(fake.Requests()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first turn never reached the model")
		}
	}

	before := w.studentTurns(t, second)
	res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(second) + "/message", token: w.persona["classmate"], body: messageBody("Was it reasonable?", "")})
	if res.status != 503 || retryAfter(res) == 0 {
		t.Fatalf("while the model is full: %d %q %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	assertProblem(t, res)
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	sres, _ := streamTurn(t, context.Background(), srv.URL, w.persona["classmate"], second, messageBody("Was it reasonable?", "s-1"))
	body := readAll(t, sres)
	if sres.StatusCode != 503 || sres.Header.Get("Content-Type") != "application/problem+json" || sres.Header.Get("Retry-After") == "" {
		t.Errorf("stream while the model is full: %d %s %s", sres.StatusCode, sres.Header.Get("Content-Type"), body)
	}
	if n := w.studentTurns(t, second); n != before {
		t.Errorf("refused turns were stored: %d student turns, before %d", n, before)
	}
	m := w.modelStats(t)
	if m["calls_in_flight"] != 1.0 || m["max_concurrent"] != 1.0 || m["refused_busy"] != 2.0 {
		t.Errorf("stats while full: %v", m)
	}

	cancel()
	<-done
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(second) + "/message", token: w.persona["classmate"], body: messageBody("Was it reasonable?", "")}); res.status != 200 {
		t.Errorf("after the first turn ended: %d %s", res.status, res.body)
	}
	if m := w.modelStats(t); m["calls_in_flight"] != 0.0 {
		t.Errorf("a slot was not given back: %v", m)
	}
}
