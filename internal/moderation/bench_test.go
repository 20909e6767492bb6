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

// BenchmarkLayers is each local layer's cost per utterance over the test
// split (layer 1, layer 1.5, and both as Check runs them):
//
//	go test ./internal/moderation -run '^$' -bench Layers
func BenchmarkLayers(b *testing.B) {
	set := testSet(b)
	Check(set[0].Text) // the model is decoded on first use
	for _, l := range Layers {
		b.Run(string(l), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				l.Judge(set[i%len(set)].Text)
				i++
			}
		})
	}
}

// BenchmarkLearned is layer 1.5 alone per utterance over the dev set (the
// model's features and scoring, which round 6 grew):
//
//	go test ./internal/moderation -run '^$' -bench Learned
func BenchmarkLearned(b *testing.B) {
	set := devSet(b)
	Learned(set[0].Text) // the model is decoded on first use
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Learned(set[i%len(set)].Text)
		i++
	}
}
