package retrieval

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Exact mentions: a case the student names ("Mathews v. Eldridge") or a
// citation ("42 U.S.C. § 1983", "Rule 60(b)", "§ 465(b)(4)") picks out the
// passages that name it, which BM25 alone ranks no higher than any other
// passage with the same words scattered about.

var (
	// caseName: one to four capitalised words, "v." (or "vs."), then one
	// to four more; "In re X" and "Ex parte X" too.
	caseName = regexp.MustCompile(`\b((?:[A-Z][\w'&.-]*\s+){0,3}[A-Z][\w'&.-]*)\s+vs?\.?\s+([A-Z][\w'&.-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'&.-]*){0,3})`)
	// citation: sections, rules, U.S.C./C.F.R. and reporter citations.
	citation = regexp.MustCompile(`(?i)(?:§+\s*\d[\w.-]*(?:\([\w]+\))*|\brule\s+\d+(?:\.\d+)?(?:\([\w]+\))+|\b\d+\s+(?:U\.?\s?S\.?\s?C\.?|C\.?\s?F\.?\s?R\.?)\s*(?:§+\s*)?\d[\w.-]*(?:\([\w]+\))*|\b\d+\s+(?:U\.\s?S\.|S\.\s?Ct\.|F\.\s?(?:2d|3d|4th)|F\.\s?Supp\.(?:\s?[23]d)?)\s+\d+)`)
)

// mentions are the exact phrases the turn's words name, in the compact
// form squeeze gives passages: for a case, its parties' names around
// "v", each of which must appear for a passage to be boosted.
func mentions(text string) []string {
	var out []string
	add := func(p string) {
		if len(p) >= 4 {
			for _, have := range out {
				if have == p {
					return
				}
			}
			out = append(out, p)
		}
	}
	if !mayNameCase(text) && !mayCite(text) {
		return nil // most turns: neither regexp could match
	}
	for _, m := range caseName.FindAllStringSubmatch(text, 4) {
		first := lastWord(m[1])
		if first == "" || stopwords[strings.ToLower(first)] {
			continue
		}
		add(squeeze(first + " v " + firstWord(m[2])))
	}
	for _, m := range citation.FindAllString(text, 4) {
		add(squeeze(m))
	}
	return out
}

// mayNameCase is false when caseName cannot match s: it needs a "v"
// right after one of \s's characters (tab, newline, form feed, carriage
// return, space), which most of a student's turns lack. Checked first, it
// spares them both regexps, about a sixth of a search's CPU.
func mayNameCase(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == 'v' {
			switch s[i-1] {
			case ' ', '\t', '\n', '\f', '\r':
				return true
			}
		}
	}
	return false
}

// mayCite is false when citation cannot match s. Each of its forms has a
// section sign, or a run of digits (\d: 0-9) followed by a parenthesis
// ("Rule 60(b)", "Rule 7.2(a)"), or by space characters (\s) and then
// the first letter of U.S.C., C.F.R., U.S., S. Ct. or F. in either case
// (or ſ, which (?i) reads as s). A turn's "(draft-2)" or "in 2020, the"
// has none of these.
func mayCite(s string) bool {
	if strings.Contains(s, "§") {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			continue
		}
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == len(s) {
			return false
		}
		if s[i] == '(' {
			return true
		}
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\f' || s[j] == '\r') {
			j++
		}
		if j > i && j < len(s) {
			switch s[j] {
			case 'U', 'u', 'C', 'c', 'S', 's', 'F', 'f':
				return true
			}
			if strings.HasPrefix(s[j:], "ſ") {
				return true
			}
		}
		i = j - 1 // the loop's i++ lands on what follows the spaces
	}
	return false
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// squeeze lower-cases text and keeps only letters, digits and "§", so
// "Mathews v. Eldridge" and "MATHEWS v.\nELDRIDGE" both become
// "mathewsveldridge", and "42 U. S. C. §1983" "42usc§1983".
func squeeze(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '§':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// boostMentions adds boost to the score of each passage that names one of
// the phrases (squeezed), and half of it to the passages of a document
// that names one in its caption (named: document ids), and reorders them.
func boostMentions(ss []Source, phrases []string, named map[int64]bool, boost float64) {
	if len(phrases) == 0 || boost == 0 {
		return
	}
	for i := range ss {
		if isListing(ss[i].Content) {
			continue // a table of contents names every case
		}
		text := squeeze(ss[i].Content)
		switch {
		case containsAny(text, phrases):
			ss[i].Score += boost
		case named[ss[i].DocumentID]:
			ss[i].Score += boost / 2
		}
	}
	sortByScore(ss)
}

func containsAny(text string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

// captionPassages is how many of a document's first passages are read for
// its caption or title.
const captionPassages = 2

// namingDocuments are the week's processed documents whose first passages
// name one of the phrases.
func namingDocuments(ctx context.Context, ex sqlite.Execer, weekID int64, phrases []string) (map[int64]bool, error) {
	rows, err := ex.QueryContext(ctx, `SELECT c.document_id, c.content FROM chunks c JOIN documents d ON d.id = c.document_id
		WHERE c.week_id = ? AND d.status = 'processed' AND c.chunk_index < ?`, weekID, captionPassages)
	if err != nil {
		return nil, fmt.Errorf("search week %d: %w", weekID, err)
	}
	defer rows.Close()
	named := map[int64]bool{}
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return nil, fmt.Errorf("search week %d: %w", weekID, err)
		}
		if containsAny(squeeze(text), phrases) {
			named[id] = true
		}
	}
	return named, rows.Err()
}
