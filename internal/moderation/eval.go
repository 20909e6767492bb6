package moderation

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// ReadExamples reads a labelled set: one {"text", "label"} per line, the
// label "clean" or a category.
func ReadExamples(r io.Reader) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var ex Example
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil || ex.Text == "" {
			return nil, fmt.Errorf("line %d: want {\"text\", \"label\"}", line)
		}
		if !slices.Contains(learnedClasses, Category(ex.Label)) {
			return nil, fmt.Errorf("line %d: unknown label %q", line, ex.Label)
		}
		out = append(out, ex)
	}
	return out, sc.Err()
}

// ReadExamplesFile is ReadExamples over a file.
func ReadExamplesFile(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := ReadExamples(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ex, nil
}

// Layer names what an evaluation measures.
type Layer string

// The local layers, alone and together.
const (
	LayerRules    Layer = "rules"    // layer 1
	LayerModel    Layer = "model"    // layer 1.5
	LayerCombined Layer = "combined" // Check: layer 1, then 1.5
)

// Layers are the local layers in the order reports list them.
var Layers = []Layer{LayerRules, LayerModel, LayerCombined}

// Judge is a layer's verdict on a student's words.
func (l Layer) Judge(text string) Verdict {
	switch l {
	case LayerRules:
		return Rules(text)
	case LayerModel:
		return Learned(text)
	}
	return Check(text)
}

// Scores are one layer's figures over a labelled set. A violation is
// caught when it is flagged at all (whatever the category named: every
// flag gets a fixed reply); Correct also counts the category.
type Scores struct {
	Violations, Caught, Clean, FalsePositives int
	PerCategory                               map[Category]*CategoryScores
	Misses                                    []Example // violations not flagged, and clean ones flagged
}

// CategoryScores are a category's violations and how many were flagged,
// and flagged under their own category.
type CategoryScores struct{ Total, Caught, Correct int }

// Recall is the share of violations flagged.
func (s Scores) Recall() float64 { return ratio(s.Caught, s.Violations) }

// FPR is the share of clean utterances flagged.
func (s Scores) FPR() float64 { return ratio(s.FalsePositives, s.Clean) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluate runs a layer over a labelled set.
func Evaluate(l Layer, set []Example) Scores {
	s := Scores{PerCategory: map[Category]*CategoryScores{}}
	for _, ex := range set {
		v := l.Judge(ex.Text)
		if ex.Label == "clean" {
			s.Clean++
			if v.Flagged {
				s.FalsePositives++
				s.Misses = append(s.Misses, ex)
			}
			continue
		}
		c := Category(ex.Label)
		cs := s.PerCategory[c]
		if cs == nil {
			cs = &CategoryScores{}
			s.PerCategory[c] = cs
		}
		s.Violations++
		cs.Total++
		if v.Flagged {
			s.Caught++
			cs.Caught++
			if v.Has(c) {
				cs.Correct++
			}
		} else {
			s.Misses = append(s.Misses, ex)
		}
	}
	return s
}
