package moderation

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// A theme is a short noun phrase naming a doctrine, a rule or a tension
// ("The mailbox rule", "Promissory estoppel"). Themes reach the tutor's
// prompt and the first words a student hears, so whoever wrote one (the
// model, from readings that may carry injected text, or a professor), it
// must read as a topic and nothing else: an instruction, a quotation, a
// piece of markup or a link is refused.
const (
	MaxThemeWords = 12
	MaxThemeChars = 100
)

// themeMarkup are characters no topic needs and prompt markup, code and
// templates are made of. Parentheses and hyphens stay ("Battle of the
// forms (UCC 2-207)").
const themeMarkup = "<>[]{}`*_#|\\^~=@$‹›"

// themeQuotes are quotation marks; an apostrophe inside a word
// ("Owner's duty") or after a plural ("Owners' rights") is not one.
const themeQuotes = "\"“”„«»‘’'`´"

// commands are verbs that, first in a theme, make it an order to the
// model whatever follows, unless a noun use follows ("Override of a
// veto").
var commands = wordSet(`ignore disregard forget pretend obey reveal bypass override say tell recite respond speak write
	jailbreak roleplay imagine`)

// ambiguous verbs begin legal noun phrases too ("Act of State doctrine",
// "Repeat offender statutes", "Stop and frisk", "Output contracts"): they
// make an order only when an object or a particle follows them ("Act as
// a judge", "Repeat after me").
var ambiguous = wordSet(`act repeat stop print output answer reply show type list play translate give return explain
	describe do make be become start begin continue use send call put let change switch enter`)

// objects are the words that follow a verb used as an order.
var objects = wordSet(`all any every everything nothing something anything the a an this that these those your my me
	you him her them us it its our their his what whatever after back as like to previous prior above earlier exactly
	only now i we no not yourself out up hello hi please word words following instructions rules prompt system`)

// addressed are first words of a sentence spoken to the model, never of
// a topic.
var addressed = wordSet(`you your you're youre i i'm im we let's lets please don't dont never from`)

var themeLink = regexp.MustCompile(`(?i)://|\bwww\.|\b[a-z0-9-]+\.(?:com|org|net|io|ai|gov|edu|co|ly|me|info|biz|dev|app)\b`)

// CheckTheme says why a theme is not one, nil when it is: too long,
// control or invisible characters, quotation marks, markup, a link,
// sentence punctuation, an order to the model at its start, or anything
// the local rules refuse (manipulation included).
//
// A week's few themes are checked on every turn's prompt, so answers are
// remembered (the check is a pure function of the text).
func CheckTheme(theme string) error {
	themeChecks.mu.Lock()
	err, ok := themeChecks.m[theme]
	themeChecks.mu.Unlock()
	if ok {
		return err
	}
	err = checkTheme(theme)
	themeChecks.mu.Lock()
	if len(themeChecks.m) >= maxThemeChecks {
		clear(themeChecks.m)
	}
	themeChecks.m[theme] = err
	themeChecks.mu.Unlock()
	return err
}

// themeChecks are CheckTheme's answers, at most maxThemeChecks of them.
var themeChecks = struct {
	mu sync.Mutex
	m  map[string]error
}{m: map[string]error{}}

const maxThemeChecks = 4096

func checkTheme(theme string) error {
	t := strings.TrimSpace(theme)
	switch {
	case t == "":
		return errors.New("is empty")
	case !utf8.ValidString(t):
		return errors.New("is not valid text")
	case strings.ContainsFunc(t, func(r rune) bool { return unicode.IsControl(r) || invisible(r) }):
		return errors.New("holds control or invisible characters")
	case utf8.RuneCountInString(t) > MaxThemeChars:
		return fmt.Errorf("is longer than %d characters", MaxThemeChars)
	case len(strings.Fields(t)) > MaxThemeWords:
		return fmt.Errorf("is longer than %d words", MaxThemeWords)
	case strings.ContainsAny(t, themeMarkup):
		return errors.New("holds markup or code characters")
	case quoted(t):
		return errors.New("holds quotation marks")
	case themeLink.MatchString(t):
		return errors.New("holds a link")
	case strings.ContainsAny(t, "?!;:"):
		return errors.New("is a sentence, not a short phrase")
	}
	words := strings.Fields(strings.ToLower(t))
	first := strings.Trim(words[0], ".,()")
	next := ""
	if len(words) > 1 {
		next = strings.Trim(words[1], ".,()")
	}
	switch {
	case addressed[first]:
		return fmt.Errorf("speaks to the reader (%q), it does not name a topic", first)
	case commands[first] && next != "of",
		ambiguous[first] && (next == "" || objects[next]):
		return fmt.Errorf("starts with an instruction (%q), not a topic", first)
	}
	if v := Check(t); v.Flagged {
		return fmt.Errorf("is refused by the moderation rules (%s)", joinCategories(v.Categories))
	}
	return nil
}

// quoted says whether t holds a quotation mark: any of themeQuotes except
// an apostrophe of a possessive or a contraction.
func quoted(t string) bool {
	rs := []rune(t)
	for i, r := range rs {
		if !strings.ContainsRune(themeQuotes, r) {
			continue
		}
		if r == '\'' || r == '’' {
			letterBefore := i > 0 && unicode.IsLetter(rs[i-1])
			if letterBefore && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
				continue // "Owner's duty"
			}
			if letterBefore && rs[i-1] == 's' && (i+1 == len(rs) || rs[i+1] == ' ') {
				continue // "Owners' rights"
			}
		}
		return true
	}
	return false
}

func joinCategories(cs []Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
