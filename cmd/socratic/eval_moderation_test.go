package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestEvalModeration: the command reports every layer on both splits and
// every category, from the committed sets, with figures that add up.
func TestEvalModeration(t *testing.T) {
	dev, test, test2 := testenv.Path("eval", "moderation-dev.jsonl"), testenv.Path("eval", "moderation-test.jsonl"), testenv.Path("eval", "moderation-test-7.jsonl")
	out := &syncBuffer{}
	if err := run(context.Background(), []string{"eval", "moderation", "--dev", dev, "--test", test, "--test2", test2, "--misses"}, nil, nil, out, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	t.Log(s)
	for _, split := range []string{"dev", "test", "test2"} {
		for _, layer := range []string{"rules", "model", "combined"} {
			if !regexp.MustCompile(`(?m)^` + split + ` +` + layer + ` +[01]\.\d{3} \( *\d+/ *\d+\) +[01]\.\d{3} \( *\d+/ *\d+\)`).MatchString(s) {
				t.Errorf("no %s %s line", split, layer)
			}
		}
	}
	if !regexp.MustCompile(`(?m)^test +combined +0\.\d{3} \(\d+/144\) +0\.\d{3} \( *\d+/132\)`).MatchString(s) {
		t.Errorf("the test split's sizes changed")
	}
	if !regexp.MustCompile(`(?m)^test2 +combined +0\.\d{3} \(\d+/160\) +0\.\d{3} \( *\d+/156\)`).MatchString(s) {
		t.Errorf("the seventh held-out batch's sizes changed, or it was not scored")
	}
	if !strings.Contains(s, "test2's misses are not listed") || strings.Contains(s, "test2, combined: missed") {
		t.Errorf("test2's misses must not be listed:\n%s", s)
	}
	for _, c := range []string{"sexual", "partisan_politics", "celebrity_gossip", "off_topic", "manipulation", "self_harm", "violence", "harassment"} {
		if !regexp.MustCompile(`(?m)^` + c + ` +\d+/\d+ \[\d+\]`).MatchString(s) {
			t.Errorf("no line for %s", c)
		}
	}
	// Out of fold by writer since round 7: one fold per writer of dev
	// (moderation.Train), so the count follows dev's sources.
	if !regexp.MustCompile(`out of \d+ folds`).MatchString(s) || !strings.Contains(s, "test, combined: missed or wrongly flagged") {
		t.Errorf("output:\n%s", s)
	}
	if err := run(context.Background(), []string{"eval", "moderation", "stray"}, nil, nil, out, &syncBuffer{}); err == nil {
		t.Errorf("a stray argument was accepted")
	}
}
