package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/testenv"
)

// The corpus's readings as the server stores them (PDFium's text, cut by
// the default splitter: CHUNK_SIZE 1000, CHUNK_OVERLAP 200), and the eval's
// questions as turns: what a search meets in a real week.

var (
	corpusOnce   sync.Once
	corpusChunks map[string][]document.Chunk // file name → its passages
	corpusErr    error
)

// corpusPassages extracts and splits every PDF of the corpus once per test
// binary.
func corpusPassages(t testing.TB) map[string][]document.Chunk {
	t.Helper()
	corpusOnce.Do(func() {
		pdf := pdftext.New(pdftext.Options{CacheDir: testenv.WazeroCache(), Workers: 1, MemoryLimitMB: 256})
		defer pdf.Close()
		files, err := filepath.Glob(filepath.Join(testenv.Corpus(), "*.pdf"))
		if err != nil || len(files) == 0 {
			corpusErr = err
			if err == nil {
				corpusErr = os.ErrNotExist
			}
			return
		}
		corpusChunks = map[string][]document.Chunk{}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				corpusErr = err
				return
			}
			pages, err := pdf.Extract(context.Background(), data, 0, nil)
			if err != nil {
				corpusErr = err
				return
			}
			text, starts := document.Assemble(pages)
			corpusChunks[filepath.Base(f)] = document.Splitter{Size: 1000, Overlap: 200}.Split(text, starts)
		}
	})
	if corpusErr != nil {
		t.Fatalf("corpus: %v", corpusErr)
	}
	return corpusChunks
}

