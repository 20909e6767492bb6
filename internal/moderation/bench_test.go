package moderation

import "testing"

// BenchmarkCheck is the local rules' cost per utterance, over the
// labelled set:
//
//	go test ./internal/moderation -run '^$' -bench Check
func BenchmarkCheck(b *testing.B) {
	set := labelledSet(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Check(set[i%len(set)].Text)
		i++
	}
}
