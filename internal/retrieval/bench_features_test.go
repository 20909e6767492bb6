package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkSearchTuning measures what each search feature adds to a BM25
// search of a week of 2,000 passages (about 170 words each, words drawn
// Zipf-like from a 4,000-word vocabulary; a few legal words among them).
// Compare the sub-benchmarks: baseline is the search before issue 18.
func BenchmarkSearchTuning(b *testing.B) {
	d := newDB(b)
	wk := d.week(d.course("B"), 1)
	rng := rand.New(rand.NewPCG(7, 8))
	vocab := make([]string, 4000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%dx", i)
	}
	copy(vocab[100:], strings.Fields("discharge termination counsel attorney revenue duty treaty court held statute penalty witnesses treason conviction Mathews Eldridge"))
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	texts := make([]string, 2000)
	for i := range texts {
		var sb strings.Builder
		for range 170 {
			sb.WriteString(vocab[zipf.Uint64()])
			sb.WriteByte(' ')
		}
		texts[i] = sb.String()
	}
	d.document(wk, "processed", texts...)
	turns := []Turn{
		{Student: "Can the lawyer be fired for what he said in court?"},
		{Student: "I think it's the second one?", Tutor: "Which of the witnesses' testimony does a treason conviction need?"},
		{Student: "What are the factors in Mathews v. Eldridge under 42 U.S.C. § 1983?"},
	}
	on := DefaultTuning
	on.Chat, on.CaseBoost, on.Listing = true, 1, 0.5
	for _, tc := range []struct {
		name string
		t    Tuning
	}{
		{"baseline", baselineTuning},
		{"synonyms", with(baselineTuning, func(t *Tuning) { t.Synonyms = 0.5 })},
		{"neighbours", with(baselineTuning, func(t *Tuning) { t.Neighbours = true })},
		{"chat", with(baselineTuning, func(t *Tuning) { t.Chat = true })},
		{"case", with(baselineTuning, func(t *Tuning) { t.CaseBoost = 1 })},
		{"listing", with(baselineTuning, func(t *Tuning) { t.Listing = 0.5 })},
		{"default", DefaultTuning},
		{"all", on},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := NewSearcher(nil, 0, nil)
			s.SetTuning(tc.t)
			ctx := context.Background()
			if _, err := s.SearchTurn(ctx, d.Read, wk, turns[0], 5); err != nil { // builds the index
				b.Fatal(err)
			}
			// CPU time as well as wall time: on a busy machine the wall
			// time mostly measures the other processes.
			cpu0 := cpuTime()
			n := 0
			for i := 0; b.Loop(); i++ {
				if _, err := s.SearchTurn(ctx, d.Read, wk, turns[i%len(turns)], 5); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(max(n, 1)), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func with(t Tuning, f func(*Tuning)) Tuning {
	f(&t)
	return t
}
