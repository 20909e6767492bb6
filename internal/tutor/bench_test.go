package tutor

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// BenchmarkTurnOverhead measures what the server adds to a tutor turn,
// short of HTTP (sessions bring the route): from Turn being called to the
// request reaching the model (retrieval over a real opinion's week, the
// prompt, the SDK), and from the model sending a delta to the delta
// reaching Turn's caller. The fake model waits 300 ms for its first token.
//
// "50 in flight" starts a turn every 6 ms, so 50 are waiting on the model
// at once, as in a server with many sessions; "burst of 50" starts them all
// in the same instant, the worst case on two cores.
func BenchmarkTurnOverhead(b *testing.B) {
	for _, c := range []struct {
		name       string
		concurrent int
		every      time.Duration
	}{{"one", 1, 0}, {"50-in-flight", 50, 6 * time.Millisecond}, {"burst-of-50", 50, 0}} {
		concurrent := c.concurrent
		b.Run(c.name, func(b *testing.B) {
			db, weekID := opinionWeek(b)
			reply := llmtest.Text()
			events := append([]llmtest.SSE{}, reply.Events[:3]...)
			for i := range 5 {
				ev := llmtest.SSE{Name: "content_block_delta", Data: `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{now} "}}`}
				if i == 0 {
					ev.Delay = 300 * time.Millisecond
				} else {
					ev.Delay = 25 * time.Millisecond
				}
				events = append(events, ev)
			}
			reply.Events = append(events, reply.Events[3:]...)
			var before, between []time.Duration
			var mu sync.Mutex
			// One searcher for the run, its week warm, as in a server.
			search := retrieval.NewSearcher(nil, 0, nil)
			if _, err := search.Search(context.Background(), db.Read, weekID, "jury", 5); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				fake := llmtest.NewAnthropic(b)
				for range concurrent {
					fake.Push(reply)
				}
				claude, _ := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m"})
				tu := New(search, claude).WithClassifier(nil, 0)
				starts := make([]time.Time, concurrent)
				var wg sync.WaitGroup
				for i := range concurrent {
					time.Sleep(c.every)
					wg.Go(func() {
						starts[i] = time.Now()
						r, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekID, Week: week, UserID: strconv.Itoa(i),
							Student: "What did the state court of appeals decide about the jury instruction?", Clock: Clock{Elapsed: time.Minute, Limit: 5 * time.Minute}})
						if err != nil {
							b.Error(err)
							return
						}
						for ev := range r.Events {
							if ev.Kind == llm.Delta {
								sent, _ := strconv.ParseInt(strings.TrimSpace(ev.Text), 10, 64)
								mu.Lock()
								between = append(between, time.Since(time.Unix(0, sent)))
								mu.Unlock()
							} else if ev.Kind == llm.Error {
								b.Error(ev.Err)
							}
						}
					})
				}
				wg.Wait()
				// Each request is matched to its turn by the user id it
				// carries, and measured from that turn's start.
				for _, r := range fake.Requests() {
					md, _ := r.Body["metadata"].(map[string]any)
					id, _ := md["user_id"].(string)
					i, err := strconv.Atoi(id)
					if err != nil || i >= concurrent {
						b.Fatalf("request with user id %q", id)
					}
					before = append(before, r.Arrived.Sub(starts[i]))
				}
			}
			b.ReportMetric(pctl(before, 50), "ms-to-upstream-p50")
			b.ReportMetric(pctl(before, 99), "ms-to-upstream-p99")
			b.ReportMetric(pctl(between, 50), "ms-per-delta-p50")
			b.ReportMetric(pctl(between, 99), "ms-per-delta-p99")
		})
	}
}

func pctl(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return float64(s[min(len(s)-1, (len(s)*p+99)/100-1)]) / float64(time.Millisecond)
}

// opinionWeek is a week holding a real opinion's text in 1,000-character
// passages.
func opinionWeek(b *testing.B) (*sqlite.DB, int64) {
	out, err := exec.Command(testenv.Pdftotext(b), testenv.CorpusPDF("ca7-lopez-v-thurmer-2010.pdf"), "-").Output()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db := sqlitetest.OpenMigrated(b)
	// Ids as the database gives them (PostgreSQL refuses explicit ones).
	insert := func(q string, args ...any) int64 {
		var id int64
		if err := db.Write.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			b.Fatal(err)
		}
		return id
	}
	c := insert(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES ('C', 'C', 'J', 'now', 'now')`)
	w := insert(`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, 1, 'now', 'now')`, c)
	d := insert(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'lopez.pdf', ?, 1, 'processed', 'now')`, w, strings.Repeat("a", 64))
	text := strings.Join(strings.Fields(string(out)), " ")
	for i := 0; i*1000 < len(text); i++ {
		chunk := text[i*1000 : min(len(text), (i+1)*1000)]
		insert(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, ?, 1, 0, 1, ?, 250)`, d, w, i, chunk)
	}
	return db, w
}
