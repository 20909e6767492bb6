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

// BenchmarkCheckOutput is the check each piece of the tutor's answer
// passes before it leaves (the sentence so far), over the labelled set.
func BenchmarkCheckOutput(b *testing.B) {
	set := labelledSet(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		CheckOutput(set[i%len(set)].Text)
		i++
	}
}
