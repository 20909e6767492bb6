package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/voice"
	"github.com/openai/openai-go/v3"
	oaopt "github.com/openai/openai-go/v3/option"
)

const testLLMSecret = "llm-secret-0123456789"

// voiceToken is the session token start hands out: the session id and
// its expiry, signed under the key derived from SECRET_KEY.
func (w *sessionWorld) voiceToken(t testing.TB, id int64) string {
	t.Helper()
	return voice.SessionToken(voice.SessionTokenKey(w.f.cfg.SecretKey), id, w.expiresAt(t, id))
}

func (w *sessionWorld) expiresAt(t testing.TB, id int64) time.Time {
	t.Helper()
	var s string
	if err := w.f.db.Read.QueryRow(`SELECT expires_at FROM sessions WHERE id = ?`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	at, err := sqlite.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// sdkTransport checks each answer the SDK reads against /openapi.json.
type sdkTransport struct {
	t    testing.TB
	base string
}

func (tr sdkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		checkStreamedResponse(tr.t, tr.base, r.Method, r.URL.Path, res)
	}
	return res, err
}

// voiceClient is the official OpenAI SDK pointed at the custom LLM, as the
// platform calls it: base URL + /chat/completions, the platform's secret
// as the API key.
func voiceClient(t testing.TB, base, path string) openai.Client {
	return openai.NewClient(oaopt.WithBaseURL(base+path), oaopt.WithAPIKey(testLLMSecret), oaopt.WithMaxRetries(0),
		oaopt.WithHTTPClient(&http.Client{Transport: sdkTransport{t: t, base: base}}))
}

// conversation is what the platform sends: its prompt, the first message,
// then the student's utterances and the tutor's answers in turn.
func conversation(said ...string) []openai.ChatCompletionMessageParamUnion {
	msgs := []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage("You are the course's Socratic tutor."),
		openai.AssistantMessage("Let's explore this week's readings."),
	}
	for i, s := range said {
		if i%2 == 0 {
			msgs = append(msgs, openai.UserMessage(s))
		} else {
			msgs = append(msgs, openai.AssistantMessage(s))
		}
	}
	return msgs
}

func withLLMSecret(c *cfgT) { c.ElevenLabsLLMSecret = testLLMSecret }

