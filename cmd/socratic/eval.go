package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/tutor"
)

// qaItem is one line of a QA file.
type qaItem struct {
	File        string `json:"file"`
	Question    string `json:"question"`
	AnswerQuote string `json:"answer_quote"`
	// A follow-up's conversation: the tutor's last question and the
	// session's theme, searched with the student's words.
	TutorQuestion string `json:"tutor_question,omitempty"`
	Theme         string `json:"theme,omitempty"`
}

func (it qaItem) turn() retrieval.Turn {
	return retrieval.Turn{Student: it.Question, Tutor: it.TutorQuestion, Theme: it.Theme}
}

// evalDepth is how far down the ranking MRR looks.
const evalDepth = 10

// RetrievalScores are what `socratic eval retrieval` reports.
type RetrievalScores struct {
	Rule      string // strict or lenient
	Questions int
	RecallAt1 float64
	RecallAt5 float64
	MRR       float64 // mean reciprocal rank of the first hit in the top evalDepth
	misses    []string
}

// withModelFiles points the scratch data directory, which has no models
// of its own, at the model and ONNX Runtime of the configured one.
func withModelFiles(environ []string) ([]string, error) {
	cfg, err := loadConfig(environ)
	if err != nil {
		return nil, err
	}
	out := append([]string{}, environ...)
	if cfg.EmbeddingsModelPath == "" {
		if _, err := os.Stat(cfg.EmbeddingsModelDir()); err == nil {
			out = append(out, "EMBEDDINGS_MODEL_PATH="+cfg.EmbeddingsModelDir())
		}
	}
	if cfg.ONNXRuntimeLibPath == "" {
		if _, err := os.Stat(runtimeDir(cfg)); err == nil {
			out = append(out, "ONNXRUNTIME_LIB_PATH="+runtimeDir(cfg))
		}
	}
	return out, nil
}

// evalUsage is the command line of `socratic eval retrieval`.
const evalUsage = "usage: socratic eval retrieval (--qa FILE.jsonl | --split dev|test|both) [--sets DIR] [--pdfs DIR] [--tuning SPEC] [--misses]"

