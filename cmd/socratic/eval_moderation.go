package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lawtutor/socratic/internal/moderation"
)

const evalModerationUsage = "usage: socratic eval moderation [--dev FILE.jsonl] [--test FILE.jsonl] [--test2 FILE.jsonl] [--misses]"

// evalModerationCmd is `socratic eval moderation`: the local layers (the
// rules, the trained model, both as a turn meets them) over the labelled
// dev and test sets, recall and false positives overall and per category.
// Layer 2, the language model's classifier, needs a provider and is not
// measured here.
func evalModerationCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval moderation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.String("dev", "testdata/eval/moderation-dev.jsonl", "the labelled set the model is trained and its threshold chosen on")
	test := fs.String("test", "testdata/eval/moderation-test.jsonl", "the held-out labelled set")
	test2 := fs.String("test2", "testdata/eval/moderation-test-7.jsonl", "a later held-out set, written independently of everything tuned (empty: none)")
	misses := fs.Bool("misses", false, "list every missed violation and flagged clean utterance")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New(evalModerationUsage)
	}
	type split struct {
		name string
		set  []moderation.Example
	}
	var splits []split
	test2Set := false
	fs.Visit(func(f *flag.Flag) { test2Set = test2Set || f.Name == "test2" })
	for _, s := range []struct{ name, path string }{{"dev", *dev}, {"test", *test}, {"test2", *test2}} {
		if s.name == "test2" {
			// The default second batch is scored where it is (a
			// checkout's root); elsewhere it is left out unless named.
			if _, err := os.Stat(s.path); s.path == "" || (!test2Set && os.IsNotExist(err)) {
				continue
			}
		}
		set, err := moderation.ReadExamplesFile(s.path)
		if err != nil {
			return err
		}
		splits = append(splits, split{s.name, set})
	}
	scores := map[string]map[moderation.Layer]moderation.Scores{}
	var elapsed time.Duration
	var judged int
	moderation.Check("warm up: the embedded model is decoded on first use")
	for _, sp := range splits {
		scores[sp.name] = map[moderation.Layer]moderation.Scores{}
		for _, l := range moderation.Layers {
			began := time.Now()
			scores[sp.name][l] = moderation.Evaluate(l, sp.set)
			if l == moderation.LayerCombined {
				elapsed += time.Since(began)
				judged += len(sp.set)
			}
		}
	}
	// The model has seen every dev utterance: its dev figures above are
	// in-sample. Out of fold, each is scored by a model trained without it
	// (how the threshold was chosen).
	_, rep, err := moderation.Train(splits[0].set)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "moderation, local layers: rules (1), trained model (1.5), combined (as a turn meets them)")
	fmt.Fprintln(stdout, "recall: violations flagged (any category); FP: clean utterances flagged")
	fmt.Fprintf(stdout, "%-6s %-9s %-20s %-20s\n", "split", "layer", "recall", "FP")
	for _, sp := range splits {
		for _, l := range moderation.Layers {
			s := scores[sp.name][l]
			fmt.Fprintf(stdout, "%-6s %-9s %.3f (%3d/%3d)      %.3f (%3d/%3d)\n", sp.name, l, s.Recall(), s.Caught, s.Violations, s.FPR(), s.FalsePositives, s.Clean)
		}
		if sp.name == "dev" {
			fmt.Fprintf(stdout, "%-6s %-9s %.3f (%3d/%3d)      %.3f (%3d/%3d)\n", "dev", "model", rep.ModelRecall, rep.ModelCaught, rep.Violations, rep.ModelFPR, rep.ModelFlagged, rep.Clean)
			fmt.Fprintf(stdout, "%-6s %-9s %.3f (%3d/%3d)      %.3f (%3d/%3d)   out of %d folds (the model's dev figures above are in-sample); threshold %.4f\n",
				"dev", "combined", rep.Recall, rep.ViolationsCaught, rep.Violations, rep.FPR, rep.CleanFlagged, rep.Clean, rep.Folds, rep.Threshold)
		}
	}
	fmt.Fprintln(stdout, "\nrecall per category (flagged/total; in brackets, flagged under its own category)")
	fmt.Fprintf(stdout, "%-18s", "category")
	for _, sp := range splits {
		for _, l := range moderation.Layers {
			fmt.Fprintf(stdout, " %-15s", sp.name+" "+string(l))
		}
	}
	fmt.Fprintln(stdout)
	for _, c := range moderation.Categories {
		fmt.Fprintf(stdout, "%-18s", c)
		for _, sp := range splits {
			for _, l := range moderation.Layers {
				cs := scores[sp.name][l].PerCategory[c]
				if cs == nil {
					fmt.Fprintf(stdout, " %-15s", "-")
					continue
				}
				fmt.Fprintf(stdout, " %-15s", fmt.Sprintf("%d/%d [%d]", cs.Caught, cs.Total, cs.Correct))
			}
		}
		fmt.Fprintln(stdout)
	}
	if judged > 0 {
		fmt.Fprintf(stdout, "\ncombined: %.1f µs per utterance (wall clock, this run; go test ./internal/moderation -bench Check measures it)\n", float64(elapsed.Microseconds())/float64(judged))
	}
	fmt.Fprintln(stdout, "layer 2 (the language model's classifier) is not measured here: it needs a provider")
	if *misses {
		for _, sp := range splits {
			if sp.name == "test2" {
				// Listing them is the first step to tuning on them.
				fmt.Fprintln(stdout, "\ntest2's misses are not listed: it is kept for an honest figure, and nothing may be tuned on it")
				continue
			}
			s := scores[sp.name][moderation.LayerCombined]
			fmt.Fprintf(stdout, "\n%s, combined: missed or wrongly flagged\n", sp.name)
			for _, ex := range s.Misses {
				fmt.Fprintf(stdout, "  %-18s %q\n", ex.Label, ex.Text)
			}
		}
	}
	return nil
}