// corpusWeek adds the named corpus files (none: all) to a new week as
// processed documents with their real spans, and returns the week.
func corpusWeek(t testing.TB, d *db, files ...string) int64 {
	t.Helper()
	all := corpusPassages(t)
	if len(files) == 0 {
		for f := range all {
			files = append(files, f)
		}
		sort.Strings(files)
	}
	wk := d.week(d.course("C"+t.Name()), 1)
	for _, f := range files {
		chunks, ok := all[f]
		if !ok {
			t.Fatalf("no corpus file %s", f)
		}
		d.seq++
		doc := d.exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, ?, ?, 1, 'processed', 'now')`,
			wk, f, fmt.Sprintf("%064d", d.seq))
		for _, c := range chunks {
			d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, doc, wk, c.Index, c.Page, c.Start, c.End, c.Content, c.TokenCount)
		}
	}
	return wk
}

// evalTurns are the questions of both eval splits as turns (as
// `socratic eval retrieval` searches them), with their files.
func evalTurns(t testing.TB) (turns []Turn, files []string) {
	t.Helper()
	for _, split := range []string{"dev", "test"} {
		f, err := os.Open(testenv.Path("eval", "retrieval-"+split+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var it struct {
				File          string `json:"file"`
				Question      string `json:"question"`
				TutorQuestion string `json:"tutor_question"`
				Theme         string `json:"theme"`
			}
			if len(sc.Bytes()) == 0 {
				continue
			}
			if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
				t.Fatal(err)
			}
			turns = append(turns, Turn{Student: it.Question, Tutor: it.TutorQuestion, Theme: it.Theme})
			files = append(files, it.File)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(turns) < 150 {
		t.Fatalf("%d eval questions, want the 150 or more of both splits", len(turns))
	}
	return turns, files
}

// BenchmarkSearchTurnCorpus is a tutoring turn's search (SearchTurn, the
// default tuning, k 5, the week already in memory) over real readings,
// with the eval's questions in turn: "reading" is a week of the corpus's
// smallest PDF, as `socratic bench sessions` has; "corpus" a week of all
// sixteen.
func BenchmarkSearchTurnCorpus(b *testing.B) {
	turns, _ := evalTurns(b)
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"reading", []string{"ca1-calvary-chapel-of-bangor-v-mills-2020.pdf"}},
		{"corpus", nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := newDB(b)
			wk := corpusWeek(b, d, tc.files...)
			s := NewSearcher(nil, 0, nil)
			ctx := context.Background()
			if _, err := s.SearchTurn(ctx, d.Read, wk, turns[0], 5); err != nil { // builds the index
				b.Fatal(err)
			}
			b.ReportAllocs()
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

// TestNeighboursFromEdgeWordsAsFromText: the neighbours compared as the
// week's numbered words (weekPassages.edge) extend exactly the passages,
// by exactly the text, that reading the texts across their edges did
// (withNeighbours: the neighbours from the database, coverage from the
// text), over every passage of the corpus, with the eval's questions and
// with questions made of the words across each passage's edges.
func TestNeighboursFromEdgeWordsAsFromText(t *testing.T) {
	d := newDB(t)
	wk := corpusWeek(t, d)
	turns, _ := evalTurns(t)
	ctx := context.Background()
	s := NewSearcher(nil, 0, nil)
	w, err := s.cache.week(ctx, d.Read, wk, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.pass.meta) < 1000 {
		t.Fatalf("%d passages in the corpus week, want the corpus's thousand or more", len(w.pass.meta))
	}
	extended := map[string]int{}
	check := func(words []weighted, ids ...int64) {
		t.Helper()
		var want, got []Source
		for _, id := range ids {
			src, ok := w.pass.source(id)
			if !ok {
				t.Fatalf("passage %d not in the week's copy", id)
			}
			want, got = append(want, src), append(got, src)
		}
		if err := withNeighbours(ctx, d.Read, want, words, len(ids)); err != nil {
			t.Fatal(err)
		}
		if err := neighboursQ(ctx, d.Read, got, newQueryWords(words, w.lex.words), len(ids), w.pass); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("passage %d with %v:\n got %q\nwant %q", ids[i], words, got[i].Content, want[i].Content)
			}
			orig, _ := w.pass.source(ids[i])
			switch {
			case want[i].Content == orig.Content:
				extended["no"]++
			case strings.HasPrefix(want[i].Content, strings.TrimRightFunc(orig.Content, unicode.IsSpace)):
				extended["after"]++
			default:
				extended["before"]++
			}
		}
	}
	for i, m := range w.pass.meta {
		// An eval question, and the words across the passage's edges.
		check(DefaultTuning.turnWords(turns[i%len(turns)]), m.id)
		text := w.pass.text[i]
		e := w.pass.edge(int32(i))
		if e.side == nil {
			continue
		}
		across := strings.Join(lastFields(tailOf(text, 60), 4), " ") + " " + strings.Join(firstFields(e.side.after, 4), " ")
		check(DefaultTuning.turnWords(Turn{Student: across}), m.id)
		across = strings.Join(lastFields(e.side.before, 4), " ") + " " + strings.Join(firstFields(headOf(text, 60), 4), " ")
		check(DefaultTuning.turnWords(Turn{Student: across}), m.id)
	}
	// And each question's first results together, as a turn extends them.
	for _, turn := range turns {
		words := DefaultTuning.turnWords(turn)
		out, err := s.bm25(ctx, d.Read, w, wk, turn, words, MaxK)
		if err != nil {
			t.Fatal(err)
		}
		check(words, ids(out)...)
	}
	if extended["after"] < 100 || extended["before"] < 100 {
		t.Fatalf("extensions %v: the comparison should have extended many passages each way", extended)
	}
	t.Logf("extensions %v", extended)
}

func firstFields(s string, n int) []string {
	f := strings.Fields(s)
	return f[:min(n, len(f))]
}

func lastFields(s string, n int) []string {
	f := strings.Fields(s)
	return f[max(0, len(f)-n):]
}

// TestSearchTurnAsBefore: a turn's search over the corpus gives, for every
// eval question and each tuning measured, exactly what the search gave
// before its neighbours were compared as numbered words: BM25's first
// results, reranked, extended by withNeighbours reading the texts.
func TestSearchTurnAsBefore(t *testing.T) {
	d := newDB(t)
	wk := corpusWeek(t, d)
	turns, _ := evalTurns(t)
	ctx := context.Background()
	on := DefaultTuning
	on.Chat, on.CaseBoost, on.Listing = true, 1, 0.5
	for _, tn := range []Tuning{DefaultTuning, baselineTuning, on} {
		s := NewSearcher(nil, 0, nil)
		s.SetTuning(tn)
		for _, turn := range turns {
			for _, k := range []int{1, 5, 10} {
				got, err := s.SearchTurn(ctx, d.Read, wk, turn, k)
				if err != nil {
					t.Fatal(err)
				}
				w, err := s.cache.week(ctx, d.Read, wk, "")
				if err != nil {
					t.Fatal(err)
				}
				words := tn.turnWords(turn)
				want, err := s.bm25(ctx, d.Read, w, wk, turn, words, k)
				if err != nil {
					t.Fatal(err)
				}
				want = want[:min(k, len(want))]
				if tn.Neighbours {
					if err := withNeighbours(ctx, d.Read, want, words, neighbourResults); err != nil {
						t.Fatal(err)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%+v, k %d, tuning %+v:\n got %+v\nwant %+v", turn, k, tn, got, want)
				}
			}
		}
	}
}

// TestNeighbourCutInsideAWord: a neighbour's text cut inside a word gives
// a prefix no passage of the week has; the numbered edges still find it
// as the text did.
func TestNeighbourCutInsideAWord(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("W"), 1)
	doc := d.exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'cut.pdf', ?, 1, 'processed', 'now')`,
		wk, fmt.Sprintf("%064d", 1))
	// The document's text: "aaaa bbbb cccc zebrafish dddd"; the first
	// passage ends inside "zebrafish", the second starts at it.
	first := d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
		VALUES (?, ?, 0, 1, 0, 17, 'aaaa bbbb cccc ze', 4)`, doc, wk)
	d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
		VALUES (?, ?, 1, 1, 15, 29, 'zebrafish dddd', 2)`, doc, wk)
	ctx := context.Background()
	s := NewSearcher(nil, 0, nil)
	w, err := s.cache.week(ctx, d.Read, wk, "")
	if err != nil {
		t.Fatal(err)
	}
	words := DefaultTuning.turnWords(Turn{Student: "brafish"})
	src, _ := w.pass.source(first)
	want, got := []Source{src}, []Source{src}
	if err := withNeighbours(ctx, d.Read, want, words, 1); err != nil {
		t.Fatal(err)
	}
	if err := neighboursQ(ctx, d.Read, got, newQueryWords(words, w.lex.words), 1, w.pass); err != nil {
		t.Fatal(err)
	}
	if want[0].Content != "aaaa bbbb cccc ze brafish dddd" || got[0] != want[0] {
		t.Fatalf("got %q, want %q (as the text gives)", got[0].Content, want[0].Content)
	}
	pos, _ := w.pass.position(first)
	if e := w.pass.edge(pos); !slices.Equal(e.extra, []string{"brafi"}) {
		t.Fatalf("extra prefixes %q, want the cut word's", e.extra)
	}
}

