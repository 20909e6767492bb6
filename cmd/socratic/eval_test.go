package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The BM25 figures measured on ../shared/corpus/qa.jsonl when this test was
// written; a change that loses more than the margin fails here.
const (
	bm25RecallAt5 = 0.483
	bm25MRR       = 0.371
	evalMargin    = 0.04
)

func TestEvalRetrievalBM25(t *testing.T) {
	qa := filepath.Join("..", "..", "..", "shared", "corpus", "qa.jsonl")
	out := &syncBuffer{}
	if err := run(context.Background(), []string{"eval", "retrieval", "--qa", qa}, nil, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if !strings.Contains(out.String(), "recall@1") || !strings.Contains(out.String(), "over 29 questions") {
		t.Fatalf("output:\n%s", out.String())
	}
	items, err := readQA(qa)
	if err != nil {
		t.Fatal(err)
	}
	s, err := evalRetrieval(context.Background(), nil, items, filepath.Join(filepath.Dir(qa), "pdfs"))
	if err != nil {
		t.Fatal(err)
	}
	if s.QuoteNotInText != 0 {
		t.Errorf("%d answer quotes are in no passage of their document", s.QuoteNotInText)
	}
	if s.RecallAt5 < bm25RecallAt5-evalMargin || s.MRR < bm25MRR-evalMargin {
		t.Errorf("retrieval regressed: recall@5 %.3f (was %.3f), MRR %.3f (was %.3f)", s.RecallAt5, bm25RecallAt5, s.MRR, bm25MRR)
	}
}
