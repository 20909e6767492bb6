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

	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// qaItem is one line of a QA file.
type qaItem struct {
	File        string `json:"file"`
	Question    string `json:"question"`
	AnswerQuote string `json:"answer_quote"`
}

// evalDepth is how far down the ranking MRR looks.
const evalDepth = 10

// RetrievalScores are what `socratic eval retrieval` reports.
type RetrievalScores struct {
	Questions int
	RecallAt1 float64
	RecallAt5 float64
	MRR       float64 // mean reciprocal rank of the first hit in the top evalDepth
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

// evalCmd is `socratic eval retrieval --qa FILE.jsonl [--pdfs DIR]`.
func evalCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "moderation" { // eval_moderation.go
		return evalModerationCmd(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "retrieval" {
		return errors.New("usage: socratic eval retrieval --qa FILE.jsonl [--pdfs DIR]")
	}
	fs := flag.NewFlagSet("eval retrieval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	qaPath := fs.String("qa", "", "QA file: one {\"file\", \"question\", \"answer_quote\"} per line")
	pdfs := fs.String("pdfs", "", "folder of the PDFs the QA file names (default: pdfs/ beside it)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *qaPath == "" {
		return errors.New("usage: socratic eval retrieval --qa FILE.jsonl [--pdfs DIR]")
	}
	if *pdfs == "" {
		*pdfs = filepath.Join(filepath.Dir(*qaPath), "pdfs")
	}
	items, err := readQA(*qaPath)
	if err != nil {
		return err
	}
	res, err := evalRetrieval(ctx, environ, items, *pdfs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "retrieval over %d questions (a hit is a passage containing the answer quote, whitespace-normalised)\n", res.BM25.Questions)
	line := func(name string, s RetrievalScores) {
		fmt.Fprintf(stdout, "%-7s recall@1 %.3f  recall@5 %.3f  MRR@%d %.3f\n", name, s.RecallAt1, s.RecallAt5, evalDepth, s.MRR)
	}
	line("BM25", res.BM25)
	if res.Hybrid != nil {
		line("hybrid", *res.Hybrid)
		fmt.Fprintf(stdout, "hybrid: BM25 and %s (on %s), fused by reciprocal rank\n", res.Model, orDash(res.Backend))
	} else {
		fmt.Fprintln(stdout, "hybrid: not measured: no embedding model here (socratic models download, EMBEDDINGS_MODEL_PATH, or EMBEDDINGS_PROVIDER=openai)")
	}
	if res.QuoteNotInText > 0 {
		fmt.Fprintf(stdout, "%d quotes are in no passage of their document (text differs from pdftotext's)\n", res.QuoteNotInText)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "a server"
	}
	return s
}

func readQA(path string) ([]qaItem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []qaItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it qaItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.File == "" || it.Question == "" || it.AnswerQuote == "" {
			return nil, fmt.Errorf("%s:%d: want {\"file\", \"question\", \"answer_quote\"}", path, line)
		}
		items = append(items, it)
	}
	return items, sc.Err()
}

// evalRetrieval ingests the QA file's PDFs into a scratch week and asks
// every question.
func evalRetrieval(ctx context.Context, environ []string, items []qaItem, pdfDir string) (evalResult, error) {
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
		}
	}
	if res.BM25, err = scoreRetrieval(ctx, sw, items, docOf, retrieval.NewSearcher(nil, 0, nil)); err != nil {
		return res, err
	}
	if sw.in.indexer == nil {
		return res, nil
	}
	if _, err := sw.in.indexer.EmbedPending(ctx); err != nil {
		return res, err
	}
	h, err := scoreRetrieval(ctx, sw, items, docOf, sw.in.search)
	res.Hybrid = &h
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
	BM25           RetrievalScores
	Hybrid         *RetrievalScores
	Model, Backend string
	QuoteNotInText int // quotes found in no passage of their document at all
}

// scoreRetrieval asks every question of the scratch week.
func scoreRetrieval(ctx context.Context, sw *scratchWeek, items []qaItem, docOf map[string]int64, searcher *retrieval.Searcher) (RetrievalScores, error) {
	var s RetrievalScores
	for _, it := range items {
		s.Questions++
		quote := evalNorm(it.AnswerQuote)
		hits, err := searcher.Search(ctx, sw.d.db.Read, sw.week.ID, it.Question, evalDepth)
		if err != nil {
			return s, err
		}
		for rank, h := range hits {
			if h.DocumentID == docOf[it.File] && isHit(evalNorm(h.Content), quote) {
				if rank == 0 {
					s.RecallAt1++
				}
				if rank < 5 {
					s.RecallAt5++
				}
				s.MRR += 1 / float64(rank+1)
				break
			}
		}
	}
	n := float64(max(s.Questions, 1))
	s.RecallAt1, s.RecallAt5, s.MRR = s.RecallAt1/n, s.RecallAt5/n, s.MRR/n
	return s, nil
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

// evalNorm applies our text cleanup to both sides (the quotes keep
// pdftotext's characters: ligatures, soft hyphens, curly quotes) and
// collapses whitespace.
func evalNorm(s string) string {
	s = pdftext.Normalize(s)
	s = strings.NewReplacer("‘", "'", "’", "'", "“", "\"", "”", "\"").Replace(s)
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
