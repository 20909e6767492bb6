package tutor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// sleepyClassifier answers "safe" after a fixed time.
type sleepyClassifier time.Duration

func (d sleepyClassifier) Classify(ctx context.Context, _, _ string) (moderation.Verdict, error) {
	select {
	case <-time.After(time.Duration(d)):
		return moderation.Verdict{}, nil
	case <-ctx.Done():
		return moderation.Verdict{}, ctx.Err()
	}
}

// BenchmarkModerationFirstDelta is the time to a turn's first delta with
// the fake Claude taking 300 ms to its first token: moderation off, and on
// with a classifier of 150 ms (faster than the first token: it should add
// nothing) and of 450 ms (slower: it should add its excess, 150 ms, and no
// more).
//
//	go test ./internal/tutor -run '^$' -bench ModerationFirstDelta -benchtime 10x
func BenchmarkModerationFirstDelta(b *testing.B) {
	db, weekA, _ := twoWeeksTB(b)
	for _, c := range []struct {
		name string
		cls  Classifier
	}{{"off", nil}, {"classifier=150ms", sleepyClassifier(150 * time.Millisecond)}, {"classifier=450ms", sleepyClassifier(450 * time.Millisecond)}} {
		b.Run(c.name, func(b *testing.B) {
			fake := llmtest.NewAnthropic(b)
			model, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m"})
			if err != nil {
				b.Fatal(err)
			}
			tu := New(retrieval.NewSearcher(nil, 0, nil), model).WithClassifier(c.cls, 2*time.Second)
			var firsts []time.Duration
			for b.Loop() {
				r := llmtest.Text("Why put the risk ", "on the offeror?")
				for i, ev := range r.Events {
					if ev.Name == "content_block_delta" {
						r.Events[i].Delay = 300 * time.Millisecond
						break
					}
				}
				fake.Push(r)
				start := time.Now()
				reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
				if err != nil {
					b.Fatal(err)
				}
				first := time.Duration(0)
				for ev := range reply.Events {
					if ev.Kind == llm.Delta && first == 0 {
						first = time.Since(start)
					}
				}
				firsts = append(firsts, first)
			}
			slices.Sort(firsts)
			b.ReportMetric(float64(firsts[len(firsts)/2].Microseconds())/1000, "first-delta-p50-ms")
			b.ReportMetric(float64(firsts[len(firsts)-1].Microseconds())/1000, "first-delta-max-ms")
		})
	}
}
