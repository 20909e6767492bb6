package retrieval

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// An answer can straddle two passages: the sentence that answers begins at
// the end of one and ends in the next. withNeighbours extends each of the
// first n results by up to neighbourChars of the text just before or after
// it in its document when the query's words cluster more tightly across
// that edge than anywhere inside the passage.
const neighbourChars = 400

func withNeighbours(ctx context.Context, ex sqlite.Execer, ss []Source, words []weighted, n int) error {
	return withNeighboursIn(ctx, ex, ss, words, n, nil, nil)
}

// withNeighboursIn is withNeighbours with the week's passages' words (nil:
// none), which give a passage's own coverage without reading it again, and
// the week's passages (nil: none), which give the neighbours without
// asking the database.
func withNeighboursIn(ctx context.Context, ex sqlite.Execer, ss []Source, words []weighted, n int, pw *passageWords, wp *weekPassages) error {
	return neighboursQ(ctx, ex, ss, newQueryWords(words, pw), n, wp)
}

// neighboursQ is withNeighboursIn with the query's coverage keys made once
// per search. When the week's copy holds every one of the first n results,
// each result's edges are compared as the week's numbered words (made the
// first time the passage is a result, weekPassages.edge) rather than by
// reading the text across its edges again on every turn; the comparison
// is the same.
func neighboursQ(ctx context.Context, ex sqlite.Execer, ss []Source, q *queryWords, n int, wp *weekPassages) error {
	n = min(n, len(ss))
	if n == 0 || len(q.words) == 0 {
		return nil
	}
	if q.wd != nil && wp != nil && wp.pw == q.wd.pw {
		held := true
		for i := range n {
			if _, ok := wp.position(ss[i].ChunkID); !ok {
				held = false
				break
			}
		}
		if held {
			for i := range n {
				pos, _ := wp.position(ss[i].ChunkID)
				e := wp.edge(pos)
				if e.side == nil {
					continue
				}
				var inside, after, before float64
				if ss[i].Content == wp.text[pos] {
					_, inside = q.wd.cover(wp.pw.words[pos], nil)
					_, after = q.wd.cover(e.after, e.extra)
					_, before = q.wd.cover(e.before, e.extra)
				} else {
					_, inside = coverage(ss[i].Content, q.want, q.weights)
					after, before = edgeCoverage(ss[i].Content, e.side, q)
				}
				extendAcross(&ss[i], e.side, inside, after, before)
			}
			return nil
		}
	}
	ids := make([]int64, n)
	for i := range n {
		ids[i] = ss[i].ChunkID
	}
	ext, ok := wp.neighbours(ids)
	if !ok {
		var err error
		if ext, err = neighboursFromDB(ctx, ex, ids); err != nil {
			return err
		}
	}
	for i := range n {
		e := ext[ss[i].ChunkID]
		if e == nil {
			continue
		}
		_, inside, ok := q.wd.coverage(ss[i].ChunkID, ss[i].Content)
		if !ok {
			_, inside = coverage(ss[i].Content, q.want, q.weights)
		}
		after, before := edgeCoverage(ss[i].Content, e, q)
		extendAcross(&ss[i], e, inside, after, before)
	}
	return nil
}

// edgeTexts are the texts compared across a passage's edges: its last
// neighbourChars with the text after it, and the text before it with its
// first neighbourChars.
func edgeTexts(c string, e *side) (after, before string) {
	return tailOf(c, neighbourChars) + " " + e.after, e.before + " " + headOf(c, neighbourChars)
}

// edgeCoverage is how many of the query's words come together across the
// end of the passage c and across its start, read from the texts.
func edgeCoverage(c string, e *side, q *queryWords) (after, before float64) {
	at, bt := edgeTexts(c, e)
	_, after = coverage(at, q.want, q.weights)
	_, before = coverage(bt, q.want, q.weights)
	return after, before
}

// extendAcross extends src by the neighbour's text across the edge where
// the query's words come closer together than inside it.
func extendAcross(src *Source, e *side, inside, after, before float64) {
	c := src.Content
	switch {
	case e.after != "" && after > inside && after >= before:
		src.Content = strings.TrimRightFunc(c, unicode.IsSpace) + " " + e.after
	case e.before != "" && before > inside:
		src.Content = e.before + " " + strings.TrimLeftFunc(c, unicode.IsSpace)
	}
}

// side is the text just before and just after a passage in its document.
type side struct{ before, after string }

// neighboursFromDB reads each passage's neighbours' text from the database.
func neighboursFromDB(ctx context.Context, ex sqlite.Execer, ids []int64) (map[int64]*side, error) {
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i], marks[i] = id, "?"
	}
	// For each result: its span, and its neighbours' spans and text (the
	// fallback for results not in the week's copy in memory). The
	// neighbours as a range, not IN (i-1, i+1): PostgreSQL planned the IN
	// list as a scan of the (document_id, chunk_index) index on
	// chunk_index alone, about 36 ms a result beside 300,000 other
	// passages; the range is a range scan (0.08 ms).
	rows, err := ex.QueryContext(ctx, `SELECT c.id, c.char_start, c.char_end, n.chunk_index - c.chunk_index, n.char_start, n.content
		FROM chunks c JOIN chunks n ON n.document_id = c.document_id
			AND n.chunk_index BETWEEN c.chunk_index - 1 AND c.chunk_index + 1 AND n.chunk_index <> c.chunk_index
		WHERE c.id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("neighbouring passages: %w", err)
	}
	defer rows.Close()
	ext := map[int64]*side{}
	for rows.Next() {
		var id, start, end, dir, nstart int64
		var text string
		if err := rows.Scan(&id, &start, &end, &dir, &nstart, &text); err != nil {
			return nil, fmt.Errorf("neighbouring passages: %w", err)
		}
		ext[id] = neighbourSide(ext[id], dir, start, end, nstart, text)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("neighbouring passages: %w", err)
	}
	return ext, nil
}

// neighbourSide adds to e (nil: a new one) the neighbour that starts at
// nstart with text, after the passage spanning start..end when dir > 0,
// else before it.
func neighbourSide(e *side, dir, start, end, nstart int64, text string) *side {
	if e == nil {
		e = &side{}
	}
	if dir > 0 { // the text after this passage's end
		if cut := end - nstart; cut >= 0 && cut < int64(len(text)) {
			e.after = headOf(text[cut:], neighbourChars)
		}
	} else if cut := start - nstart; cut > 0 && cut <= int64(len(text)) {
		e.before = tailOf(text[:cut], neighbourChars)
	}
	return e
}

// headOf is about the first n bytes of s, cut after a space.
func headOf(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > 0 {
		return s[:i]
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// tailOf is about the last n bytes of s, cut before a space.
func tailOf(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	if i := strings.IndexByte(s[len(s)-n:], ' '); i >= 0 {
		return s[len(s)-n+i+1:]
	}
	k := len(s) - n
	for k < len(s) && !utf8.RuneStart(s[k]) {
		k++
	}
	return s[k:]
}
