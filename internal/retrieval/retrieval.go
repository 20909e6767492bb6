// Package retrieval finds the passages of one week's readings that answer a
// student's words: BM25 over the week's passages, fused with the cosine
// similarity of their embeddings when an embedding model is present. Each
// week is searched through an in-memory index built from that week's rows
// alone, so no search can reach another week's text.
package retrieval

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Source is a retrieved passage.
type Source struct {
	ChunkID    int64
	DocumentID int64
	Filename   string
	Page       int
	Content    string
	Score      float64 // higher is better
}

// MaxK is the most passages one search returns.
const MaxK = 20

// candidates is how many of BM25's best are reranked (more than MaxK).
const candidates = 50

// rerank orders BM25's candidates by BM25 plus two bonuses for the
// question's distinct words a passage holds (compared on a 5-letter prefix,
// a poor man's stem): how many it holds anywhere, and how many it holds
// close together, within some window of nearWindow words. A passage that
// answers a paraphrased question usually shares several of its words, not
// one rare one many times, and shares them in the sentence that answers it,
// not scattered over a page.
func rerank(ss []Source, words []weighted) { rerankIn(ss, words, nil) }

// rerankIn is rerank with the week's passages' words (nil: none), which
// give the same coverage as their texts without reading them again.
func rerankIn(ss []Source, words []weighted, pw *passageWords) {
	rerankQ(ss, newQueryWords(words, pw))
}

// rerankQ is rerankIn with the query's coverage keys made once per search
// (the neighbours use them too).
func rerankQ(ss []Source, q *queryWords) {
	if len(ss) == 0 || len(q.words) == 0 {
		return
	}
	top := ss[0].Score
	for i := range ss {
		anywhere, near, ok := q.wd.coverage(ss[i].ChunkID, ss[i].Content)
		if !ok {
			anywhere, near = coverage(ss[i].Content, q.want, q.weights)
		}
		ss[i].Score = ss[i].Score/top + coverageWeight*anywhere/q.n + proximityWeight*near/q.n
	}
	sortByScore(ss)
}

// queryWords are a search's words with what coverage compares of them:
// their keys (wantOf) and, when the week's passages' words are known,
// those keys in the week's numbering (wanted). Made once per search, for
// the rerank and the neighbours alike.
type queryWords struct {
	words   []weighted
	want    map[string]int
	weights []float64
	n       float64
	wd      *wanted // nil without the week's words
}

func newQueryWords(words []weighted, pw *passageWords) *queryWords {
	q := &queryWords{words: words}
	if len(words) == 0 {
		return q
	}
	q.want, q.weights, q.n = wantOf(words)
	q.wd = pw.wanted(q.want, q.weights)
	return q
}

// sortByScore orders passages best first, keeping the order of ties.
func sortByScore(ss []Source) {
	sort.SliceStable(ss, func(a, b int) bool { return ss[a].Score > ss[b].Score })
}

// wantOf keys the query's words for coverage: each distinct prefix is one
// of the question's words, weighing what its first word weighs (the
// student's come first); n is the sum of the weights.
func wantOf(words []weighted) (want map[string]int, weights []float64, n float64) {
	want = map[string]int{}
	for _, w := range words {
		p := prefix(w.word)
		if _, ok := want[p]; !ok {
			want[p] = len(want)
			weights = append(weights, w.w)
			n += w.w
		}
	}
	return want, weights, n
}

// coverage counts the wanted words (by prefix) in a text: how many occur
// at all, and the most that occur within one window of nearWindow
// consecutive words. It walks the text once without allocating per word:
// it runs on every candidate of every search.
func coverage(text string, want map[string]int, weights []float64) (anywhere, near float64) {
	seen := make([]bool, len(want))
	inWindow := make([]int, len(want)) // occurrences in the window
	var ring [nearWindow]int           // the wanted word each of the last words is, or -1
	distinct, pos := 0.0, 0
	// The wanted prefixes' first bytes: most of a text's words start with
	// none of them and need no map lookup.
	var first [256]bool
	for w := range want {
		if w != "" { // "" (a word of no letters) matches no word
			first[w[0]] = true
		}
	}
	eachWordPrefix(text, func(p []byte) {
		t := -1
		if first[p[0]] {
			if i, ok := want[string(p)]; ok {
				t = i
			}
		}
		if t >= 0 {
			if !seen[t] {
				seen[t] = true
				anywhere += weights[t]
			}
			if inWindow[t] == 0 {
				distinct += weights[t]
			}
			inWindow[t]++
		}
		if pos >= nearWindow {
			if out := ring[pos%nearWindow]; out >= 0 {
				if inWindow[out]--; inWindow[out] == 0 {
					distinct -= weights[out]
				}
			}
		}
		ring[pos%nearWindow] = t
		pos++
		near = max(near, distinct)
	})
	return anywhere, near
}