// evalCmd is `socratic eval retrieval`: over one QA file (--qa), or over
// the dev and/or test split of the project's labelled set (--split).
func evalCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "moderation" { // eval_moderation.go
		return evalModerationCmd(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "tutor" { // eval_tutor.go
		return evalTutorCmd(ctx, args[1:], environ, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "retrieval" {
		return errors.New(evalUsage)
	}
	fs := flag.NewFlagSet("eval retrieval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	qaPath := fs.String("qa", "", "QA file: one {\"file\", \"question\", \"answer_quote\"} per line")
	split := fs.String("split", "", "dev, test or both: the labelled split(s) in --sets")
	sets := fs.String("sets", filepath.Join("testdata", "eval"), "folder of retrieval-dev.jsonl and retrieval-test.jsonl")
	pdfs := fs.String("pdfs", "", "folder of the PDFs the QA file names (default: pdfs/ beside --qa; testdata/corpus/pdfs for --split)")
	tuningSpec := fs.String("tuning", "", "change search parameters for an experiment: baseline, or name=value,… (k1, b, tutor, theme, rerank, synonyms, neighbours, chat, case, listing, rewrite)")
	misses := fs.Bool("misses", false, "list the questions with no lenient hit in the top 5 (to study dev; do not tune on test)")
	rewrite := fs.Bool("rewrite", false, "also measure QUERY_REWRITE: each question rewritten into a search query by the configured model's fast variant (calls the model once per question)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	tuning, err := retrieval.ParseTuning(retrieval.DefaultTuning, *tuningSpec)
	if err != nil {
		return err
	}
	type run struct{ name, qa, pdfs string }
	var runs []run
	switch {
	case *qaPath != "" && *split == "":
		dir := *pdfs
		if dir == "" {
			dir = filepath.Join(filepath.Dir(*qaPath), "pdfs")
		}
		runs = append(runs, run{"", *qaPath, dir})
	case *qaPath == "" && (*split == "dev" || *split == "test" || *split == "both"):
		dir := *pdfs
		if dir == "" {
			dir = filepath.Join("testdata", "corpus", "pdfs")
		}
		for _, name := range []string{"dev", "test"} {
			if *split == name || *split == "both" {
				runs = append(runs, run{name, filepath.Join(*sets, "retrieval-"+name+".jsonl"), dir})
			}
		}
	default:
		return errors.New(evalUsage)
	}
	for _, r := range runs {
		items, err := readQA(r.qa)
		if err != nil {
			return err
		}
		res, err := evalRetrieval(ctx, environ, items, r.pdfs, tuning, *rewrite)
		if err != nil {
			return err
		}
		printEval(stdout, r.name, r.qa, res)
		if *misses {
			for _, m := range res.Misses {
				fmt.Fprintf(stdout, "miss: %s\n", m)
			}
		}
	}
	return nil
}

// printEval writes one QA file's figures: the strict lines first (their
// format is what scripts and tests read), then the lenient ones.
func printEval(w io.Writer, split, qa string, res evalResult) {
	of := ""
	if split != "" {
		of = fmt.Sprintf(" of the %s split (%s)", split, qa)
	}
	fmt.Fprintf(w, "retrieval over %d questions%s (a hit is a passage containing the answer quote, whitespace-normalised)\n", res.BM25.Questions, of)
	line := func(name string, s RetrievalScores) {
		fmt.Fprintf(w, "%-7s recall@1 %.3f  recall@5 %.3f  MRR@%d %.3f\n", name, s.RecallAt1, s.RecallAt5, evalDepth, s.MRR)
	}
	line("BM25", res.BM25)
	if res.Hybrid != nil {
		line("hybrid", *res.Hybrid)
		fmt.Fprintf(w, "hybrid: BM25 and %s (on %s), fused by reciprocal rank\n", res.Model, orDash(res.Backend))
	} else {
		fmt.Fprintln(w, "hybrid: not measured: no embedding model here (socratic models download, EMBEDDINGS_MODEL_PATH, or EMBEDDINGS_PROVIDER=openai)")
	}
	fmt.Fprintf(w, "lenient (a hit is a passage holding %.0f%% of the answer's words):\n", lenientShare*100)
	line("lenient BM25", res.BM25Lenient)
	if res.HybridLenient != nil {
		line("lenient hybrid", *res.HybridLenient)
	}
	if r := res.Rewrite; r != nil {
		fmt.Fprintf(w, "with QUERY_REWRITE (each question rewritten by the model's fast variant, waited for %s as a turn does; of %d rewrites %d came late, %d failed and %d were empty, each searched without):\n",
			r.Wait, len(r.Latency), r.Late, r.Failed, r.Empty)
		line("rewrite BM25", r.BM25)
		if r.Hybrid != nil {
			line("rewrite hybrid", *r.Hybrid)
		}
		line("lenient rewrite BM25", r.BM25Lenient)
		if r.HybridLenient != nil {
			line("lenient rewrite hybrid", *r.HybridLenient)
		}
		if len(r.Latency) > 0 {
			fmt.Fprintf(w, "rewrite latency p50 %s  p95 %s  max %s (added before the tutor's first word, at most QUERY_REWRITE_WAIT)\n",
				pct(r.Latency, 50).Round(time.Millisecond), pct(r.Latency, 95).Round(time.Millisecond), pct(r.Latency, 100).Round(time.Millisecond))
		}
	}
	if res.QuoteNotInText > 0 {
		fmt.Fprintf(w, "%d quotes are in no passage of their document (text differs from pdftotext's)\n", res.QuoteNotInText)
	}
}

func orDash(s string) string {
	if s == "" {
		return "a server"
	}
	return s
}

func readQA(path string) ([]qaItem, error) {
	return readJSONL(path, `{"file", "question", "answer_quote"}`, func(it qaItem) bool {
		return it.File != "" && it.Question != "" && it.AnswerQuote != "" && !strings.ContainsAny(it.File, `/\`)
	})
}

// readJSONL reads one T per non-blank line of path; a line that does not
// decode, or that valid refuses, is an error naming the line and the
// shape wanted.
func readJSONL[T any](path, want string, valid func(T) bool) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it T
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || !valid(it) {
			return nil, fmt.Errorf("%s:%d: want %s", path, line, want)
		}
		out = append(out, it)
	}
	return out, sc.Err()
}

// evalRetrieval ingests the QA file's PDFs into a scratch week and asks
// every question.
func evalRetrieval(ctx context.Context, environ []string, items []qaItem, pdfDir string, tuning retrieval.Tuning, rewrite bool) (evalResult, error) {
	scratch, err := os.MkdirTemp("", "socratic-eval-")
	if err != nil {
		return evalResult{}, err
	}
	defer os.RemoveAll(scratch)
	environ, err = withModelFiles(environ)
	if err != nil {
		return evalResult{}, err
	}
	sw, err := openScratchWeek(ctx, scratch, environ)
	if err != nil {
		return evalResult{}, err
	}
	defer sw.close(ctx)
	docOf, err := sw.ingest(ctx, qaFiles(items, pdfDir))
	if err != nil {
		return evalResult{}, err
	}
	var res evalResult
	for _, it := range items {
		if !quoteInDocument(ctx, sw, docOf[it.File], evalNorm(it.AnswerQuote)) {
			res.QuoteNotInText++
			res.Misses = append(res.Misses, "(quote in no passage) "+it.AnswerQuote)
		}
	}
	lexical := retrieval.NewSearcher(nil, 0, nil)
	lexical.SetTuning(tuning)
	turns := make([]retrieval.Turn, len(items))
	for i, it := range items {
		turns[i] = it.turn()
	}
	if res.BM25, res.BM25Lenient, err = scoreRetrieval(ctx, sw, items, turns, docOf, lexical); err != nil {
		return res, err
	}
	res.Misses = append(res.Misses, res.BM25Lenient.misses...)
	if rewrite {
		if sw.in.llm == nil {
			return res, errors.New("eval retrieval --rewrite needs a language model: set LLM_PROVIDER and its key (ANTHROPIC_API_KEY, or OPENAI_BASE_URL and OPENAI_MODEL)")
		}
		rw := tutor.NewRewriter(sw.in.llm)
		rt := make([]retrieval.Turn, len(turns))
		r := &rewriteResult{Wait: sw.cfg.QueryRewriteWait}
		for i, t := range turns {
			// As a turn does: what has not come within QUERY_REWRITE_WAIT
			// is searched without.
			rctx, cancel := context.WithTimeout(ctx, r.Wait)
			began := time.Now()
			q, err := rw.Rewrite(rctx, t.Student, t.Tutor, "eval")
			took := time.Since(began)
			cancel()
			r.Latency = append(r.Latency, took)
			switch {
			case err != nil && (took >= r.Wait || errors.Is(err, context.DeadlineExceeded)):
				r.Late++
				q = ""
			case err != nil:
				r.Failed++
				q = ""
			case q == "":
				r.Empty++
			}
			rt[i] = t
			rt[i].Rewrite = q
		}
		if r.BM25, r.BM25Lenient, err = scoreRetrieval(ctx, sw, items, rt, docOf, lexical); err != nil {
			return res, err
		}
		r.turns = rt
		res.Rewrite = r
	}
	if sw.in.indexer == nil {
		return res, nil
	}
	if _, err := sw.in.indexer.EmbedPending(ctx); err != nil {
		return res, err
	}
	sw.in.search.SetTuning(tuning)
	h, hl, err := scoreRetrieval(ctx, sw, items, turns, docOf, sw.in.search)
	if err != nil {
		return res, err
	}
	res.Hybrid, res.HybridLenient = &h, &hl
	if r := res.Rewrite; r != nil {
		// The rewritten query is embedded too (Turn.Text).
		rh, rhl, err := scoreRetrieval(ctx, sw, items, r.turns, docOf, sw.in.search)
		if err != nil {
			return res, err
		}
		r.Hybrid, r.HybridLenient = &rh, &rhl
	}
	res.Model, res.Backend = sw.in.emb.emb.Model(), sw.in.emb.status.Backend
	return res, err
}

// qaFiles are the PDFs a QA file names, each once, in dir.
func qaFiles(items []qaItem, dir string) []string {
	var files []string
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.File] {
			seen[it.File] = true
			files = append(files, filepath.Join(dir, it.File))
		}
	}
	return files
}

// evalResult: BM25's scores, and the hybrid search's where a model is.
type evalResult struct {
	BM25, BM25Lenient     RetrievalScores
	Hybrid, HybridLenient *RetrievalScores
	Model, Backend        string
	QuoteNotInText        int      // quotes found in no passage of their document at all
	Misses                []string // BM25 questions with no lenient hit in its top 5
	Rewrite               *rewriteResult
}

// rewriteResult: BM25 with each question rewritten by the model (--rewrite),
// and what the rewrites took.
type rewriteResult struct {
	BM25, BM25Lenient     RetrievalScores
	Hybrid, HybridLenient *RetrievalScores
	Wait                  time.Duration // QUERY_REWRITE_WAIT
	Latency               []time.Duration
	Late, Failed, Empty   int
	turns                 []retrieval.Turn
}

// scoreRetrieval asks every question of the scratch week (a follow-up
// with its conversation), and scores the answers by both hit rules.
func scoreRetrieval(ctx context.Context, sw *scratchWeek, items []qaItem, turns []retrieval.Turn, docOf map[string]int64, searcher *retrieval.Searcher) (strict, lenient RetrievalScores, err error) {
	strict.Rule, lenient.Rule = "strict", "lenient"
	for i, it := range items {
		quote := evalNorm(it.AnswerQuote)
		words := wordSet(quote)
		hits, err := searcher.SearchTurn(ctx, sw.d.db.Read, sw.week.ID, turns[i], evalDepth)
		if err != nil {
			return strict, lenient, err
		}
		strict.add(hits, func(h retrieval.Source) bool {
			return h.DocumentID == docOf[it.File] && isHit(evalNorm(h.Content), quote)
		})
		if rank := lenient.add(hits, func(h retrieval.Source) bool {
			return h.DocumentID == docOf[it.File] && isLenientHit(evalNorm(h.Content), words)
		}); rank < 0 || rank >= 5 {
			top := ""
			if len(hits) > 0 {
				top = hits[0].Filename + ": " + strings.Join(strings.Fields(hits[0].Content), " ")
				top = top[:min(len(top), 160)]
			}
			lenient.misses = append(lenient.misses, fmt.Sprintf("rank %d: %q | %s\n      top: %s", rank+1, turns[i].Text(), it.AnswerQuote, top))
		}
	}
	strict.finish()
	lenient.finish()
	return strict, lenient, nil
}

// add scores one question's ranking and returns the rank of its first hit
// (from 0; -1: none).
func (s *RetrievalScores) add(hits []retrieval.Source, hit func(retrieval.Source) bool) int {
	s.Questions++
	for rank, h := range hits {
		if hit(h) {
			if rank == 0 {
				s.RecallAt1++
			}
			if rank < 5 {
				s.RecallAt5++
			}
			s.MRR += 1 / float64(rank+1)
			return rank
		}
	}
	return -1
}

func (s *RetrievalScores) finish() {
	n := float64(max(s.Questions, 1))
	s.RecallAt1, s.RecallAt5, s.MRR = s.RecallAt1/n, s.RecallAt5/n, s.MRR/n
}

func quoteInDocument(ctx context.Context, sw *scratchWeek, docID int64, quote string) bool {
	rows, err := sw.d.db.Read.QueryContext(ctx, `SELECT content FROM chunks WHERE document_id = ?`, docID)
	if err != nil {
		return false
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		rows.Scan(&c)
		if isHit(evalNorm(c), quote) {
			return true
		}
	}
	return false
}

// isHit: the passage holds the whole answer quote (both sides
// whitespace-normalised by evalNorm), as the issue defines a hit.
func isHit(passage, quote string) bool {
	return strings.Contains(passage, quote)
}

// lenientShare is the lenient rule's: a passage holding this share of
// the answer quote's distinct words is a hit (the lenient rule),
// so a quote cut by a chunk boundary, or whose text extraction differs a
// little, still counts where the passage plainly holds the answer.
const lenientShare = 0.7

// isLenientHit: the passage holds at least lenientShare of the quote's
// distinct words (both evalNorm'ed).
func isLenientHit(passage string, quoteWords map[string]bool) bool {
	if len(quoteWords) == 0 {
		return false
	}
	have := wordSet(passage)
	n := 0
	for w := range quoteWords {
		if have[w] {
			n++
		}
	}
	return float64(n) >= lenientShare*float64(len(quoteWords))
}

// wordSet is the distinct runs of letters and digits of a normalised text.
func wordSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out[w] = true
	}
	return out
}

// evalNorm applies our text cleanup to both sides (the quotes keep
// pdftotext's characters: ligatures, soft hyphens, curly quotes) and
// collapses whitespace.
func evalNorm(s string) string {
	s = pdftext.Normalize(s)
	s = strings.NewReplacer("‘", "'", "’", "'", "“", "\"", "”", "\"").Replace(s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