// TestVoiceLLMAnswersTheSDK: the official OpenAI SDK, with the session
// token in the extra body, streams the tutor's answer and parses it; the
// turn is in the session's transcript with its sources, at both paths.
func TestVoiceLLMAnswersTheSDK(t *testing.T) {
	fake := llmtest.NewAnthropic(t, llmtest.Text("Before the rule: ", "what exactly did the officer see?"), llmtest.Text("And then?"))
	w := newSessionWorld(t, fakeClaude(t, fake), withLLMSecret)
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	token := w.voiceToken(t, id)
	client := voiceClient(t, srv.URL, "/api/voice/llm/v1/")
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    "socratic",
		Messages: conversation("The officer saw two men flee the car."),
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name: "end_call", Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"reason": map[string]any{"type": "string"}}}})},
	}, oaopt.WithJSONSet("elevenlabs_extra_body", map[string]any{"session_token": token}))
	var acc openai.ChatCompletionAccumulator
	var chunks []openai.ChatCompletionChunk
	for stream.Next() {
		chunks = append(chunks, stream.Current())
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if len(chunks) < 3 || chunks[0].Choices[0].Delta.Role != "assistant" || chunks[0].Object != "chat.completion.chunk" {
		t.Fatalf("chunks %+v", chunks)
	}
	const answer = "Before the rule: what exactly did the officer see?"
	if got := acc.Choices[0].Message.Content; got != answer || acc.Choices[0].FinishReason != "stop" || len(acc.Choices[0].Message.ToolCalls) != 0 {
		t.Errorf("the SDK read %q (finish %q, tools %v)", got, acc.Choices[0].FinishReason, acc.Choices[0].Message.ToolCalls)
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	tr := detail["transcript"].([]any)
	if len(tr) != 3 || tr[1].(map[string]any)["content"] != "The officer saw two men flee the car." || tr[2].(map[string]any)["content"] != answer {
		t.Fatalf("transcript %v", tr)
	}
	src := tr[2].(map[string]any)["sources"].([]any)
	if len(src) == 0 || src[0].(map[string]any)["filename"] != "lopez-v-thurmer.pdf" {
		t.Errorf("sources %v", src)
	}

	// The other path, not streamed: one chat.completion.
	w.clock.Add(3 * time.Second)
	client = voiceClient(t, srv.URL, "/api/voice/llm/")
	c, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "socratic", Messages: conversation("The officer saw two men flee the car.", answer, "They ran from the car."),
	}, oaopt.WithJSONSet("elevenlabs_extra_body", map[string]any{"session_token": token}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != "chat.completion" || c.Choices[0].Message.Content != "And then?" || c.Choices[0].FinishReason != "stop" {
		t.Errorf("completion %+v", c)
	}
	if n := countTurns(t, w, id, "user"); n != 2 {
		t.Errorf("%d student turns after two utterances", n)
	}
}

func countTurns(t testing.TB, w *sessionWorld, id int64, role string) int {
	t.Helper()
	var n int
	if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ? AND role = ?`, id, role).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// chatBody is a platform request with token in the extra body ("" leaves
// the extra body out).
func chatBody(token string, stream bool, said ...string) string {
	msgs := []map[string]any{{"role": "system", "content": "You are the tutor."}, {"role": "assistant", "content": "Hello."}}
	for i, s := range said {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, map[string]any{"role": role, "content": s})
	}
	b := map[string]any{"model": "tutor", "messages": msgs, "stream": stream, "temperature": 0.5, "max_tokens": 5000}
	if token != "" {
		b["elevenlabs_extra_body"] = map[string]any{"session_token": token}
	}
	out, _ := json.Marshal(b)
	return string(out)
}

// TestVoiceLLMRefusesWithoutAnOpenSession: a missing, wrong, expired,
// forged or other session's token, an ended session, and a missing or
// wrong platform secret are 401 in problem+json; nothing is stored and
// the model is never called.
func TestVoiceLLMRefusesWithoutAnOpenSession(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, fakeClaude(t, fake), withLLMSecret)
	id := w.startAs(t, "enrolled")
	ended := w.startAs(t, "classmate")
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(ended) + "/end", token: w.persona["classmate"]}); res.status != 200 {
		t.Fatalf("end: %d %s", res.status, res.body)
	}
	key := voice.SessionTokenKey(w.f.cfg.SecretKey)
	exp := w.expiresAt(t, id)
	good := w.voiceToken(t, id)
	before := w.f.sessionState()
	platform := map[string]string{"Authorization": "Bearer " + testLLMSecret}
	for _, c := range []struct {
		name, token string
		header      map[string]string
	}{
		{"no token", "", platform},
		{"garbage", "not-a-token", platform},
		{"forged with another key", voice.SessionToken(voice.SessionTokenKey("another secret key, at least 32 bytes long"), id, exp), platform},
		{"edited", good[:len(good)-2] + "AA", platform},
		{"another session's expiry (a reused id)", voice.SessionToken(key, id, exp.Add(time.Hour)), platform},
		{"a session that does not exist", voice.SessionToken(key, 999999, exp), platform},
		{"an ended session", w.voiceToken(t, ended), platform},
		{"no platform secret", good, nil},
		{"a wrong platform secret", good, map[string]string{"Authorization": "Bearer " + testLLMSecret + "x"}},
	} {
		res := w.f.do(request{method: "POST", path: "/api/voice/llm/chat/completions", body: chatBody(c.token, true, "The officer saw two men flee."), header: c.header})
		if res.status != 401 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") || res.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s %s", c.name, res.status, res.header.Get("Content-Type"), res.body)
		}
		if strings.Contains(string(res.body), testLLMSecret) || (c.token != "" && strings.Contains(string(res.body), c.token)) {
			t.Errorf("%s: the answer repeats a secret: %s", c.name, res.body)
		}
	}
	// Long past its clock (beyond the goodbye's window) the token has
	// expired.
	w.clock.Add(w.svc.MaxDuration() + wrapUpWindow + time.Second)
	res := w.f.do(request{method: "POST", path: "/api/voice/llm/chat/completions", body: chatBody(good, true, "Hello?"), header: platform})
	if res.status != 401 {
		t.Errorf("expired: %d %s", res.status, res.body)
	}
	if after := w.f.sessionState(); after != before {
		t.Errorf("a refused request changed sessions:\n%s\n%s", before, after)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the model was called %d times", n)
	}
}

// TestVoiceLLMBadRequests: bodies that are not a chat request are refused
// in words, never a crash; a conversation without a user message is 422.
func TestVoiceLLMBadRequests(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	token := w.voiceToken(t, id)
	path := "/api/voice/llm/chat/completions"
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"not JSON", `{"messages": [`, 400},
		{"messages not an array", `{"messages": "hi", "elevenlabs_extra_body": {"session_token": "` + token + `"}}`, 422},
		{"no user message", chatBody(token, true), 422},
		{"an empty utterance", chatBody(token, true, "   "), 422},
		{"too long", chatBody(token, false, strings.Repeat("a", 600<<10)), 413},
	} {
		res := w.f.do(request{method: "POST", path: path, body: c.body})
		if res.status != c.want || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s", c.name, res.status, res.body)
		}
	}
	if n := countTurns(t, w, id, "user"); n != 0 {
		t.Errorf("%d student turns stored", n)
	}
}

// TestVoiceLLMRetryIsOneTurn: the platform's retry of a request (the same
// conversation) stores one turn and gets the same answer, without a
// second model call; the next utterance is a new turn.
func TestVoiceLLMRetryIsOneTurn(t *testing.T) {
	fake := llmtest.NewAnthropic(t, llmtest.Text("What did the officer see?"), llmtest.Text("Why does that matter?"))
	w := newSessionWorld(t, fakeClaude(t, fake))
	id := w.startAs(t, "enrolled")
	token := w.voiceToken(t, id)
	path := "/api/voice/llm/v1/chat/completions"
	var answers []string
	for range 3 {
		res := w.f.do(request{method: "POST", path: path, body: chatBody(token, true, "The officer saw two men flee.")})
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		answers = append(answers, streamedContent(t, res.body))
	}
	if answers[0] != "What did the officer see?" || answers[1] != answers[0] || answers[2] != answers[0] {
		t.Errorf("answers %q", answers)
	}
	if u, a := countTurns(t, w, id, "user"), countTurns(t, w, id, "assistant"); u != 1 || a != 2 || len(fake.Requests()) != 1 {
		t.Errorf("after three deliveries: %d student turns, %d tutor turns (opening included), %d model calls", u, a, len(fake.Requests()))
	}
	w.clock.Add(3 * time.Second)
	res := w.f.do(request{method: "POST", path: path, body: chatBody(token, true, "The officer saw two men flee.", answers[0], "A gun in the car.")})
	if got := streamedContent(t, res.body); got != "Why does that matter?" || countTurns(t, w, id, "user") != 2 {
		t.Errorf("the next utterance: %q, %d student turns", got, countTurns(t, w, id, "user"))
	}
}

// streamedContent reads an OpenAI chunk stream strictly: role first, then
// content deltas, a finish reason, and [DONE] last.
func streamedContent(t testing.TB, body []byte) string {
	t.Helper()
	var text strings.Builder
	events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	if events[len(events)-1] != "data: [DONE]" {
		t.Fatalf("the stream does not end in [DONE]:\n%s", body)
	}
	for i, ev := range events[:len(events)-1] {
		var c ChatChunk
		if err := json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &c); err != nil || !strings.HasPrefix(ev, "data: ") {
			t.Fatalf("event %d %q: %v", i, ev, err)
		}
		d := c.Choices[0].Delta
		switch {
		case i == 0:
			if d.Role != "assistant" {
				t.Errorf("the first chunk %q is not the role", ev)
			}
		case d.Content != nil:
			text.WriteString(*d.Content)
		}
	}
	return text.String()
}

// TestVoiceLLMPastTheClock: past the session's clock the tutor says one
// sentence of goodbye and calls end_call when the platform offers it; no
// model is called, the session ends, and a retried goodbye is the same.
func TestVoiceLLMPastTheClock(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, fakeClaude(t, fake))
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	token := w.voiceToken(t, id)
	w.clock.Add(w.svc.MaxDuration() + 10*time.Second)
	client := voiceClient(t, srv.URL, "/api/voice/llm/")
	params := openai.ChatCompletionNewParams{Model: "tutor", Messages: conversation("One more thing about the search."),
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "end_call"}),
			openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "language_detection"})}}
	extra := oaopt.WithJSONSet("elevenlabs_extra_body", map[string]any{"session_token": token})
	for attempt := range 2 {
		stream := client.Chat.Completions.NewStreaming(context.Background(), params, extra)
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		m := acc.Choices[0].Message
		if m.Content != WrapUpText || acc.Choices[0].FinishReason != "tool_calls" || len(m.ToolCalls) != 1 || m.ToolCalls[0].Function.Name != "end_call" {
			t.Errorf("attempt %d: %q finish %q calls %+v", attempt, m.Content, acc.Choices[0].FinishReason, m.ToolCalls)
		}
		var args map[string]string
		if len(m.ToolCalls) == 1 && (json.Unmarshal([]byte(m.ToolCalls[0].Function.Arguments), &args) != nil || args["reason"] == "") {
			t.Errorf("end_call arguments %q", m.ToolCalls[0].Function.Arguments)
		}
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	if detail["status"] != "ended" || countTurns(t, w, id, "user") != 0 || len(fake.Requests()) != 0 {
		t.Errorf("after the goodbye: %v, %d student turns, %d model calls", detail["status"], countTurns(t, w, id, "user"), len(fake.Requests()))
	}
	// Without end_call offered, and not streamed: the goodbye alone.
	c, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "tutor", Messages: conversation("Hello?")}, extra)
	if err != nil || c.Choices[0].Message.Content != WrapUpText || c.Choices[0].FinishReason != "stop" || len(c.Choices[0].Message.ToolCalls) != 0 {
		t.Errorf("not streamed, no tools: %+v %v", c, err)
	}
}

// TestVoiceLLMFiller: a tutor slow to begin is covered by a filler ending
// in "... ", which the stored answer does not hold.
func TestVoiceLLMFiller(t *testing.T) {
	reply := llmtest.Text("What did the court hold?")
	for i, ev := range reply.Events {
		if ev.Name == "content_block_delta" {
			reply.Events[i].Delay = fillerAfter + 500*time.Millisecond
		}
	}
	fake := llmtest.NewAnthropic(t, reply)
	w := newSessionWorld(t, fakeClaude(t, fake))
	id := w.startAs(t, "enrolled")
	res := w.f.do(request{method: "POST", path: "/api/voice/llm/chat/completions", body: chatBody(w.voiceToken(t, id), true, "The officer saw two men flee.")})
	if got := streamedContent(t, res.body); got != FillerText+"What did the court hold?" {
		t.Errorf("streamed %q", got)
	}
	var stored string
	w.f.db.Read.QueryRow(`SELECT content FROM turns WHERE session_id = ? AND role = 'assistant' ORDER BY id DESC LIMIT 1`, id).Scan(&stored)
	if stored != "What did the court hold?" {
		t.Errorf("stored %q", stored)
	}
}

// BenchmarkVoiceLLMFirstChunk measures what the server adds before the
// platform hears the tutor, through the real router on a real connection,
// with the fake Claude taking 300 ms to its first token. Per turn:
//
//	first-chunk: from the request sent to the first SSE chunk read (the
//	  role delta: token, session, the stored turn, retrieval and the
//	  moderation gate's input check are all behind it);
//	to-upstream: from the request sent to the fake receiving the model
//	  request (the same, and the prompt);
//	added: the time to the first content chunk minus the fake's 300 ms
//	  (everything the server adds in front of the model's first words).
//
// Each includes the loopback hops, so each is an upper bound on the
// server's share. Loads: one student; fifty whose turns overlap (started
// 26 ms apart over a 1.3 s answer); fifty in the same instant.
// A first round, each student's first turn on a new connection, is not
// measured. Run:
//
//	go test ./internal/httpapi -run '^$' -bench VoiceLLMFirstChunk -benchtime 20x
func BenchmarkVoiceLLMFirstChunk(b *testing.B) {
	b.Run("concurrent=1", func(b *testing.B) { benchVoiceTurns(b, 1, 0) })
	b.Run("in-flight=50", func(b *testing.B) { benchVoiceTurns(b, 50, 1300*time.Millisecond) })
	b.Run("burst=50", func(b *testing.B) { benchVoiceTurns(b, 50, 0) })
}

func benchVoiceTurns(b *testing.B, students int, spread time.Duration) {
	fake := llmtest.NewAnthropic(b)
	w := newSessionWorld(b, fakeClaude(b, fake), func(c *cfgT) {
		c.RateLimitConversationsPerWeek = 1000
		c.SessionMinTurnIntervalSeconds = 0
		c.SessionMaxTurns = 1 << 20
		c.StudentDailyTokenBudget = 0
		c.ElevenLabsLLMSecret = testLLMSecret
	})
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: students}}
	tokens := make([]string, students)
	for i := range students {
		name := fmt.Sprintf("voice%d", i)
		w.f.addUser(name, auth.RoleStudent)
		if _, err := w.f.courses.Join(context.Background(), w.f.users[name], w.course.JoinCode); err != nil {
			b.Fatal(err)
		}
		res := w.f.do(request{method: "POST", path: "/api/sessions/start", token: w.f.tokenOf[name], body: `{"week_id":` + itoa(w.week.ID) + `}`})
		if res.status != 201 {
			b.Fatalf("start: %d %s", res.status, res.body)
		}
		tokens[i] = w.voiceToken(b, int64(res.json(b)["session_id"].(float64)))
	}
	var mu sync.Mutex
	var firstChunk, toUpstream, added []time.Duration
	sent := map[string]time.Time{}
	said := make([][]string, students) // each student's conversation so far
	round := func(n int, record bool) {
		words := []string{"What"}
		for range 39 {
			words = append(words, " word")
		}
		reply := llmtest.Text(words...)
		firstDelta := true
		for i, ev := range reply.Events {
			if ev.Name == "content_block_delta" {
				reply.Events[i].Delay = 25 * time.Millisecond
				if firstDelta {
					reply.Events[i].Delay, firstDelta = 300*time.Millisecond, false
				}
			}
		}
		replies := make([]llmtest.Reply, students)
		for i := range replies {
			replies[i] = reply
		}
		fake.Push(replies...)
		var wg sync.WaitGroup
		for i := range students {
			wg.Go(func() {
				time.Sleep(spread * time.Duration(i) / time.Duration(students))
				marker := fmt.Sprintf("turn-%d-%d", i, n)
				said[i] = append(said[i], "The officer saw two men flee the car ("+marker+").")
				req, _ := http.NewRequest("POST", srv.URL+"/api/voice/llm/v1/chat/completions", strings.NewReader(chatBody(tokens[i], true, said[i]...)))
				req.Header.Set("Authorization", "Bearer "+testLLMSecret)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				mu.Lock()
				sent[marker] = start
				mu.Unlock()
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				defer res.Body.Close()
				sc := bufio.NewScanner(res.Body)
				var first, content time.Duration
				var text strings.Builder
				for sc.Scan() {
					line, ok := strings.CutPrefix(sc.Text(), "data: ")
					if !ok {
						continue
					}
					if first == 0 {
						first = time.Since(start)
					}
					var c ChatChunk
					if json.Unmarshal([]byte(line), &c) != nil || len(c.Choices) == 0 || c.Choices[0].Delta.Content == nil {
						continue
					}
					if content == 0 {
						content = time.Since(start)
					}
					text.WriteString(*c.Choices[0].Delta.Content)
				}
				if res.StatusCode != 200 || content == 0 {
					b.Errorf("turn %s: %d, no content", marker, res.StatusCode)
					return
				}
				said[i] = append(said[i], text.String())
				if !record {
					return
				}
				mu.Lock()
				firstChunk = append(firstChunk, first)
				added = append(added, content-300*time.Millisecond)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	// A first round, not measured: each student's connection, and the
	// first turn of each session.
	round(-1, false)
	for n := 0; b.Loop(); n++ {
		round(n, true)
	}
	b.StopTimer()
	for _, r := range fake.Requests() {
		msgs := r.Body["messages"].([]any)
		last := msgs[len(msgs)-1].(map[string]any)["content"].([]any)
		text := last[len(last)-1].(map[string]any)["text"].(string)
		i := strings.Index(text, "(turn-")
		if i < 0 {
			continue
		}
		if s, ok := sent[strings.TrimSuffix(text[i+1:], ").")]; ok && !strings.HasPrefix(text[i+1:], "turn--1-") {
			toUpstream = append(toUpstream, r.Arrived.Sub(s))
		}
	}
	report(b, "first-chunk", firstChunk)
	report(b, "to-upstream", toUpstream)
	report(b, "added", added)
}
