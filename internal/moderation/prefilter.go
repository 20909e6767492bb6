package moderation

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// A pattern is a compiled regexp with a prefilter: literals one of which
// every match contains (as RE2's own prefilter does). Go's regexp runs an
// NFA over every position of the text, slow on word lists of hundreds of
// alternatives; most utterances contain none of a rule's literals, and
// strings.Contains tells so in a fraction of the time.
type pattern struct {
	re   *regexp.Regexp
	lits []string // nil: no useful set, always run re
	id   int      // the number of lits among the literal sets (register), -1: none
	// alts narrows lits further: for each alternative of the pattern,
	// literal sets (numbered as id is) of which its every match holds one
	// of each ("opinion" and "trump|biden|…" for "your opinion of trump");
	// a text that holds all the sets of no alternative cannot match. nil:
	// lits alone.
	alts [][]int
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
	pt := register(&pattern{re: re, lits: lits})
	if pt.lits != nil {
		if cs, ok := clauses(ast.Simplify()); ok && len(cs) <= maxClauses {
			pt.alts = registerClauses(cs)
		}
	}
	return pt
}

// maxClauses bounds the alternatives a pattern's clauses may list.
const maxClauses = 256

// clauses returns, for each alternative of re, literal sets of which its
// every match holds one of each; false when some alternative has none
// worth testing (then nothing can be said of re but what required says).
func clauses(re *syntax.Regexp) ([][][]string, bool) {
	switch re.Op {
	case syntax.OpCapture:
		return clauses(re.Sub[0])
	case syntax.OpAlternate:
		var out [][][]string
		for _, sub := range re.Sub {
			cs, ok := clauses(sub)
			if !ok || len(out)+len(cs) > maxClauses {
				return nil, false
			}
			out = append(out, cs...)
		}
		return out, true
	case syntax.OpConcat:
		// Every part must match: the literals of each part, the parts
		// that are alternations distributed over (X (A|B) is X A | X B).
		var base [][]string
		alts := [][][]string{nil}
		run := []string{""}
		flush := func() {
			if selective(run) {
				base = append(base, run)
			}
			run = []string{""}
		}
		for _, sub := range re.Sub {
			if lits, ok := exact(sub); ok {
				if len(run)*len(lits) <= maxExact {
					run = product(run, lits)
					continue
				}
				flush()
				run = lits
				continue
			}
			flush()
			cs, ok := clauses(sub)
			switch {
			case ok && len(cs) == 1:
				base = append(base, cs[0]...)
			case ok && len(alts)*len(cs) <= maxClauses:
				var next [][][]string
				for _, a := range alts {
					for _, c := range cs {
						next = append(next, append(slices.Clone(a), c...))
					}
				}
				alts = next
			default:
				if lits, ok := required(sub); ok && selective(lits) {
					base = append(base, lits)
				}
			}
		}
		flush()
		out := make([][][]string, 0, len(alts))
		for _, a := range alts {
			c := append(slices.Clone(base), a...)
			if len(c) == 0 {
				return nil, false
			}
			out = append(out, c)
		}
		return out, true
	}
	if lits, ok := required(re); ok && selective(lits) {
		return [][][]string{{lits}}, true
	}
	return nil, false
}

