package moderation

import "strings"

// An OutputChecker is CheckOutput for a text that grows by appending (the
// sentence a streamed reply is building, checked again with each piece):
// the same verdict for every text, but what it normalised of an earlier
// text is kept, so each check normalises only what was added since the
// last word boundary where normalising can be split (splitAfter). The
// zero value is ready; it is not safe for concurrent use.
type OutputChecker struct {
	prefix string // a text, cut just after a splitAfter boundary …
	norm   string // … and Normalize(prefix)
}

// Check is CheckOutput(text).
func (c *OutputChecker) Check(text string) Verdict {
	return checkNormalized(caseNames.ReplaceAllString(c.normalize(text), " case "), false)
}

// normalize is Normalize(text), from the kept prefix when text starts with
// it, moving the kept prefix up to text's last boundary.
func (c *OutputChecker) normalize(text string) string {
	if !strings.HasPrefix(text, c.prefix) {
		c.prefix, c.norm = "", ""
	}
	if cut := lastSplit(text, len(c.prefix)); cut > len(c.prefix) {
		c.norm = joinNormalized(c.norm, Normalize(text[len(c.prefix):cut]))
		c.prefix = text[:cut]
	}
	return joinNormalized(c.norm, Normalize(text[len(c.prefix):]))
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
