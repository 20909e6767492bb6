package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

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
