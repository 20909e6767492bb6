package document

import (
	"regexp"
	"strings"
)

// Running heads and feet — CM/ECF stamps ("Case: 20-1507 Document: … Page: 3
// Date Filed: …"), GPO slug lines, "Cite as: 603 U. S. ____ (2024)", page
// numbers — say nothing about the law and, repeated in every passage, they
// drown what does in a search. A line near the top or bottom of a page is
// dropped when, with its digits masked, it recurs near the top or bottom of
// many pages, or when it is a bare page number.
const (
	edgeLines     = 3   // lines at each end of a page that may be boilerplate
	minRepeats    = 3   // a line must recur on at least this many pages…
	repeatShare   = 0.3 // …and on this share of them
	minPagesToAsk = 4   // shorter documents have too few pages to tell
)

var pageNumber = regexp.MustCompile(`(?i)^(page\s*)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(\s*of\s*\d{1,4})?$`)

func edgeKey(line string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(line) {
		if r >= '0' && r <= '9' {
			r = '#'
		}
		sb.WriteRune(r)
	}
	return strings.Join(strings.Fields(sb.String()), " ")
}

// edges returns the indexes of the first and last edgeLines non-empty lines.
func edges(lines []string) []int {
	var idx []int
	for i := 0; i < len(lines) && len(idx) < edgeLines; i++ {
		if lines[i] != "" {
			idx = append(idx, i)
		}
	}
	var tail []int
	for i := len(lines) - 1; i >= 0 && len(tail) < edgeLines; i-- {
		if lines[i] != "" && (len(idx) == 0 || i > idx[len(idx)-1]) {
			tail = append(tail, i)
		}
	}
	return append(idx, tail...)
}

// stripBoilerplate removes running heads, feet and page numbers from each
// page's (normalised) text.
func stripBoilerplate(pages []string) []string {
	split := make([][]string, len(pages))
	pagesWith := map[string]int{}
	for p, text := range pages {
		split[p] = strings.Split(text, "\n")
		seen := map[string]bool{}
		for _, i := range edges(split[p]) {
			k := edgeKey(split[p][i])
			if !seen[k] {
				seen[k] = true
				pagesWith[k]++
			}
		}
	}
	threshold := max(minRepeats, int(repeatShare*float64(len(pages))+0.5))
	out := make([]string, len(pages))
	for p, lines := range split {
		drop := map[int]bool{}
		for _, i := range edges(lines) {
			line := lines[i]
			if pageNumber.MatchString(line) || (len(pages) >= minPagesToAsk && pagesWith[edgeKey(line)] >= threshold) {
				drop[i] = true
			}
		}
		kept := lines[:0:0]
		for i, l := range lines {
			if !drop[i] {
				kept = append(kept, l)
			}
		}
		out[p] = strings.TrimSpace(strings.Join(kept, "\n"))
	}
	return out
}