// eachWordPrefix calls fn with the lower-cased first five letters of each
// run of letters and digits in s (the slice is reused between calls).
func eachWordPrefix(s string, fn func(p []byte)) {
	var buf [5 * utf8.UTFMax]byte
	b := buf[:0]
	runes, in := 0, false
	for i := 0; i < len(s); {
		// ASCII, most of every passage, without unicode's tables: these
		// are exactly its letters and digits, and ToLower's answer.
		var r rune
		if c := s[i]; c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			default:
				if in {
					fn(b)
					b, runes, in = buf[:0], 0, false
				}
				continue
			}
			if runes < 5 {
				b = append(b, c)
				runes++
			}
			in = true
			continue
		} else {
			var n int
			r, n = utf8.DecodeRuneInString(s[i:])
			i += n
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if runes < 5 {
				b = utf8.AppendRune(b, unicode.ToLower(r))
				runes++
			}
			in = true
			continue
		}
		if in {
			fn(b)
			b, runes, in = buf[:0], 0, false
		}
	}
	if in {
		fn(b)
	}
}

// The rerank's weights, measured on the shared QA set (29 questions; BM25
// alone scores 1 at the top). coverageWeight 0 → 1 took recall@1 from
// 0.241 to 0.276 and MRR from 0.342 to 0.371, recall@5 equal. Adding
// proximityWeight 1 over a 20-word window (about a clause) took recall@1
// from 0.276 to 0.345 and MRR from 0.387 to 0.424 (sentence-aligned chunks,
// strict hits), recall@5 equal. Windows of 10 to 40 words all gained
// (recall@1 0.310–0.345), 80 words did not, nor did whole sentences as
// windows; 20 is mid-range, not a tuned optimum.
const (
	coverageWeight  = 1.0
	proximityWeight = 1.0
	nearWindow      = 20
)

// prefix is a query word's key for coverage: its first five letters,
// lower-cased as eachWordPrefix lower-cases a passage's.
func prefix(w string) string {
	var p string
	eachWordPrefix(w, func(b []byte) {
		if p == "" {
			p = string(b)
		}
	})
	return p
}

// queryTerms are the distinct content words of a student's words, in
// order: question words and other stopwords dropped ("what does the court
// say about…" should not match every passage with "the"), single letters
// too but not single digits, at most 64.
func queryTerms(query string) []string {
	var terms []string
	for _, w := range wordsOf(query) {
		// At most 64 terms: looking among them is cheaper than a map.
		if len(w) < 2 && !unicode.IsDigit(rune(w[0])) || stopwords[w] || slices.Contains(terms, w) {
			continue
		}
		terms = append(terms, w)
		if len(terms) == 64 {
			break
		}
	}
	return terms
}

// wordsOf splits text into lower-case runs of letters and digits.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	// Question words, auxiliaries and the commonest function words only:
	// measured on the shared QA set, dropping a longer list (also "not",
	// "no", "may", "shall"…) lost more answers than it gained.
	for _, w := range strings.Fields(`a an the of to in on for and or with by at from as is are was were be been being
		what which who whom whose how why when where do does did doing can could would should will
		this that these those it its there their they them he she his her i you your we our`) {
		m[w] = true
	}
	return m
}()

// passageWords are a week's passages as coverage reads them, made once
// when the week is indexed: each passage's words as numbered 5-letter
// prefixes (eachWordPrefix's), so that reranking a search's candidates
// walks numbers instead of re-reading and lower-casing every candidate's
// text on every turn. The text each was made from is kept to be sure a
// candidate's text is the same before its numbers are used.
type passageWords struct {
	prefixes map[string]int32 // prefix → its number
	of       map[int64]int32  // chunk id → its position in text and words
	text     []string
	words    [][]int32
	bytes    int64 // memory held, roughly
}

