package retrieval

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
	"golang.org/x/text/unicode/norm"
)

// BM25's parameters. k1 is the usual 1.2. b, how much a long passage is
// discounted, is 0.3 rather than the usual 0.75: passages here are cut at
// sentence ends to at most CHUNK_SIZE, so their lengths differ little, and
// a full passage is more often the one holding the argument than a wordy
// one. Measured on the shared QA set (29 questions, strict hits, k1 0.6 to
// 2.0): every b from 0 to 0.3 gave recall@1 0.414 and MRR 0.46, b 0.4–0.5
// 0.379, b 0.75 0.345 and 0.424; recall@5 0.517 throughout.
const (
	bm25K1 = 1.2
	bm25B  = 0.3
)

// lexIndex is an inverted index of one week's passages for BM25: built in
// memory from the week's chunks alone, so a search touches this week's
// postings and nothing of any other week's.
type lexIndex struct {
	ids      []int64              // chunk id of each passage
	lens     []float32            // words in each passage
	avg      float64              // their mean
	postings map[string][]posting // term → passages holding it
	bytes    int64                // memory held, roughly
	words    *passageWords        // each passage's words as rerank compares them
	// stems are the index term of each word of the passages, as written
	// (lexTerms's memo while indexing), read-only once made: most of a
	// question's words are the readings' too, and need not be stemmed
	// again on every turn (see terms).
	stems map[string]string
}

type posting struct {
	doc int32 // index into ids
	tf  float32
}

// newLexIndex indexes the passages (ids and texts in the same order).
func newLexIndex(ids []int64, texts []string) *lexIndex {
	ix := &lexIndex{ids: ids, lens: make([]float32, len(ids)), postings: map[string][]posting{}}
	lens := make([]int, len(ids))
	total := 0
	tf := map[string]int{}
	memo := map[string]string{}
	for d, text := range texts {
		clear(tf)
		for _, t := range lexTerms(text, memo) {
			tf[t]++
			lens[d]++
		}
		for t, n := range tf {
			ix.postings[t] = append(ix.postings[t], posting{int32(d), float32(n)})
		}
		total += lens[d]
	}
	ix.avg = max(float64(total)/float64(max(1, len(ids))), 1)
	for d, n := range lens {
		ix.lens[d] = float32(n)
	}
	ix.bytes = int64(len(ids))*12 + 64
	for t, ps := range ix.postings {
		ix.bytes += int64(len(t)) + 48 + int64(cap(ps))*8
	}
	ix.words = newPassageWords(ids, texts)
	ix.bytes += ix.words.bytes
	ix.stems = memo
	for w, t := range memo {
		ix.bytes += int64(len(w)+len(t)) + 48
	}
	return ix
}

// terms appends to out word's index terms, lexTerms(word, nil): from the
// passages' stems when a passage has the word as written (then it is one
// run of letters and digits, and its term is the one lexTerms gives).
func (ix *lexIndex) terms(out []string, word string) []string {
	if t, ok := ix.stems[word]; ok {
		return append(out, t)
	}
	return append(out, lexTerms(word, nil)...)
}

// search returns the positions of the n passages with the best BM25 score
// for the query terms (already stemmed with lexTerm), best first, with
// their scores. Passages holding none of the terms are not returned.
func (ix *lexIndex) search(terms []weighted, n int, k1, b float64) ([]int32, []float32) {
	if len(ix.ids) == 0 || len(terms) == 0 {
		return nil, nil
	}
	scores := make([]float32, len(ix.ids))
	norm := make([]float32, len(ix.ids)) // k1·(1 − b + b·len/avglen)
	for d, l := range ix.lens {
		norm[d] = float32(k1 * (1 - b + b*float64(l)/ix.avg))
	}
	N := float64(len(ix.ids))
	for _, qt := range terms {
		ps := ix.postings[qt.word]
		if len(ps) == 0 {
			continue
		}
		df := float64(len(ps))
		idf := math.Log((N - df + 0.5) / (df + 0.5))
		if idf <= 0 { // a word in most passages tells them apart by almost nothing
			idf = 1e-6
		}
		w := float32(qt.w * idf * (k1 + 1))
		for _, p := range ps {
			scores[p.doc] += w * p.tf / (p.tf + norm[p.doc])
		}
	}
	h := make(scoreHeap, 0, n+1)
	for d, s := range scores {
		if s <= 0 {
			continue
		}
		h.offer(scored{d, s}, n)
	}
	docs := make([]int32, len(h))
	out := make([]float32, len(h))
	for j := len(h) - 1; j >= 0; j-- {
		s := h.pop()
		docs[j], out[j] = int32(s.i), s.score
	}
	return docs, out
}

// lexTerms are the index terms of a text: runs of letters and digits,
// lower-cased, accents removed, English words reduced to their Porter stem
// ("negligent" and "negligence" both become "neglig"). memo, if not nil,
// keeps the terms of words already seen (a week's passages repeat most
// of their words).
func lexTerms(s string, memo map[string]string) []string {
	var out []string
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = appendTerm(out, s[start:i], memo)
			start = -1
		}
	}
	if start >= 0 {
		out = appendTerm(out, s[start:], memo)
	}
	return out
}

func appendTerm(out []string, w string, memo map[string]string) []string {
	if t, ok := memo[w]; ok {
		return append(out, t)
	}
	t := lexTerm(foldAccents(strings.ToLower(w)))
	if t == "" { // only combining marks
		return out
	}
	if memo != nil {
		memo[w] = t
	}
	return append(out, t)
}

// lexTerm stems one lower-case word; words that are not plain ASCII
// letters (numbers, other scripts) are kept as they are.
func lexTerm(w string) string {
	if len(w) < 3 || len(w) > 64 {
		return w
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return w
		}
	}
	return string(porterstemmer.StemWithoutLowerCasing([]rune(w)))
}

// foldAccents removes combining marks ("é" → "e"); ASCII text is returned
// as it is.
func foldAccents(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFD.String(s))
}
