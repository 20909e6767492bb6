package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

func fakeClaude(t testing.TB, fake *llmtest.Anthropic) llm.Provider {
	t.Helper()
	p, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	name string
	data map[string]any
	at   time.Time
}

// sseReader reads events from a text/event-stream body, strictly: every
// event has an event: line and one data: line of JSON.
type sseReader struct {
	t *testing.T
	s *bufio.Scanner
}

func (r *sseReader) next() (sseEvent, bool) {
	r.t.Helper()
	var ev sseEvent
	for r.s.Scan() {
		line := r.s.Text()
		switch {
		case line == "" && ev.name != "":
			ev.at = time.Now()
			return ev, true
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data); err != nil {
				r.t.Fatalf("event %s: data is not JSON: %v: %s", ev.name, err, line)
			}
		default:
			r.t.Fatalf("unexpected line in the event stream: %q", line)
		}
	}
	return ev, false
}

// streamTurn posts a message to the stream route over a real connection.
func streamTurn(t *testing.T, ctx context.Context, base, token string, id int64, body string) (*http.Response, *sseReader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/sessions/"+itoa(id)+"/message/stream", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkStreamedResponse(t, base, "POST", req.URL.Path, res)
	return res, &sseReader{t: t, s: bufio.NewScanner(res.Body)}
}