func newPassageWords(ids []int64, texts []string) *passageWords {
	pw := &passageWords{prefixes: map[string]int32{}, of: make(map[int64]int32, len(ids)), text: texts, words: make([][]int32, len(texts))}
	for d, text := range texts {
		pw.of[ids[d]] = int32(d)
		var ws []int32
		eachWordPrefix(text, func(p []byte) {
			n, ok := pw.prefixes[string(p)]
			if !ok {
				n = int32(len(pw.prefixes))
				pw.prefixes[string(p)] = n
			}
			ws = append(ws, n)
		})
		pw.words[d] = ws
		pw.bytes += int64(len(text)) + int64(cap(ws))*4 + 48
	}
	pw.bytes += int64(len(pw.prefixes)) * 40
	return pw
}

// wanted is a query's coverage keys (wantOf) in a week's numbering: a
// bit per prefix number the query wants, and which of its words each is.
type wanted struct {
	pw      *passageWords
	bits    []uint64
	nums    []int32 // prefix numbers wanted …
	which   []int   // … and which wanted word each is
	want    map[string]int
	weights []float64
}

func (pw *passageWords) wanted(want map[string]int, weights []float64) *wanted {
	if pw == nil {
		return nil
	}
	wd := &wanted{pw: pw, bits: make([]uint64, (len(pw.prefixes)+63)/64), want: want, weights: weights}
	for p, t := range want {
		if n, ok := pw.prefixes[p]; ok {
			wd.bits[n/64] |= 1 << (n % 64)
			wd.nums = append(wd.nums, n)
			wd.which = append(wd.which, t)
		}
	}
	return wd
}

// coverage is coverage(text, want, weights) for the passage chunkID when
// the week holds its words for exactly that text; ok false otherwise.
func (wd *wanted) coverage(chunkID int64, text string) (anywhere, near float64, ok bool) {
	if wd == nil {
		return 0, 0, false
	}
	d, ok := wd.pw.of[chunkID]
	if !ok || wd.pw.text[d] != text {
		return 0, 0, false
	}
	anywhere, near = wd.cover(wd.pw.words[d], nil)
	return anywhere, near, true
}

// cover is coverage over a text's words in the week's numbering: a number
// n >= 0 is the prefix of that number, n < 0 the prefix extra[-n-1], one
// the week's passages do not have (see weekPassages.edge).
//
// It first finds the wanted words' places (a bit test a word), then
// replays coverage's window on those places alone: elsewhere no word
// enters or leaves the window and the sums do not change. The window's
// sums are made by the same additions and subtractions in the same order
// as coverage's, so the figures are the same to the last bit.
func (wd *wanted) cover(ws []int32, extra []string) (anywhere, near float64) {
	var hitsA [128]hit
	hits := hitsA[:0]
	for pos, n := range ws {
		if n >= 0 {
			if wd.bits[n>>6]&(1<<(uint32(n)&63)) != 0 {
				hits = append(hits, hit{int32(pos), int32(wd.which[slices.Index(wd.nums, n)])})
			}
		} else if t, ok := wd.want[extra[-n-1]]; ok {
			hits = append(hits, hit{int32(pos), int32(t)})
		}
	}
	if len(hits) == 0 {
		return 0, 0
	}
	// A turn has at most 64 words (turnWords): the counts fit on the
	// stack and a search allocates nothing for them.
	var seenA [64]bool
	var inWindowA [64]int
	seen, inWindow := seenA[:], inWindowA[:]
	if len(wd.weights) > len(seenA) {
		seen, inWindow = make([]bool, len(wd.weights)), make([]int, len(wd.weights))
	}
	distinct := 0.0
	// At each place, as coverage: the word there enters the window, the
	// one nearWindow places before leaves it (only before the end), then
	// near is updated.
	end := int32(len(ws))
	in, out := 0, 0 // the next hit to enter, and to leave
	for in < len(hits) || out < len(hits) && hits[out].pos+nearWindow < end {
		at := end
		if in < len(hits) {
			at = hits[in].pos
		}
		if out < len(hits) && hits[out].pos+nearWindow < at {
			at = hits[out].pos + nearWindow
		}
		if in < len(hits) && hits[in].pos == at {
			t := hits[in].t
			if !seen[t] {
				seen[t] = true
				anywhere += wd.weights[t]
			}
			if inWindow[t] == 0 {
				distinct += wd.weights[t]
			}
			inWindow[t]++
			in++
		}
		if out < len(hits) && hits[out].pos+nearWindow == at {
			t := hits[out].t
			if inWindow[t]--; inWindow[t] == 0 {
				distinct -= wd.weights[t]
			}
			out++
		}
		near = max(near, distinct)
	}
	return anywhere, near
}

// hit is a wanted word's place in a text and which wanted word it is.
type hit struct{ pos, t int32 }
