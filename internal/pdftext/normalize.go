package pdftext

import (
	"strings"
	"unicode"
)

// ligatures are presentation forms PDFs use for letter pairs; searching and
// reading want the letters.
var ligatures = strings.NewReplacer(
	"\ufb00", "ff", "\ufb01", "fi", "\ufb02", "fl", "\ufb03", "ffi", "\ufb04", "ffl", "\ufb05", "st", "\ufb06", "st",
	// PDFium marks a line-end hyphen it joined across the line as U+FFFE
	// (U+0002 in some calls): the word is whole again without it.
	"\ufffe", "", "\u0002", "",
	"\u00ad", "", // soft hyphen: invisible when not at a line end
	"\r\n", "\n", "\r", "\n",
	"\t", " ", "\u00a0", " ",
)

// Normalize cleans one page's text: ligatures become letters, joined
// hyphens and soft hyphens go, a word hyphenated across a line end
// ("negli-\ngence") is joined when the next line goes on in lower case,
// spaces are collapsed, and lines are trimmed. Paragraph breaks (blank
// lines) stay.
func Normalize(page string) string {
	page = ligatures.Replace(page)
	lines := strings.Split(page, "\n")
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		line := collapseSpaces(lines[i])
		// Join "negli-" + "gence ..." into "negligence ...".
		for strings.HasSuffix(line, "-") && len(line) > 1 && unicode.IsLetter(lastRune(line[:len(line)-1])) && i+1 < len(lines) {
			next := collapseSpaces(lines[i+1])
			if next == "" || !unicode.IsLower(firstRune(next)) {
				break
			}
			word, rest, _ := strings.Cut(next, " ")
			line = line[:len(line)-1] + word
			lines[i+1] = rest
			if rest != "" {
				break
			}
			i++ // the whole next line was the word's end
		}
		out = append(out, line)
	}
	// Runs of blank lines become one paragraph break.
	var sb strings.Builder
	gap := false
	for _, l := range out {
		if l == "" {
			gap = true
			continue
		}
		if sb.Len() > 0 {
			if gap {
				sb.WriteString("\n\n")
			} else {
				sb.WriteByte('\n')
			}
		}
		sb.WriteString(l)
		gap = false
	}
	return sb.String()
}

func collapseSpaces(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	space := false
	for _, r := range s {
		if r == 0 || (unicode.IsControl(r) && r != '\n') {
			continue
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(r)
	}
	return sb.String()
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func lastRune(s string) rune {
	r := rune(0)
	for _, c := range s {
		r = c
	}
	return r
}
