package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/retrieval/local/localtest"
	"github.com/lawtutor/socratic/internal/testenv"
)

// The BM25 figures measured on testdata/corpus/qa.jsonl (sentence-aligned
// chunks, BM25 with b 0.3, reranked by word coverage and proximity:
// recall@1 0.414, with issue 18's word expansions and neighbouring
// passages recall@5 0.552, MRR 0.461 — the 0.586 and 0.478 recorded
// before were not what this command prints, at that commit or since, on
// 2026-12-05); a change that loses more than the margin fails here.
//
// A hit is a passage holding the whole answer quote, whitespace-normalised
// (the issue's definition). Before sentence-aligned chunks and the
// proximity rerank: recall@1 0.276, recall@5 0.483, MRR 0.371; before
// issue 18: recall@5 0.517, MRR 0.462.
const (
	bm25RecallAt5 = 0.552
	bm25MRR       = 0.461
	evalMargin    = 0.04
)

func TestEvalRetrievalBM25(t *testing.T) {
	qa := testenv.QA()
	out := &syncBuffer{}
	if err := run(context.Background(), []string{"eval", "retrieval", "--qa", qa}, nil, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	var r5, mrr float64
	m := regexp.MustCompile(`recall@1 ([0-9.]+)  recall@5 ([0-9.]+)  MRR@10 ([0-9.]+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), "over 29 questions") {
		t.Fatalf("output:\n%s", out.String())
	}
	fmt.Sscan(m[2], &r5)
	fmt.Sscan(m[3], &mrr)
	if strings.Contains(out.String(), "in no passage of their document") {
		t.Errorf("some answer quotes are in no passage of their document")
	}
	if r5 < bm25RecallAt5-evalMargin || mrr < bm25MRR-evalMargin {
		t.Errorf("retrieval regressed: recall@5 %.3f (was %.3f), MRR %.3f (was %.3f)", r5, bm25RecallAt5, mrr, bm25MRR)
	}
}

// TestEvalRetrievalHybridRuns: with a model present (the tiny BERT: random
// weights, so its figures mean nothing), eval embeds the scratch week and
// reports the hybrid search beside BM25, whose figures do not change.
func TestEvalRetrievalHybridRuns(t *testing.T) {
	qa := testenv.QA()
	environ := []string{"EMBEDDINGS_MODEL_PATH=" + localtest.TinyModelDir(t)}
	if lib := os.Getenv("ONNXRUNTIME_LIB_PATH"); lib != "" {
		environ = append(environ, "ONNXRUNTIME_LIB_PATH="+lib)
	}
	out := &syncBuffer{}
	if err := run(context.Background(), []string{"eval", "retrieval", "--qa", qa}, environ, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	lines := regexp.MustCompile(`(?m)^(BM25|hybrid) +recall@1 ([0-9.]+)  recall@5 ([0-9.]+)  MRR@10 ([0-9.]+)$`).FindAllStringSubmatch(out.String(), -1)
	if len(lines) != 2 || lines[0][1] != "BM25" || lines[1][1] != "hybrid" {
		t.Fatalf("want a BM25 and a hybrid line:\n%s", out.String())
	}
	var r5 float64
	fmt.Sscan(lines[0][3], &r5)
	if r5 < bm25RecallAt5-evalMargin {
		t.Errorf("BM25 recall@5 %.3f beside a model", r5)
	}
	if !strings.Contains(out.String(), "sentence-transformers/all-MiniLM-L6-v2@") {
		t.Errorf("the hybrid line does not name the model and its hash:\n%s", out.String())
	}
}

// The BM25 figures on the project's labelled splits (testdata/eval, split
// by document) with DefaultTuning, lenient rule (a passage holding 70% of
// the answer's words): dev recall@5 0.775, test 0.842 (the issue's target
// on held-out questions is 0.70). Measured with
// `socratic eval retrieval --split both`.
const (
	devLenientRecallAt5  = 0.775
	testLenientRecallAt5 = 0.842
	issueTargetRecallAt5 = 0.70
)

// TestEvalRetrievalSplits runs the real ingestion and search over the dev
// and test documents and fails when lenient recall@5 falls more than the
// margin below what was measured — or below the issue's 0.70 target less
// the margin, whichever is higher.
func TestEvalRetrievalSplits(t *testing.T) {
	out := &syncBuffer{}
	args := []string{"eval", "retrieval", "--split", "both", "--sets", testenv.Path("eval"), "--pdfs", testenv.Corpus()}
	if err := run(context.Background(), args, nil, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	blocks := regexp.MustCompile(`(?s)over (\d+) questions of the (dev|test) split.*?\nlenient BM25 recall@1 ([0-9.]+)  recall@5 ([0-9.]+)  MRR@10 ([0-9.]+)`).FindAllStringSubmatch(out.String(), -1)
	if len(blocks) != 2 || blocks[0][2] != "dev" || blocks[1][2] != "test" {
		t.Fatalf("want a dev and a test block with a lenient line:\n%s", out.String())
	}
	for _, b := range blocks {
		var n int
		var r5 float64
		fmt.Sscan(b[1], &n)
		fmt.Sscan(b[4], &r5)
		measured, minQuestions := devLenientRecallAt5, 80
		if b[2] == "test" {
			measured, minQuestions = testLenientRecallAt5, 76
		}
		if n < minQuestions {
			t.Errorf("%s split: %d questions, want %d", b[2], n, minQuestions)
		}
		if floor := max(measured, issueTargetRecallAt5) - evalMargin; r5 < floor {
			t.Errorf("%s split: lenient recall@5 %.3f, below %.3f (measured %.3f, margin %.2f)", b[2], r5, floor, measured, evalMargin)
		}
	}
}