// TestStreamedTurn: the client sees deltas while the model is still
// answering (nothing is stored yet), then sources and done; what was
// streamed is what is stored.
func TestStreamedTurn(t *testing.T) {
	reply := llmtest.Text("Before the rule: ", "what exactly did the officer see, ", "and when?")
	for i, ev := range reply.Events {
		if ev.Name == "content_block_delta" && strings.Contains(ev.Data, "what exactly") {
			reply.Events[i].Delay = 500 * time.Millisecond
		}
	}
	fake := llmtest.NewAnthropic(t, reply)
	w := newSessionWorld(t, fakeClaude(t, fake))
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	res, events := streamTurn(t, context.Background(), srv.URL, w.persona["enrolled"], id, `{"message":"The officer saw two men flee the car.","client_msg_id":"s-1"}`)
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var deltas []string
	var sources, done sseEvent
	for {
		ev, ok := events.next()
		if !ok {
			break
		}
		switch ev.name {
		case "delta":
			if sources.name != "" {
				t.Errorf("a delta after sources")
			}
			deltas = append(deltas, ev.data["text"].(string))
			if len(deltas) == 1 {
				var answers int
				w.f.db.Read.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ? AND role = 'assistant'`, id).Scan(&answers)
				if answers != 1 {
					t.Errorf("the answer was stored before its first delta reached the client")
				}
			}
		case "sources":
			sources = ev
		case "done":
			done = ev
		default:
			t.Errorf("unexpected event %s %v", ev.name, ev.data)
		}
	}
	streamed := strings.Join(deltas, "")
	if len(deltas) < 2 || streamed != "Before the rule: what exactly did the officer see, and when?" {
		t.Errorf("deltas %q", deltas)
	}
	if done.name == "" || done.data["response"] != streamed || done.data["moderated"] != false || done.data["remaining_seconds"] != 300.0 {
		t.Errorf("done %v", done.data)
	}
	src, _ := sources.data["sources"].([]any)
	if len(src) == 0 || src[0].(map[string]any)["filename"] != "lopez-v-thurmer.pdf" {
		t.Errorf("sources %v", sources.data)
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	tr := detail["transcript"].([]any)
	if len(tr) != 3 || tr[2].(map[string]any)["content"] != streamed || len(tr[2].(map[string]any)["sources"].([]any)) != len(src) {
		t.Errorf("stored transcript %v", tr)
	}
	// The prompt carried this week's reading inside the data block.
	system := fake.Requests()[0].Body["system"].([]any)
	last := system[len(system)-1].(map[string]any)["text"].(string)
	if !strings.Contains(last, "<readings>") || !strings.Contains(last, "lopez-v-thurmer.pdf") {
		t.Errorf("the turn's readings block: %.300s", last)
	}
	// The same message again streams the stored answer, without a call.
	res2, again := streamTurn(t, context.Background(), srv.URL, w.persona["enrolled"], id, `{"message":"The officer saw two men flee the car.","client_msg_id":"s-1"}`)
	defer res2.Body.Close()
	var replay strings.Builder
	for ev, ok := again.next(); ok; ev, ok = again.next() {
		if ev.name == "delta" {
			replay.WriteString(ev.data["text"].(string))
		}
	}
	if replay.String() != streamed || len(fake.Requests()) != 1 {
		t.Errorf("replay %q after %d model calls", replay.String(), len(fake.Requests()))
	}
}

// TestStreamRefusalsAreProblems: what can be refused is refused before the
// stream opens, with a status and problem+json; a failure after it opens
// is an error event, and the turn is left unanswered.
func TestStreamRefusalsAreProblems(t *testing.T) {
	reply := llmtest.Reply{Events: append(llmtest.Text("Why ", "so?").Events[:4], llmtest.Overloaded)}
	fake := llmtest.NewAnthropic(t, reply)
	w := newSessionWorld(t, fakeClaude(t, fake))
	id := w.startAs(t, "enrolled")
	path := "/api/sessions/" + itoa(id) + "/message/stream"
	if res := w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: `{"message":""}`}); res.status != 422 {
		t.Errorf("empty: %d %s", res.status, res.body)
	}
	if res := w.f.do(request{method: "POST", path: path, token: w.persona["classmate"], body: `{"message":"hi"}`}); res.status != 404 {
		t.Errorf("classmate: %d %s", res.status, res.body)
	}
	res := w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: `{"message":"Was it reasonable?"}`})
	body := string(res.body)
	if res.status != 200 || !strings.Contains(body, "event: delta\ndata: {\"text\":\"Why \"}") ||
		!strings.Contains(body, "event: error\ndata: {\"detail\":\"the tutor could not answer just now; please send your message again\"}") || strings.Contains(body, "event: done") {
		t.Errorf("a failed stream: %d\n%s", res.status, body)
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	tr := detail["transcript"].([]any)
	if len(tr) != 2 || tr[1].(map[string]any)["unanswered"] != true {
		t.Errorf("after a failed stream: %v", tr)
	}
	w.clock.Add(10 * time.Minute)
	if res := w.f.do(request{method: "POST", path: path, token: w.persona["enrolled"], body: `{"message":"Late?"}`}); res.status != 409 {
		t.Errorf("past the clock: %d %s", res.status, res.body)
	}
}

// TestStreamClientGoneStopsTheModel: a client that hangs up mid-answer
// closes the upstream request within 100 ms, and nothing of the answer is
// stored.
func TestStreamClientGoneStopsTheModel(t *testing.T) {
	reply := llmtest.Text("Before the rule: ", "what exactly did the officer see?")
	for i, ev := range reply.Events {
		if ev.Name == "content_block_delta" && strings.Contains(ev.Data, "what exactly") {
			reply.Events[i].Delay = 10 * time.Second
		}
	}
	fake := llmtest.NewAnthropic(t, reply)
	w := newSessionWorld(t, fakeClaude(t, fake))
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	id := w.startAs(t, "enrolled")
	ctx, cancel := context.WithCancel(context.Background())
	res, events := streamTurn(t, ctx, srv.URL, w.persona["enrolled"], id, `{"message":"The officer saw two men flee."}`)
	if ev, ok := events.next(); !ok || ev.name != "delta" {
		t.Fatalf("first event %v %v", ev, ok)
	}
	hungUp := time.Now()
	cancel()
	res.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for fake.Requests()[0].Gone.IsZero() && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if gone := fake.Requests()[0].Gone; gone.IsZero() || gone.Sub(hungUp) > 100*time.Millisecond {
		t.Errorf("the model's request ended %v after the client hung up", gone.Sub(hungUp))
	}
	deadline = time.Now().Add(3 * time.Second)
	for {
		var state string
		w.f.db.Read.QueryRow(`SELECT state FROM turns WHERE session_id = ? AND role = 'user'`, id).Scan(&state)
		if state == "unanswered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the student's turn is %q", state)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var answers int
	w.f.db.Read.QueryRow(`SELECT count(*) FROM turns WHERE session_id = ? AND role = 'assistant'`, id).Scan(&answers)
	if answers != 1 {
		t.Errorf("%d assistant turns: a half answer was stored", answers)
	}
}
