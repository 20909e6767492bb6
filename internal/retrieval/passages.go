package retrieval

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// weekPassages is what a search returns of each of a week's processed
// passages besides its text (which the index's passageWords keeps), read
// with the index and as current as it: the week's versions, checked before
// every search, change whenever a chunk or its document's status does, and
// a document's file name never changes. A turn's search used to read its
// candidates' rows and their neighbours' from the database again, two
// queries that were a tenth of a turn's CPU; now it asks only which of its
// candidates are still there (fetch).
type weekPassages struct {
	meta []passageMeta        // in the index's order
	at   map[chunkPlace]int32 // a passage's place in its document → its position
	text []string             // the index's passageWords.text
	of   map[int64]int32      // the index's passageWords.of: chunk id → position
	pw   *passageWords        // the index's
	// edges are each passage's edges as withNeighbours compares them,
	// made the first time the passage is one of a search's first results
	// (most of a week's passages never are) and kept while the week is.
	edges []atomic.Pointer[edgeWords]
}

// edgeWords are what withNeighbours compares across a passage's edges,
// in the week's numbering of words (passageWords): the words of
// tailOf(text)+" "+side.after and of side.before+" "+headOf(text)
// (edgeTexts). A neighbour's text cut inside a word may give a prefix no
// passage has; extra holds those (numbered -1, -2, …).
type edgeWords struct {
	side          *side // nil: the passage has no neighbour
	after, before []int32
	extra         []string
}

type passageMeta struct {
	id, doc            int64
	file               string
	page               int
	index              int64 // chunk_index
	charStart, charEnd int64
}

type chunkPlace struct{ doc, index int64 }

func newWeekPassages(meta []passageMeta, pw *passageWords) *weekPassages {
	p := &weekPassages{meta: meta, at: make(map[chunkPlace]int32, len(meta)), text: pw.text, of: pw.of, pw: pw,
		edges: make([]atomic.Pointer[edgeWords], len(meta))}
	for i, m := range meta {
		p.at[chunkPlace{m.doc, m.index}] = int32(i)
	}
	return p
}

// edgeReserve is the room a passage's edgeWords are given in the cache's
// budget before they are made: its words on either side as numbers, the
// side's texts, the prefixes no passage has.
const edgeReserve = 1536

func (p *weekPassages) bytes() int64 {
	if p == nil {
		return 0
	}
	// meta (about 72 bytes each, a file name shared per document), the
	// place map and the edges' pointers; text and of belong to the index.
	// The edges are made later, for each passage the first time it is a
	// result; their room is reserved now, so a week whose every passage
	// has been a result stays within the cache's budget: on the corpus
	// they came to 1.37 KB a passage (a review's measure), edgeReserve
	// each.
	return int64(len(p.meta))*(72+40+8+edgeReserve) + 64
}

// position is the passage's position in the week's copy, and whether the
// copy has it.
func (p *weekPassages) position(id int64) (int32, bool) {
	if p == nil {
		return 0, false
	}
	i, ok := p.of[id]
	if !ok || int(i) >= len(p.meta) || p.meta[i].id != id {
		return 0, false
	}
	return i, true
}

// edge is the passage at position i's edgeWords, made on first use.
// Searches running at once may each make it; they make the same.
func (p *weekPassages) edge(i int32) *edgeWords {
	if e := p.edges[i].Load(); e != nil {
		return e
	}
	c := p.meta[i]
	e := &edgeWords{}
	for _, dir := range [2]int64{-1, 1} { // as neighbours does
		if j, found := p.at[chunkPlace{c.doc, c.index + dir}]; found {
			e.side = neighbourSide(e.side, dir, c.charStart, c.charEnd, p.meta[j].charStart, p.text[j])
		}
	}
	if e.side != nil {
		after, before := edgeTexts(p.text[i], e.side)
		e.after = p.numbered(after, &e.extra)
		e.before = p.numbered(before, &e.extra)
	}
	p.edges[i].Store(e)
	return e
}

// numbered is the text's words in the week's numbering, adding to extra
// the prefixes the week's passages do not have.
func (p *weekPassages) numbered(text string, extra *[]string) []int32 {
	var ws []int32
	eachWordPrefix(text, func(b []byte) {
		if n, ok := p.pw.prefixes[string(b)]; ok {
			ws = append(ws, n)
			return
		}
		k := slices.Index(*extra, string(b))
		if k < 0 {
			k = len(*extra)
			*extra = append(*extra, string(b))
		}
		ws = append(ws, int32(-k-1))
	})
	return ws
}

