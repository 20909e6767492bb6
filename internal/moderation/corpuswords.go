package moderation

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// corpusWordsTxt is how the law is written: the words of the corpus
// readings that occur in at least two of them (the file says how it was
// made). Layer 1.5 sorts a word its lexicon of session talk does not know
// into one the readings use ("population", "statute", "percent") or a
// foreign one ("alligator", "octopus", "tattoo"): an utterance of foreign
// words is off the course more often than one of unknown words alone.
//
//go:embed corpuswords.txt
var corpusWordsTxt string

var (
	corpusOnce  sync.Once
	corpusWords []uint32 // wordHash of each, sorted
)

// corpusWord says whether a normalised word is in corpuswords.txt.
func corpusWord(w string) bool {
	corpusOnce.Do(func() {
		for l := range strings.SplitSeq(corpusWordsTxt, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				corpusWords = append(corpusWords, wordHash(l))
			}
		}
		slices.Sort(corpusWords)
	})
	_, ok := slices.BinarySearch(corpusWords, wordHash(w))
	return ok
}