// selective says whether testing for lits is worth it: none is empty and
// the shortest has three letters (a common word counting as one).
func selective(lits []string) bool {
	return len(lits) > 0 && !slices.Contains(lits, "") && shortest(lits) >= 3
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

// Every pattern compiled with a filter is numbered, so that one pass of a
// literal automaton over a text (scan) tells which patterns' literals it
// holds, instead of one strings.Contains per literal per pattern. The
// literal sets of the patterns' alternatives are numbered among them.
var (
	filtered     []*pattern
	litSets      [][]string // a pattern's lits at its id, alternatives' sets
	literalIndex = sync.OnceValue(func() *litIndex { return newLitIndex(litSets) })
)

// register numbers p when it has a filter.
func register(p *pattern) *pattern {
	p.id = -1
	if p.lits != nil {
		p.id = len(litSets)
		filtered = append(filtered, p)
		litSets = append(litSets, p.lits)
	}
	return p
}

// registerClauses numbers the literal sets of a pattern's alternatives
// (a set already numbered keeps its number).
func registerClauses(cs [][][]string) [][]int {
	out := make([][]int, len(cs))
	for i, c := range cs {
		for _, set := range c {
			id := slices.IndexFunc(litSets, func(s []string) bool { return slices.Equal(s, set) })
			if id < 0 {
				id = len(litSets)
				litSets = append(litSets, set)
			}
			if !slices.Contains(out[i], id) {
				out[i] = append(out[i], id)
			}
		}
	}
	return out
}

// altsHeld says whether a text with hits holds every literal set of some
// alternative of p (or p has none): false, and p cannot match it. A set
// the scan did not cover counts as held.
func (p *pattern) altsHeld(hits litHits) bool {
	if p.alts == nil {
		return true
	}
	// Plain loops and bit tests: this runs for every rule a check tries.
next:
	for _, alt := range p.alts {
		for _, id := range alt {
			if id >= 0 && id < hits.n && hits.bits[id/64]&(1<<(id%64)) == 0 {
				continue next // a set the scan covered and did not find
			}
		}
		return true
	}
	return false
}

// litHits are the sets (patterns) whose literals a text holds (scan),
// of the first n.
type litHits struct {
	bits []uint64
	n    int
}

// known says whether the scan covered set id: a pattern compiled after
// the automaton was built is not in it.
func (h litHits) known(id int) bool { return id >= 0 && id < h.n }

func (h litHits) has(id int) bool { return h.known(id) && h.bits[id/64]&(1<<(id%64)) != 0 }

// matchWith is p.MatchString(s), with hits the scan of s.
func (p *pattern) matchWith(s string, hits litHits) bool {
	switch {
	case p.lits == nil:
		return p.re.MatchString(s)
	case !hits.known(p.id):
		return p.MatchString(s)
	case !hits.has(p.id), !p.altsHeld(hits):
		return false
	}
	return p.re.MatchString(s)
}

// matchRule is m.MatchString(s), with hits the scan of s for the
// matchers the rules are made of.
func matchRule(m matcher, s string, hits litHits) bool {
	switch m := m.(type) {
	case *pattern:
		return m.matchWith(s, hits)
	case unless:
		return m.re.matchWith(s, hits) && !m.context.matchWith(s, hits)
	}
	return m.MatchString(s)
}

// rulesBySet lists the local rules by the literal set of their pattern
// (the pattern's id; an unless's pattern, not its context): a text whose
// scan lacks a rule's set cannot match the rule. always are the rules
// with no set in the automaton, tried on every text; n is the number of
// sets the automaton covers.
var rulesBySet = sync.OnceValue(func() (ri struct {
	always []int
	bySet  [][]int
	n      int
}) {
	ri.n = literalIndex().nsets
	ri.bySet = make([][]int, ri.n)
	for i, r := range localRules {
		var p *pattern
		switch m := r.re.(type) {
		case *pattern:
			p = m
		case unless:
			p = m.re
		}
		if p == nil || p.lits == nil || p.id < 0 || p.id >= ri.n {
			ri.always = append(ri.always, i)
			continue
		}
		ri.bySet[p.id] = append(ri.bySet[p.id], i)
	}
	return ri
})

// scanLiterals is the scan of s against every registered pattern.
func scanLiterals(s string) litHits { return literalIndex().scan(s) }

// A litIndex is an Aho–Corasick automaton over sets of literals, as a
// dense table over the bytes the literals use (every other byte leads
// back to the start).
type litIndex struct {
	class  [256]uint16 // byte → column; 0: a byte no literal holds
	cols   int
	next   []int32   // state*cols + column → state
	out    [][]int32 // state → sets one of whose literals ends there
	nsets  int
	anyOut []bool
}

func newLitIndex(sets [][]string) *litIndex {
	ix := &litIndex{nsets: len(sets)}
	for _, lits := range sets {
		for _, l := range lits {
			for i := 0; i < len(l); i++ {
				if ix.class[l[i]] == 0 {
					ix.cols++
					ix.class[l[i]] = uint16(ix.cols)
				}
			}
		}
	}
	ix.cols++ // column 0
	// The trie.
	type node struct {
		child map[uint16]int32
		out   []int32
	}
	nodes := []node{{child: map[uint16]int32{}}}
	for set, lits := range sets {
		for _, l := range lits {
			s := int32(0)
			for i := 0; i < len(l); i++ {
				c := ix.class[l[i]]
				nx, ok := nodes[s].child[c]
				if !ok {
					nx = int32(len(nodes))
					nodes = append(nodes, node{child: map[uint16]int32{}})
					nodes[s].child[c] = nx
				}
				s = nx
			}
			if !slices.Contains(nodes[s].out, int32(set)) {
				nodes[s].out = append(nodes[s].out, int32(set))
			}
		}
	}
	// Failure links, breadth first, filling the table as it goes.
	ix.next = make([]int32, len(nodes)*ix.cols)
	ix.out = make([][]int32, len(nodes))
	fail := make([]int32, len(nodes))
	queue := []int32{}
	for c := 1; c < ix.cols; c++ {
		if nx, ok := nodes[0].child[uint16(c)]; ok {
			ix.next[c] = nx
			queue = append(queue, nx)
		}
	}
	ix.out[0] = nodes[0].out
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := fail[s]
		out := slices.Clone(nodes[s].out)
		for _, o := range ix.out[f] {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
		ix.out[s] = out
		for c := 1; c < ix.cols; c++ {
			if nx, ok := nodes[s].child[uint16(c)]; ok {
				fail[nx] = ix.next[int(f)*ix.cols+c]
				ix.next[int(s)*ix.cols+c] = nx
				queue = append(queue, nx)
			} else {
				ix.next[int(s)*ix.cols+c] = ix.next[int(f)*ix.cols+c]
			}
		}
	}
	ix.anyOut = make([]bool, len(nodes))
	for s, o := range ix.out {
		ix.anyOut[s] = len(o) > 0
	}
	return ix
}

// scan returns the sets one of whose literals s holds.
func (ix *litIndex) scan(s string) litHits {
	hits := litHits{bits: make([]uint64, (ix.nsets+63)/64), n: ix.nsets}
	ix.scanFrom(0, s, hits)
	return hits
}

// scanFrom scans s from state (where a scan of the text before s ended),
// adding the sets whose literals end in s to hits, and returns the state
// at its end: a text scanned in parts gives what one scan of it gives.
func (ix *litIndex) scanFrom(state int32, s string, hits litHits) int32 {
	for i := 0; i < len(s); i++ {
		state = ix.next[int(state)*ix.cols+int(ix.class[s[i]])]
		if ix.anyOut[state] {
			for _, set := range ix.out[state] {
				hits.bits[set/64] |= 1 << (set % 64)
			}
		}
	}
	return state
}

// containsFrom is containsAny for a text scanned in parts: from state,
// the state at the end of s, or -1 once a literal was found.
func (ix *litIndex) containsFrom(state int32, s string) int32 {
	for i := 0; i < len(s) && state >= 0; i++ {
		state = ix.next[int(state)*ix.cols+int(ix.class[s[i]])]
		if ix.anyOut[state] {
			return -1
		}
	}
	return state
}

// containsAny says whether s holds one of the literals of any set.
func (ix *litIndex) containsAny(s string) bool {
	state := int32(0)
	for i := 0; i < len(s); i++ {
		state = ix.next[int(state)*ix.cols+int(ix.class[s[i]])]
		if ix.anyOut[state] {
			return true
		}
	}
	return false
}

// A replaceFilter skips a regexp's ReplaceAllString over texts that hold
// none of the literals every match of it contains: then there is nothing
// to replace, and the text is returned as it is.
type replaceFilter struct {
	re *regexp.Regexp
	ix *litIndex // nil: no useful literals, always run re
	// few are the literals when there are no more than maxFew: then one
	// strings.Contains each (a vectorised search) beats a pass of the
	// automaton (case names: " v " and " vs ").
	few []string
	// alts, when not nil, runs only the alternatives of re a text may
	// match (newAltReplaceFilter).
	alts *altPicker
}

const maxFew = 4

func newReplaceFilter(re *regexp.Regexp) *replaceFilter {
	ast, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		panic(err)
	}
	f := &replaceFilter{re: re}
	if lits, ok := required(ast.Simplify()); ok && shortest(lits) >= 1 {
		f.ix = newLitIndex([][]string{lits})
		if len(lits) <= maxFew {
			f.few = lits
		}
	}
	return f
}

