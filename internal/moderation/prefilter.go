package moderation

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// A pattern is a compiled regexp with a prefilter: literals one of which
// every match contains (as RE2's own prefilter does). Go's regexp runs an
// NFA over every position of the text, slow on word lists of hundreds of
// alternatives; most utterances contain none of a rule's literals, and
// strings.Contains tells so in a fraction of the time.
type pattern struct {
	re   *regexp.Regexp
	lits []string // nil: no useful set, always run re
}

func (p *pattern) MatchString(s string) bool {
	if p.lits != nil && !slices.ContainsFunc(p.lits, func(l string) bool { return strings.Contains(s, l) }) {
		return false
	}
	return p.re.MatchString(s)
}

// compile compiles p as whole words, once, at package init.
func compile(p string) *pattern {
	re := regexp.MustCompile(`\b(?:` + p + `)\b`)
	ast, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		panic(err)
	}
	lits, ok := required(ast.Simplify())
	if !ok || shortest(lits) < 2 {
		lits = nil // most texts contain one: no filter
	}
	return &pattern{re: re, lits: lits}
}

// required returns literals one of which every match of re contains, or
// false when there are none to be had (an optional part, a class of
// letters, an empty alternative).
func required(re *syntax.Regexp) ([]string, bool) {
	if lits, ok := exact(re); ok {
		return lits, !slices.Contains(lits, "")
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Every part must match, so any part's literals will do: runs of
		// parts with few strings are multiplied out ("n" "ude|udes" is
		// "nude|nudes"), and the most selective candidate wins.
		var best []string
		consider := func(lits []string) {
			if len(lits) > 0 && !slices.Contains(lits, "") && (best == nil || better(lits, best)) {
				best = lits
			}
		}
		run := []string{""}
		for _, sub := range re.Sub {
			if lits, ok := exact(sub); ok {
				if len(run)*len(lits) <= maxExact {
					run = product(run, lits)
					continue
				}
				consider(run)
				run = lits
				continue
			}
			consider(run)
			run = []string{""}
			if lits, ok := required(sub); ok {
				consider(lits)
			}
		}
		consider(run)
		return best, best != nil
	case syntax.OpAlternate:
		// Any alternative may match: one of them all.
		var all []string
		for _, sub := range re.Sub {
			lits, ok := required(sub)
			if !ok {
				return nil, false
			}
			all = append(all, lits...)
		}
		return all, true
	}
	return nil, false
}

// maxExact bounds the strings exact lists.
const maxExact = 16

// exact returns every string re matches, when there are few; empty-width
// assertions (\b, ^, $) match "".
func exact(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		lits, ok := exact(re.Sub[0])
		if !ok || len(lits) >= maxExact {
			return nil, false
		}
		return append(lits, ""), true
	case syntax.OpCharClass:
		var lits []string
		for i := 0; i < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(lits) == 4 {
					return nil, false
				}
				lits = append(lits, string(r))
			}
		}
		return lits, true
	case syntax.OpConcat:
		lits := []string{""}
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(lits)*len(s) > maxExact {
				return nil, false
			}
			lits = product(lits, s)
		}
		return lits, true
	case syntax.OpAlternate:
		var lits []string
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(lits)+len(s) > maxExact {
				return nil, false
			}
			lits = append(lits, s...)
		}
		return lits, true
	}
	return nil, false
}

func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// better says whether literals a filter more than b: a longer shortest
// literal, then fewer of them.
func better(a, b []string) bool {
	sa, sb := shortest(a), shortest(b)
	return sa > sb || sa == sb && len(a) < len(b)
}

// shortest is the length of the shortest literal, counting a common
// word ("the ", " with ") as one letter: nearly every text has one.
func shortest(lits []string) int {
	n := -1
	for _, l := range lits {
		w := len(l)
		if common[strings.TrimSpace(l)] {
			w = 1
		}
		if n < 0 || w < n {
			n = w
		}
	}
	return n
}

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("a an and are as at be but by do for from have i in is it me my no not of on or so that the this to up was we what which with you your make when who will") {
		m[w] = true
	}
	return m
}()
