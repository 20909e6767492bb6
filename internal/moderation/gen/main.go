// Command gen trains moderation's layer 1.5 on the labelled dev set and
// writes the model file the package embeds (go generate ./internal/moderation).
// The same dev file always gives the same bytes.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"slices"

	"github.com/lawtutor/socratic/internal/moderation"
)

func main() {
	dev := flag.String("dev", "", "the labelled dev set (JSON lines)")
	out := flag.String("o", "learned.bin", "the model file to write")
	misses := flag.Bool("misses", false, "also print dev's out-of-fold misses and false positives (writer, label, score, text)")
	within := flag.Bool("within", false, "also measure dev in folds of utterances rather than writers, as rounds 1 to 6 did (another minute)")
	curve := flag.Bool("curve", false, "also print dev's out-of-writer recall and FP at smaller budgets of false positives than the threshold's")
	flag.Parse()
	set, err := moderation.ReadExamplesFile(*dev)
	if err != nil {
		log.Fatal(err)
	}
	file, rep, err := moderation.Train(set)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, file, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "trained on %d dev utterances: %d rows, %d bytes; threshold %.4f\n", rep.Examples, rep.Rows, rep.Bytes, rep.Threshold)
	fmt.Fprintf(os.Stderr, "dev, out of %d folds, one writer each: model alone recall %.3f FP %.3f; rules+model recall %.3f (%d/%d) FP %.3f (%d/%d)\n",
		rep.Folds, rep.ModelRecall, rep.ModelFPR, rep.Recall, rep.ViolationsCaught, rep.Violations, rep.FPR, rep.CleanFlagged, rep.Clean)
	perCategory(rep)
	for _, w := range rep.Writers {
		fmt.Fprintf(os.Stderr, "  writer %-22s caught %3d/%3d  clean flagged %2d/%3d\n", w.Writer, w.Caught, w.Violations, w.CleanFlagged, w.Clean)
	}
	if *curve {
		budgetCurve(set, rep)
	}
	if *within {
		wr, err := moderation.WithinDev(set)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "dev, out of %d folds of utterances (threshold %.4f): model alone recall %.3f FP %.3f; rules+model recall %.3f (%d/%d) FP %.3f (%d/%d)\n",
			wr.Folds, wr.Threshold, wr.ModelRecall, wr.ModelFPR, wr.Recall, wr.ViolationsCaught, wr.Violations, wr.FPR, wr.CleanFlagged, wr.Clean)
		perCategory(wr)
	}
	if *misses {
		for i, ex := range set {
			flagged := rep.RulesFlagged[i] || rep.Scores[i] >= rep.Threshold
			if flagged && ex.Label != "clean" && string(rep.Named[i]) != ex.Label {
				fmt.Printf("named\t%s\t%s as %s\t%.3f\t%s\n", ex.Source, ex.Label, rep.Named[i], rep.Scores[i], ex.Text)
			}
			if flagged == (ex.Label != "clean") {
				continue
			}
			kind := "miss"
			if flagged {
				kind = "fp"
			}
			fmt.Printf("%s\t%s\t%s\t%.3f\t%s\n", kind, ex.Source, ex.Label, rep.Scores[i], ex.Text)
		}
	}
}

func perCategory(rep moderation.TrainReport) {
	for _, c := range moderation.Categories {
		if cs := rep.PerCategory[c]; cs != nil {
			fmt.Fprintf(os.Stderr, "  %-18s %.3f (%d/%d) [%d under its own]\n", c, float64(cs.Caught)/float64(cs.Total), cs.Caught, cs.Total, cs.Correct)
		}
	}
}

// budgetCurve prints, for budgets of dev's clean utterances out of writer,
// the threshold Train would choose and the rules and model's recall and FP
// there (the same out-of-writer scores, the same rule: the lowest score
// that keeps within the budget).
func budgetCurve(set []moderation.Example, rep moderation.TrainReport) {
	var clean int
	for _, ex := range set {
		if ex.Label == "clean" {
			clean++
		}
	}
	cands := slices.Clone(rep.Scores)
	slices.Sort(cands)
	slices.Reverse(cands)
	for _, b := range []float64{0.0075, 0.01, 0.0125, 0.015} {
		budget := int(math.Floor(b * float64(clean)))
		best := 1.0
		for _, t := range cands {
			fp := 0
			for i, ex := range set {
				if ex.Label == "clean" && (rep.RulesFlagged[i] || rep.Scores[i] >= t) {
					fp++
				}
			}
			if fp > budget {
				break
			}
			best = t
		}
		var caught, viol, fp int
		for i, ex := range set {
			flagged := rep.RulesFlagged[i] || rep.Scores[i] >= best
			if ex.Label == "clean" {
				if flagged {
					fp++
				}
				continue
			}
			viol++
			if flagged {
				caught++
			}
		}
		fmt.Fprintf(os.Stderr, "  budget %.2f%%: threshold %.4f recall %.3f (%d/%d) FP %.4f (%d/%d)\n", 100*b, best, float64(caught)/float64(viol), caught, viol, float64(fp)/float64(clean), fp, clean)
	}
}