// source is the passage with the chunk id, and whether the week has it.
func (p *weekPassages) source(id int64) (Source, bool) {
	if p == nil {
		return Source{}, false
	}
	i, ok := p.of[id]
	if !ok || int(i) >= len(p.meta) || p.meta[i].id != id {
		return Source{}, false
	}
	m := p.meta[i]
	return Source{ChunkID: id, DocumentID: m.doc, Filename: m.file, Page: m.page, Content: p.text[i]}, true
}

// fetch is fetchSources with what the week holds in memory: the database
// is still asked which of the ids are passages of the week's processed
// documents, and whether each row is where the copy has it (stillThere),
// so that a copy gone stale never returns a deleted passage or another's
// text under its id; their text comes from memory. A held id whose row
// has moved is left out. An id the copy does not hold is read from the
// database as before.
func (p *weekPassages) fetch(ctx context.Context, ex sqlite.Execer, weekID int64, ids []int64, have map[int64]Source) error {
	if p == nil {
		return fetchSources(ctx, ex, weekID, ids, have)
	}
	var held, missing []int64
	for _, id := range ids {
		if _, ok := p.source(id); ok {
			held = append(held, id)
		} else {
			missing = append(missing, id)
		}
	}
	there, err := p.stillThere(ctx, ex, weekID, held)
	if err != nil {
		return err
	}
	for id := range there {
		if s, ok := p.source(id); ok {
			have[id] = s
		}
	}
	return fetchSources(ctx, ex, weekID, missing, have)
}

// stillThere is which of ids the database still has as the same passages
// of the week's processed documents: each id's row must still be where
// the copy has it (its document, place in it, page and offsets). SQLite
// may give a deleted passage's id to a new one (a document reprocessed:
// its passages deleted and inserted again), and the copy's text of the
// old passage must not be returned under the new one's id.
func (p *weekPassages) stillThere(ctx context.Context, ex sqlite.Execer, weekID int64, ids []int64) (map[int64]bool, error) {
	there := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return there, nil
	}
	args := make([]any, 0, 1+len(ids))
	args = append(args, weekID)
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	rows, err := ex.QueryContext(ctx, `SELECT c.id, c.document_id, c.chunk_index, c.page, c.char_start, c.char_end FROM chunks c JOIN documents d ON d.id = c.document_id
		WHERE c.week_id = ? AND d.status = 'processed' AND c.id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("search week %d: %w", weekID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m passageMeta
		if err := rows.Scan(&m.id, &m.doc, &m.index, &m.page, &m.charStart, &m.charEnd); err != nil {
			return nil, fmt.Errorf("search week %d: %w", weekID, err)
		}
		if i, ok := p.position(m.id); ok {
			if h := p.meta[i]; h.doc == m.doc && h.index == m.index && h.page == m.page && h.charStart == m.charStart && h.charEnd == m.charEnd {
				there[m.id] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search week %d: %w", weekID, err)
	}
	return there, nil
}

// held is the candidates ids as the week's copy in memory has them, each
// with its score, in the same order; false if the copy lacks one.
func (p *weekPassages) held(ids []int64, scores []float32) ([]Source, bool) {
	if p == nil {
		return nil, false
	}
	out := make([]Source, len(ids))
	for i, id := range ids {
		src, ok := p.source(id)
		if !ok {
			return nil, false
		}
		src.Score = float64(scores[i])
		out[i] = src
	}
	return out, true
}

// neighbours is what the neighbour query of withNeighboursIn returns for
// the ids, from memory: each passage's text just before and after it in
// its document. ok is false when one of the ids is not the week's (then
// the database is asked, as before).
func (p *weekPassages) neighbours(ids []int64) (ext map[int64]*side, ok bool) {
	if p == nil {
		return nil, false
	}
	ext = map[int64]*side{}
	for _, id := range ids {
		i, found := p.of[id]
		if !found || int(i) >= len(p.meta) || p.meta[i].id != id {
			return nil, false
		}
		c := p.meta[i]
		for _, dir := range [2]int64{-1, 1} {
			j, found := p.at[chunkPlace{c.doc, c.index + dir}]
			if !found {
				continue
			}
			n := p.meta[j]
			ext[id] = neighbourSide(ext[id], dir, c.charStart, c.charEnd, n.charStart, p.text[j])
		}
	}
	return ext, true
}
