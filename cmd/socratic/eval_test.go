package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The BM25 figures measured on ../shared/corpus/qa.jsonl (sentence-aligned
// chunks, BM25 reranked by word coverage and proximity); a change that loses
// more than the margin fails here.
//
// A hit is a passage holding the whole answer quote, whitespace-normalised
// (the definition). Before sentence-aligned chunks and the
// proximity rerank: recall@1 0.276, recall@5 0.483, MRR 0.371.
const (
	bm25RecallAt5 = 0.517
	bm25MRR       = 0.424
	evalMargin    = 0.04
)

func TestEvalRetrievalBM25(t *testing.T) {
	qa := filepath.Join("..", "..", "..", "shared", "corpus", "qa.jsonl")
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