// holds says whether s holds one of the literals (f.ix not nil).
func (f *replaceFilter) holds(s string) bool {
	if f.few != nil {
		return slices.ContainsFunc(f.few, func(l string) bool { return strings.Contains(s, l) })
	}
	return f.ix.containsAny(s)
}

// matches says whether one of f's alternatives occurs in s.
func (f *replaceFilter) matches(s string) bool {
	if f.alts != nil {
		re := f.alts.pick(s)
		return re != nil && re.MatchString(s)
	}
	if f.ix != nil && !f.holds(s) {
		return false
	}
	return f.re.MatchString(s)
}

func (f *replaceFilter) ReplaceAllString(s, repl string) string {
	if f.alts != nil {
		re := f.alts.pick(s)
		if re == nil {
			return s
		}
		return re.ReplaceAllString(s, repl)
	}
	if f.ix != nil && !f.holds(s) {
		return s
	}
	return f.re.ReplaceAllString(s, repl)
}

// wholeWords is one regexp of alternatives, each matching whole words.
func wholeWords(alts []string) *regexp.Regexp {
	return regexp.MustCompile(`\b(?:` + strings.Join(alts, "|") + `)\b`)
}

// newAltReplaceFilter is newReplaceFilter(wholeWords(alts)), which runs,
// on each text, only the alternatives whose literals the text holds.
func newAltReplaceFilter(alts []string) *replaceFilter {
	f := newReplaceFilter(wholeWords(alts))
	f.alts = newAltPicker(alts, f.re)
	return f
}

