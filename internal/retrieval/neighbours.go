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
	n = min(n, len(ss))
	if n == 0 || len(words) == 0 {
		return nil
	}
	want, weights, _ := wantOf(words)
	wd := pw.wanted(want, weights)
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
		_, inside, ok := wd.coverage(ss[i].ChunkID, ss[i].Content)
		if !ok {
			_, inside = coverage(ss[i].Content, want, weights)
		}
		c := ss[i].Content
		_, after := coverage(tailOf(c, neighbourChars)+" "+e.after, want, weights)
		_, before := coverage(e.before+" "+headOf(c, neighbourChars), want, weights)
		switch {
		case e.after != "" && after > inside && after >= before:
			ss[i].Content = strings.TrimRightFunc(c, unicode.IsSpace) + " " + e.after
		case e.before != "" && before > inside:
			ss[i].Content = e.before + " " + strings.TrimLeftFunc(c, unicode.IsSpace)
		}
	}
	return nil
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