// TestBM25FirstAsSorted: BM25's first candidates, kept in the typed heap,
// are exactly the passages' scores sorted best first (ties by position),
// for every eval question over the corpus.
func TestBM25FirstAsSorted(t *testing.T) {
	d := newDB(t)
	wk := corpusWeek(t, d)
	turns, _ := evalTurns(t)
	s := NewSearcher(nil, 0, nil)
	w, err := s.cache.week(context.Background(), d.Read, wk, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, turn := range turns {
		var terms []weighted
		for _, qw := range DefaultTuning.turnWords(turn) {
			for _, st := range lexTerms(qw.word, nil) {
				if !slices.ContainsFunc(terms, func(t weighted) bool { return t.word == st }) {
					terms = append(terms, weighted{st, qw.w})
				}
			}
		}
		docs, scores := w.lex.search(terms, candidates, bm25K1, bm25B)
		// Every passage with a score, by a plain sort.
		all, allScores := w.lex.search(terms, len(w.lex.ids), bm25K1, bm25B)
		var ref []scored
		for i, d := range all {
			ref = append(ref, scored{int(d), allScores[i]})
		}
		sort.Slice(ref, func(a, b int) bool { return worse(ref[b], ref[a]) })
		if len(docs) != min(candidates, len(ref)) || len(docs) == 0 {
			t.Fatalf("%q: %d candidates of %d scored", turn.Student, len(docs), len(ref))
		}
		for i := range docs {
			if int(docs[i]) != ref[i].i || scores[i] != ref[i].score {
				t.Fatalf("%q: candidate %d is %d (%v), sorted %d (%v)", turn.Student, i, docs[i], scores[i], ref[i].i, ref[i].score)
			}
		}
	}
}

// turnWordsBefore is Tuning.turnWords as it was written before (maps of
// the words seen, each expansion joined and split again on every turn):
// the reference TestTurnWordsAsBefore holds the new one to.
func turnWordsBefore(t Tuning, turn Turn) []weighted {
	queryTermsBefore := func(query string) []string {
		var terms []string
		seen := map[string]bool{}
		for _, w := range wordsOf(query) {
			if len(w) < 2 && !unicode.IsDigit(rune(w[0])) || stopwords[w] || seen[w] {
				continue
			}
			seen[w] = true
			terms = append(terms, w)
			if len(terms) == 64 {
				break
			}
		}
		return terms
	}
	var out []weighted
	seen := map[string]bool{}
	add := func(text string, w float64, chat bool) {
		if w <= 0 {
			return
		}
		for _, word := range queryTermsBefore(text) {
			if t.Chat && chat && w == 1 && chatWords[word] {
				continue
			}
			if !seen[word] && len(out) < 64 {
				seen[word] = true
				out = append(out, weighted{word, w})
			}
		}
	}
	add(turn.Student, 1, true)
	add(turn.Rewrite, t.RewriteWeight, false)
	add(turn.Tutor, t.TutorWeight, true)
	add(turn.Theme, t.ThemeWeight, true)
	if t.Synonyms > 0 {
		for _, word := range queryTermsBefore(turn.Student) {
			add(strings.Join(expansions[word], " "), t.Synonyms, true)
		}
	}
	return out
}

// TestTurnWordsAsBefore: a turn's words are what they were, for every eval
// question (with a rewrite and a theme made of other questions' words, and
// one turn of more than 64 words) under each tuning measured.
func TestTurnWordsAsBefore(t *testing.T) {
	turns, _ := evalTurns(t)
	var long []string
	for _, turn := range turns[:40] {
		long = append(long, turn.Student)
	}
	turns = append(turns, Turn{Student: strings.Join(long, " "), Tutor: strings.Join(long, " ")})
	on := DefaultTuning
	on.Chat, on.ThemeWeight, on.RewriteWeight, on.TutorWeight, on.Synonyms = true, 0.3, 0.7, 0.5, 0.25
	for _, tn := range []Tuning{DefaultTuning, baselineTuning, on} {
		for i, turn := range turns {
			turn.Rewrite = turns[(i+1)%len(turns)].Student
			turn.Theme = turns[(i+2)%len(turns)].Tutor
			got, want := tn.turnWords(turn), turnWordsBefore(tn, turn)
			if !slices.Equal(got, want) || len(got) == 0 {
				t.Fatalf("%+v under %+v:\n got %v\nwant %v", turn, tn, got, want)
			}
		}
	}
	if n := len(DefaultTuning.turnWords(turns[len(turns)-1])); n != 64 {
		t.Fatalf("the long turn has %d words, want the 64 kept", n)
	}
}

// TestStemsAsLexTerms: a word's terms from the week's stems are
// lexTerms's, for every word the corpus's passages hold as written and
// every word of the eval's questions (most found there, some not).
func TestStemsAsLexTerms(t *testing.T) {
	d := newDB(t)
	wk := corpusWeek(t, d)
	turns, _ := evalTurns(t)
	s := NewSearcher(nil, 0, nil)
	w, err := s.cache.week(context.Background(), d.Read, wk, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.lex.stems) < 5000 {
		t.Fatalf("%d words in the corpus's stems", len(w.lex.stems))
	}
	words := []string{"négligence", "Straße", "x²", "naïve"}
	for word := range w.lex.stems {
		words = append(words, word)
	}
	found := 0
	for _, turn := range turns {
		for _, qw := range DefaultTuning.turnWords(turn) {
			words = append(words, qw.word)
			if _, ok := w.lex.stems[qw.word]; ok {
				found++
			}
		}
	}
	if found < 500 {
		t.Fatalf("only %d of the questions' words in the stems", found)
	}
	for _, word := range words {
		if got, want := w.lex.terms(nil, word), lexTerms(word, nil); !slices.Equal(got, want) {
			t.Fatalf("%q: %q from the stems, %q from lexTerms", word, got, want)
		}
	}
}

// TestCoverFromPlacesAsText: coverage replayed on the wanted words' places
// (wanted.cover) is coverage read from the text, to the last bit, for
// every passage of the corpus with the eval's questions, under weights
// that are not sums of halves (0.3, 0.7, 0.1) as well as the default's.
func TestCoverFromPlacesAsText(t *testing.T) {
	d := newDB(t)
	wk := corpusWeek(t, d)
	turns, _ := evalTurns(t)
	s := NewSearcher(nil, 0, nil)
	w, err := s.cache.week(context.Background(), d.Read, wk, "")
	if err != nil {
		t.Fatal(err)
	}
	odd := DefaultTuning
	odd.TutorWeight, odd.ThemeWeight, odd.Synonyms, odd.RewriteWeight = 0.3, 0.1, 0.7, 0.7
	pw := w.lex.words
	nonzero := 0
	for i, turn := range turns {
		turn.Theme = turns[(i+1)%len(turns)].Student
		turn.Rewrite = turns[(i+2)%len(turns)].Student
		for _, tn := range []Tuning{DefaultTuning, odd} {
			words := tn.turnWords(turn)
			want, weights, _ := wantOf(words)
			wd := pw.wanted(want, weights)
			// Every passage for a few questions, a stride of them for the rest.
			stride := 7
			if i%20 == 0 {
				stride = 1
			}
			for p := i % stride; p < len(pw.text); p += stride {
				any1, near1 := coverage(pw.text[p], want, weights)
				any2, near2, ok := wd.coverage(w.lex.ids[p], pw.text[p])
				if !ok || any1 != any2 || near1 != near2 {
					t.Fatalf("%q over passage %d: places give %v %v (ok %v), the text %v %v", turn.Student, p, any2, near2, ok, any1, near1)
				}
				if near1 > 0 {
					nonzero++
				}
			}
		}
	}
	if nonzero < 10000 {
		t.Fatalf("only %d comparisons found any wanted word", nonzero)
	}
}