// An altPicker narrows a regexp of many alternatives (wholeWords) to
// those that can match a given text. Go's regexp runs every alternative at
// every position of the text (an NFA over hundreds of instructions), and
// a text (the sentence a tutor's reply is building, a student's turn)
// holds the literals of few of them: one pass of a literal automaton over
// the text tells which, and the regexp of just those — in their order,
// small enough for the faster backtracking matcher — gives the same
// matches. An alternative that cannot match anywhere in a text never
// decides a leftmost-first match, so dropping it changes no match and no
// replacement (TestAltReplaceFilterAsTheWholeRegexp checks it on the
// labelled sets, the corpus and random texts).
type altPicker struct {
	all  *regexp.Regexp
	alts []string
	// need lists, for each alternative, the ways it may match: each a list
	// of literal sets (numbered in ix) of which the text must hold one
	// literal each. nil: the alternative is always run.
	need [][][]int
	ix   *litIndex
	sets [][]string // the literal sets, by number
	// picked are the regexps of the subsets of alternatives met so far,
	// by subset (a bit string); at most maxPicked of them.
	picked sync.Map
	npick  atomic.Int32
}

// maxPicked bounds the regexps an altPicker keeps: past it, a text whose
// subset is new runs the whole regexp (the same matches, slower).
const maxPicked = 512

func newAltPicker(alts []string, all *regexp.Regexp) *altPicker {
	p := &altPicker{all: all, alts: alts, need: make([][][]int, len(alts))}
	var sets [][]string
	setID := func(set []string) int {
		if i := slices.IndexFunc(sets, func(s []string) bool { return slices.Equal(s, set) }); i >= 0 {
			return i
		}
		sets = append(sets, set)
		return len(sets) - 1
	}
	for i, alt := range alts {
		ast, err := syntax.Parse(`\b(?:`+alt+`)\b`, syntax.Perl)
		if err != nil {
			panic(err)
		}
		cs, ok := clauses(ast.Simplify())
		if !ok {
			continue // always run
		}
		for _, c := range cs {
			ids := make([]int, 0, len(c))
			for _, set := range c {
				ids = append(ids, setID(set))
			}
			p.need[i] = append(p.need[i], ids)
		}
	}
	p.ix, p.sets = newLitIndex(sets), sets
	return p
}

// pick returns the regexp of the alternatives that may match s, or nil
// when none can.
func (p *altPicker) pick(s string) *regexp.Regexp {
	hits := p.ix.scan(s)
	key := make([]byte, (len(p.alts)+7)/8)
	n := 0
alts:
	for i, ways := range p.need {
		if ways != nil {
			held := false
		way:
			for _, ids := range ways {
				for _, id := range ids {
					if hits.bits[id/64]&(1<<(id%64)) == 0 {
						continue way
					}
				}
				held = true
				break
			}
			if !held {
				continue alts // some literal of each way is missing: no match
			}
		}
		key[i/8] |= 1 << (i % 8)
		n++
	}
	switch n {
	case 0:
		return nil
	case len(p.alts):
		return p.all
	}
	if re, ok := p.picked.Load(string(key)); ok {
		return re.(*regexp.Regexp)
	}
	if p.npick.Load() >= maxPicked {
		return p.all
	}
	var subset []string
	for i, alt := range p.alts {
		if key[i/8]&(1<<(i%8)) != 0 {
			subset = append(subset, alt)
		}
	}
	re, loaded := p.picked.LoadOrStore(string(key), wholeWords(subset))
	if !loaded {
		p.npick.Add(1)
	}
	return re.(*regexp.Regexp)
}

// caseNames and allowedPhrases are caseName and allowed, filtered: most
// texts hold no " v " and none of the allowed phrases' words, and those
// that do hold the words of few of the allowed phrases.
var (
	caseNames      = newReplaceFilter(caseName)
	allowedPhrases = newAltReplaceFilter(allowedAlts)
)
