package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// BenchmarkStreamTurnOverhead measures what the server adds to a streamed
// tutor turn, through the real router on a real connection, with the fake
// Claude taking 300 ms to its first token. Per turn:
//
//	to-upstream: from the client sending the request to the fake receiving
//	  the model request (retrieval, the stored student turn, the prompt);
//	per-delta: from the fake writing the first delta to the client reading
//	  it as an SSE event;
//	added: the client's time to first delta minus the fake's own 300 ms.
//
// Each includes the loopback hops, so each is an upper bound on the
// server's share. The answer is 40 tokens at 40 tokens/s after the first.
// Three loads: one student; fifty students whose turns overlap, started
// 26 ms apart (a 1.3 s answer each, so about fifty are in flight, as in
// class); and fifty turns sent in the same instant (the worst case).
// cpu-ms/turn is the test process's CPU time (server, client and fake
// together: an upper bound on the server's) per turn while the timer ran.
// Any number of iterations is honest: the fixture's clock moves a turn
// interval between iterations and students start new sessions before
// they reach the session's limits. Run:
//
//	go test ./internal/httpapi -run '^$' -bench StreamTurnOverhead -benchtime 5x -count 6
func BenchmarkStreamTurnOverhead(b *testing.B) {
	b.Run("concurrent=1", func(b *testing.B) { benchTurns(b, 1, 0) })
	b.Run("in-flight=50", func(b *testing.B) { benchTurns(b, 50, 1300*time.Millisecond) })
	b.Run("burst=50", func(b *testing.B) { benchTurns(b, 50, 0) })
}

// benchTurns runs one turn per student per iteration, student i starting
// i/students of spread after the first.
func benchTurns(b *testing.B, students int, spread time.Duration) {
	fake := llmtest.NewAnthropic(b)
	w := newSessionWorld(b, fakeClaude(b, fake), func(c *cfgT) { c.RateLimitConversationsPerWeek = 1000 })
	srv := httptest.NewServer(w.f.srv.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: students}}
	tokens := make([]string, students)
	ids := make([]int64, students)
	for i := range students {
		name := fmt.Sprintf("bench%d", i)
		w.f.addUser(name, auth.RoleStudent)
		if _, err := w.f.courses.Join(context.Background(), w.f.users[name], w.course.JoinCode); err != nil {
			b.Fatal(err)
		}
		tokens[i] = w.f.tokenOf[name]
	}
	// The server's limits stay as they are: the fixture's clock moves one
	// turn interval before each turn, so no message comes too soon, and
	// each student starts a new session (which ends the last) before
	// its session reaches its number of messages or its length. Both are
	// done with the timer stopped.
	interval := time.Duration(w.f.cfg.SessionMinTurnIntervalSeconds) * time.Second
	perSession := min(w.f.cfg.SessionMaxTurns, w.f.cfg.SessionMaxDurationSeconds/max(1, w.f.cfg.SessionMinTurnIntervalSeconds)-1)
	if perSession < 1 {
		b.Fatalf("the fixture's limits leave no room for a turn: %d turns, %d s, one every %d s", w.f.cfg.SessionMaxTurns, w.f.cfg.SessionMaxDurationSeconds, w.f.cfg.SessionMinTurnIntervalSeconds)
	}
	startSessions := func() {
		for i := range students {
			res := w.f.do(request{method: "POST", path: "/api/sessions/start", token: tokens[i], body: `{"week_id":` + itoa(w.week.ID) + `}`})
			if res.status != 201 {
				b.Fatalf("start: %d %s", res.status, res.body)
			}
			ids[i] = int64(res.json(b)["session_id"].(float64))
		}
	}
	startSessions()
	var mu sync.Mutex
	var toUpstream, perDelta, added []time.Duration
	sent := map[string]time.Time{}
	turns := 0
	b.ResetTimer()
	var cpu time.Duration // while the timer runs
	mark := processCPU()
	for n := 0; b.Loop(); n++ {
		if n > 0 {
			b.StopTimer()
			cpu += processCPU() - mark
			if n%perSession == 0 {
				startSessions()
			}
			w.clock.Add(interval)
			mark = processCPU()
			b.StartTimer()
		}
		turns += students
		words := []string{"{now}"}
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
				body := `{"message":"The officer saw two men flee the car (` + marker + `)."}`
				req, _ := http.NewRequest("POST", srv.URL+"/api/sessions/"+itoa(ids[i])+"/message/stream", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tokens[i])
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
				first := true
				for sc.Scan() {
					line := sc.Text()
					if !first || !strings.HasPrefix(line, "data: ") {
						continue
					}
					got := time.Now()
					var d struct{ Text string }
					json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d)
					// The first delta's text is the fake's clock when it
					// wrote it; a server behind may have merged the next
					// deltas into the same event.
					stamp, _, _ := strings.Cut(d.Text, " ")
					ns, err := strconv.ParseInt(stamp, 10, 64)
					if err != nil {
						b.Errorf("first event %q", line)
						return
					}
					first = false
					mu.Lock()
					perDelta = append(perDelta, got.Sub(time.Unix(0, ns)))
					added = append(added, got.Sub(start)-300*time.Millisecond)
					mu.Unlock()
				}
				if first || res.StatusCode != 200 {
					b.Errorf("turn %s: %d, no delta", marker, res.StatusCode)
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	cpu += processCPU() - mark
	// The whole test process's CPU while the turns ran: the server's, the
	// client's and the fake model's, so an upper bound on the server's
	// share of a turn.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(turns), "cpu-ms/turn")
	for _, r := range fake.Requests() {
		msgs := r.Body["messages"].([]any)
		last := msgs[len(msgs)-1].(map[string]any)["content"].([]any)
		text := last[len(last)-1].(map[string]any)["text"].(string)
		i := strings.Index(text, "(turn-")
		if i < 0 {
			continue
		}
		marker := strings.TrimSuffix(text[i+1:], ").")
		if s, ok := sent[marker]; ok {
			toUpstream = append(toUpstream, r.Arrived.Sub(s))
		}
	}
	report(b, "to-upstream", toUpstream)
	report(b, "per-delta", perDelta)
	report(b, "added", added)
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds p50 and p99 of ds, in ms, to the benchmark's output.
func report(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		b.Errorf("no %s measurements", name)
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.5), name+"-p50-ms")
	b.ReportMetric(at(0.99), name+"-p99-ms")
}
