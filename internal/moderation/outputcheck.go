package moderation

import (
	"slices"
	"strings"
)

// An OutputChecker is CheckOutput for a text that grows by appending (the
// sentence a streamed reply is building, checked again with each piece):
// the same verdict for every text, but what it normalised of an earlier
// text is kept, so each check normalises only what was added since the
// last word boundary where normalising can be split (splitAfter). The
// zero value is ready; it is not safe for concurrent use.
type OutputChecker struct {
	prefix string // a text, cut just after a splitAfter boundary …
	norm   string // … and Normalize(prefix)
	// The literal automata's passes over norm, continued over what each
	// check adds to it: the case names', allowed phrases' and allowed
	// idioms' (-1: norm holds one of their literals) and the rules'.
	caseState, allowState, idiomState, ruleState int32
	hits                                         litHits
}

// Check is CheckOutput(text).
func (c *OutputChecker) Check(text string) Verdict {
	n := c.normalize(text)
	// When no replacement has anything to replace in n (no literal of
	// theirs, found by continuing their passes over norm), the text the
	// rules read is n itself, whose rules' scan is norm's continued.
	if c.norm != "" && c.scans() && len(n) >= len(c.norm) && strings.HasPrefix(n, c.norm) && c.caseState >= 0 && c.allowState >= 0 && c.idiomState >= 0 {
		rest := n[len(c.norm):]
		if caseNames.ix.containsFrom(c.caseState, rest) >= 0 && allowedPhrases.ix.containsFrom(c.allowState, rest) >= 0 &&
			allowedIdiomPhrases.ix.containsFrom(c.idiomState, rest) >= 0 && strings.TrimSpace(n) == n {
			hits := litHits{bits: slices.Clone(c.hits.bits), n: c.hits.n}
			literalIndex().scanFrom(c.ruleState, rest, hits)
			return checkScanned(n, false, hits)
		}
	}
	return checkNormalized(caseNames.ReplaceAllString(n, " case "), false)
}

// scans says whether the replacements and rules have automata to continue.
func (c *OutputChecker) scans() bool {
	return caseNames.ix != nil && allowedPhrases.ix != nil && allowedIdiomPhrases.ix != nil
}

// normalize is Normalize(text), from the kept prefix when text starts with
// it, moving the kept prefix up to text's last boundary.
func (c *OutputChecker) normalize(text string) string {
	if !strings.HasPrefix(text, c.prefix) {
		c.prefix, c.norm = "", ""
	}
	if cut := lastSplit(text, len(c.prefix)); cut > len(c.prefix) {
		old := c.norm
		c.norm = joinNormalized(c.norm, Normalize(text[len(c.prefix):cut]))
		c.prefix = text[:cut]
		c.scanned(old)
	}
	return joinNormalized(c.norm, Normalize(text[len(c.prefix):]))
}

// scanned moves the automata's passes from over old to over c.norm, which
// starts with it.
func (c *OutputChecker) scanned(old string) {
	if !c.scans() {
		return
	}
	if old == "" || !strings.HasPrefix(c.norm, old) {
		old = ""
		c.caseState, c.allowState, c.idiomState, c.ruleState = 0, 0, 0, 0
		ix := literalIndex()
		c.hits = litHits{bits: make([]uint64, (ix.nsets+63)/64), n: ix.nsets}
	}
	added := c.norm[len(old):]
	c.caseState = caseNames.ix.containsFrom(c.caseState, added)
	c.allowState = allowedPhrases.ix.containsFrom(c.allowState, added)
	c.idiomState = allowedIdiomPhrases.ix.containsFrom(c.idiomState, added)
	c.ruleState = literalIndex().scanFrom(c.ruleState, added, c.hits)
}

// joinNormalized is Normalize(a+b) from Normalize(a) and Normalize(b),
// when a ends at a splitAfter boundary.
func joinNormalized(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// lastSplit is the last i > from at which text can be split for
// Normalize (splitAfter), or from when there is none.
func lastSplit(text string, from int) int {
	for i := len(text); i > from && i >= 3; i-- {
		if splitAfter(text[:i]) {
			return i
		}
	}
	return from
}

// splitAfter says whether Normalize(a+b) is Normalize(a) joined to
// Normalize(b) by a space (or either alone when the other is empty), for
// every b: a ends in two different ASCII letters (either case) and a
// space. Then:
//   - the space is a starter, so NFKD(a+b) is NFKD(a)+NFKD(b); what is
//     dropped (invisible characters, marks) and mapped (case, look-alike
//     letters) goes character by character;
//   - a leet character is read by its neighbours two either side: none of
//     the last three of a is one, and two letters in a row are not "lone",
//     so no decision on either side of the space looks across it
//     differently than it would at the end or start of a text;
//   - the space ends a's last word, and b's first word starts after it;
//     that last word keeps its two different letters (squeeze shortens
//     only runs of three alike), so it is no single letter, and no run of
//     spelled-out letters is joined across it. b's first word's separator
//     only matters in such a run.
//
// TestOutputCheckerSplitsNormalizeExactly checks this against Normalize.
func splitAfter(a string) bool {
	n := len(a)
	if n < 3 || a[n-1] != ' ' {
		return false
	}
	x, y := lowerASCII(a[n-3]), lowerASCII(a[n-2])
	return 'a' <= x && x <= 'z' && 'a' <= y && y <= 'z' && x != y
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
