package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestEvalTutor runs the scripted dialogues through the real tutor over
// the corpus PDFs, offline and with the fake model, and holds the issue's
// thresholds (the command's own): every reply ends on one question and is
// under 60 words, 95% quote a whole sentence of the reading with title and
// page, no opener or quote repeats in a session, 80% of the turns naming
// a case quote a passage naming it. -short runs the test split offline.
func TestEvalTutor(t *testing.T) {
	args := []string{"eval", "tutor", "--dialogues", testenv.Path("eval", "tutor-dialogues.jsonl"), "--pdfs", testenv.Corpus()}
	if testing.Short() {
		args = append(args, "--split", "test", "--model", "offline")
	}
	out := &syncBuffer{}
	err := run(context.Background(), args, nil, nil, out, &syncBuffer{})
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	runs := regexp.MustCompile(`tutor \((offline|fake)\) on the (dev|test) split: \d+ dialogues, (\d+) replies`).FindAllStringSubmatch(out.String(), -1)
	want := 4
	if testing.Short() {
		want = 1
	}
	if len(runs) != want {
		t.Fatalf("%d runs reported, want %d", len(runs), want)
	}
	for _, r := range runs {
		if n, _ := strconv.Atoi(r[3]); n < 40 {
			t.Errorf("%s %s: only %d replies", r[1], r[2], n)
		}
	}
	for _, line := range []string{"ends on exactly one question                      1.000", "under 60 words                                    1.000", "openers or quotes repeated in a session               0"} {
		if strings.Count(out.String(), line) != want {
			t.Errorf("want %q in every run", line)
		}
	}
}

// TestEvalTutorScoring: the scorer fails what it should: a fragment, a
// quote cut mid-sentence, a reading not named, a page not the quote's, a
// second question, and a passage that does not name the case.
func TestEvalTutorScoring(t *testing.T) {
	chunks := []readingChunk{{title: "Goldberg v. Kelly", page: 21, text: evalQuoteNorm("The Court held that a hearing was due.4 Welfare recipients must be given an evidentiary hearing before termination. See Mathews v. Eldridge, 424 U.S. 319.")}}
	good := "Let's look closer. In Goldberg v. Kelly, page 21: “Welfare recipients must be given an evidentiary hearing before termination.” Why?"
	if len(quotedChunks(good, chunks)) != 1 || !oneQuestion(good) {
		t.Errorf("a good reply fails: %q", good)
	}
	withMark := "Look. In Goldberg v. Kelly, page 21: “The Court held that a hearing was due.” Why?"
	if len(quotedChunks(withMark, chunks)) != 1 {
		t.Errorf("a sentence whose footnote mark was left out fails")
	}
	for _, bad := range []string{
		"Look. In Goldberg v. Kelly, page 21: “must be given an evidentiary hearing before termination.” Why?",
		"Look. In Goldberg v. Kelly, page 21: “Welfare recipients must be given an evidentiary hearing” Why?",
		"Look. In Mathews v. Eldridge, page 21: “Welfare recipients must be given an evidentiary hearing before termination.” Why?",
		"Look. In Goldberg v. Kelly, page 22: “Welfare recipients must be given an evidentiary hearing before termination.” Why?",
		"Look. Page 21: “Welfare recipients must be given an evidentiary hearing before termination.” Why?",
	} {
		if len(quotedChunks(bad, chunks)) != 0 {
			t.Errorf("passes: %q", bad)
		}
	}
	for _, bad := range []string{"Why? And how?", "What is it? Tell me.", "A statement."} {
		if oneQuestion(bad) {
			t.Errorf("one question: %q", bad)
		}
	}
	if !namesCase(chunks[0].text, "Mathews v. Eldridge") || namesCase(chunks[0].text, "Nixon v. Fitzgerald") || !namesCase(evalQuoteNorm("in united states v. vinton, the"), "United States v. Vinton") {
		t.Errorf("namesCase")
	}
	if replyOpener("Let's look closer. In X") != replyOpener("let's  look closer! Other") {
		t.Errorf("openers differ")
	}
}
