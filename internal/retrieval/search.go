package retrieval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// rrfK is reciprocal rank fusion's constant: a passage's fused score is
// the sum over the rankings of 1/(rrfK + rank), rank counted from 1.
const rrfK = 60

// Searcher answers searches: BM25 alone, or fused with the current
// model's vectors when an embedder is configured.
type Searcher struct {
	emb   Embedder // nil: BM25 only
	cache *weekCache
	log   *slog.Logger
	// vectorsOffUntil (Unix ns): searches use BM25 alone until then, after
	// the embedder failed on a question.
	vectorsOffUntil atomic.Int64
	queryTimeout    time.Duration // queryEmbedTimeout; shorter in tests
	tuning          Tuning
}

// NewSearcher returns a searcher; emb may be nil. cacheBytes bounds the
// memory kept for weeks' indexes and vectors (0: 256 MiB).
func NewSearcher(emb Embedder, cacheBytes int64, log *slog.Logger) *Searcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cacheBytes <= 0 {
		cacheBytes = 256 << 20
	}
	return &Searcher{emb: emb, cache: newWeekCache(cacheBytes), log: log, queryTimeout: queryEmbedTimeout, tuning: DefaultTuning}
}

// Hybrid reports whether searches use vectors.
func (s *Searcher) Hybrid() bool { return s.emb != nil }

// Search returns up to k passages of the week's processed documents for
// query, best first: BM25 over the week's passages, fused with the
// similarity of their vectors to the query's when there is an embedder.
func (s *Searcher) Search(ctx context.Context, ex sqlite.Execer, weekID int64, query string, k int) ([]Source, error) {
	return s.search(ctx, ex, weekID, Turn{Student: query}, k)
}

func (s *Searcher) search(ctx context.Context, ex sqlite.Execer, weekID int64, t Turn, k int) ([]Source, error) {
	k = min(max(k, 1), MaxK)
	if s.emb == nil {
		return s.lexical(ctx, ex, weekID, t, k)
	}
	if time.Now().UnixNano() < s.vectorsOffUntil.Load() {
		return s.lexical(ctx, ex, weekID, t, k)
	}
	qctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	qv, err := s.emb.Embed(qctx, []string{t.Text()})
	cancel()
	if err != nil || len(qv) != 1 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The readings must stay searchable, and quickly, while an
		// embeddings server is slow or down: BM25 alone, for this search
		// and the next while, and the log says why.
		s.vectorsOffUntil.Store(time.Now().Add(vectorsOffFor).UnixNano())
		s.log.WarnContext(ctx, "embedding the question failed; searching with BM25 alone for a while", "err", err, "for", vectorsOffFor)
		return s.lexical(ctx, ex, weekID, t, k)
	}
	return s.hybrid(ctx, ex, weekID, t, qv[0], k)
}

// neighbourResults is how many of a search's first results may be
// extended across an edge (a tutor turn uses the first few).
const neighbourResults = 5

// queryEmbedTimeout bounds the embedding of a question: a tutor turn cannot
// wait on a slow embeddings server (ONNX Runtime takes about 5 ms; the
// pure-Go runtime under a second even while it is embedding passages).
const queryEmbedTimeout = 2 * time.Second

// vectorsOffFor is how long searches skip vectors after the embedder failed.
const vectorsOffFor = 30 * time.Second

// SearchWithVector is the hybrid search for a query whose vector is known
// (benchmarks measure search apart from embedding the query this way).
func (s *Searcher) SearchWithVector(ctx context.Context, ex sqlite.Execer, weekID int64, query string, qv []float32, k int) ([]Source, error) {
	if s.emb == nil {
		return nil, errors.New("search with a vector: no embedder")
	}
	return s.hybrid(ctx, ex, weekID, Turn{Student: query}, qv, min(max(k, 1), MaxK))
}

// lexical is BM25 alone: its best candidates, reranked by how many of the
// question's words they hold and how close together.
func (s *Searcher) lexical(ctx context.Context, ex sqlite.Execer, weekID int64, query Turn, k int) ([]Source, error) {
	w, err := s.weekOf(ctx, ex, weekID, query)
	if err != nil {
		return nil, err
	}
	// The turn's words and their coverage keys, made once for the ranking
	// and the neighbours.
	q := newQueryWords(s.tuning.turnWords(query), w.lex.words)
	out, err := s.bm25q(ctx, ex, w, weekID, query, q, k)
	if err != nil {
		return nil, err
	}
	out = out[:min(k, len(out))]
	if s.tuning.Neighbours {
		if err := neighboursQ(ctx, ex, out, q, neighbourResults, w.pass); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bm25 returns BM25's best candidates with their passages, reranked;
// words are s.tuning.turnWords(query). first > 0 asks for the first few
// results only (a turn's), and at most that many are returned; 0, for
// every candidate.
//
// The database says which candidates are still the week's processed
// passages (weekPassages.stillThere; the copy in memory may be a moment
// stale). For the first few, only they and the best-scored candidate are
// asked about, once the ranking of every candidate in memory is made:
// each step of the ranking scores a passage by itself (against the best
// candidate's score) and sorts stably, so when those are all still there,
// leaving out any candidate that is gone would not have changed them. If
// one is gone, every candidate is asked about and the ranking made again,
// as for first == 0. Asking about 50 candidates was two-fifths of a
// turn's search.
func (s *Searcher) bm25(ctx context.Context, ex sqlite.Execer, w *weekData, weekID int64, query Turn, words []weighted, first int) ([]Source, error) {
	return s.bm25q(ctx, ex, w, weekID, query, newQueryWords(words, w.lex.words), first)
}

// bm25q is bm25 with the query's words and coverage keys (newQueryWords
// of the week's passages' words).
func (s *Searcher) bm25q(ctx context.Context, ex sqlite.Execer, w *weekData, weekID int64, query Turn, q *queryWords, first int) ([]Source, error) {
	tn := s.tuning
	var terms []weighted
	var sts []string
	for _, qw := range q.words { // indexed as the passages' words are
		sts = w.lex.terms(sts[:0], qw.word)
		for _, st := range sts {
			if !slices.ContainsFunc(terms, func(t weighted) bool { return t.word == st }) {
				terms = append(terms, weighted{st, qw.w})
			}
		}
	}
	docs, scores := w.lex.search(terms, candidates, tn.K1, tn.B)
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = w.lex.ids[d]
	}
	var named map[int64]bool
	phrases := mentions(query.Student)
	if tn.CaseBoost > 0 && len(phrases) > 0 {
		var err error
		if named, err = namingDocuments(ctx, ex, weekID, phrases); err != nil {
			return nil, err
		}
	} else {
		phrases = nil
	}
	rank := func(out []Source) {
		if tn.Rerank {
			rerankQ(out, q)
		}
		if tn.Listing != 1 {
			demoteListings(out, tn.Listing)
		}
		if phrases != nil {
			boostMentions(out, phrases, named, tn.CaseBoost)
		}
	}
	if first > 0 && len(ids) > 0 {
		if out, ok := w.pass.held(ids, scores); ok {
			rank(out)
			out = out[:min(first, len(out))]
			check := make([]int64, 1, len(out)+1)
			check[0] = ids[0] // its score scales every other's (rerankIn)
			for _, src := range out {
				if src.ChunkID != ids[0] {
					check = append(check, src.ChunkID)
				}
			}
			there, err := w.pass.stillThere(ctx, ex, weekID, check)
			if err != nil {
				return nil, err
			}
			if len(there) == len(check) {
				return out, nil
			}
		}
	}
	have := make(map[int64]Source, len(ids))
	if err := w.pass.fetch(ctx, ex, weekID, ids, have); err != nil {
		return nil, err
	}
	out := make([]Source, 0, len(ids))
	for i, id := range ids {
		if src, ok := have[id]; ok {
			src.Score = float64(scores[i])
			out = append(out, src)
		}
	}
	rank(out)
	if first > 0 {
		out = out[:min(first, len(out))]
	}
	return out, nil
}

// weekOf is the week's data for a search of query: at the versions the
// query brings (Turn.Version), or at those read now.
func (s *Searcher) weekOf(ctx context.Context, ex sqlite.Execer, weekID int64, query Turn) (*weekData, error) {
	if query.Version != nil {
		return s.cache.weekAt(ctx, ex, weekID, s.model(), *query.Version)
	}
	return s.cache.week(ctx, ex, weekID, s.model())
}

func (s *Searcher) model() string {
	if s.emb == nil {
		return ""
	}
	return s.emb.Model()
}

// hybrid fuses BM25's ranking with the vectors' for the query vector qv.
func (s *Searcher) hybrid(ctx context.Context, ex sqlite.Execer, weekID int64, query Turn, qv []float32, k int) ([]Source, error) {
	w, err := s.weekOf(ctx, ex, weekID, query)
	if err != nil {
		return nil, err
	}
	q := newQueryWords(s.tuning.turnWords(query), w.lex.words)
	lexical, err := s.bm25q(ctx, ex, w, weekID, query, q, 0)
	if err != nil {
		return nil, err
	}
	semantic := w.vec.nearest(qv, candidates)

	fused := map[int64]float64{}
	for r, src := range lexical {
		fused[src.ChunkID] += 1 / float64(rrfK+r+1)
	}
	for r, id := range semantic {
		fused[id] += 1 / float64(rrfK+r+1)
	}
	ids := make([]int64, 0, len(fused))
	for id := range fused {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		if fused[ids[a]] != fused[ids[b]] {
			return fused[ids[a]] > fused[ids[b]]
		}
		return ids[a] < ids[b]
	})
	// Passages come from BM25's rows where it has them, else from the
	// week's copy in memory or the chunks table — in both cases the
	// database is asked again which are this week's processed documents'
	// (weekPassages.fetch), so a chunk deleted, or of a document being
	// reprocessed, since the copy in memory was made is never returned.
	have := map[int64]Source{}
	for _, src := range lexical {
		have[src.ChunkID] = src
	}
	out := make([]Source, 0, k)
	for next := 0; next < len(ids) && len(out) < k; {
		window := ids[next:min(len(ids), next+k-len(out))]
		next += len(window)
		var missing []int64
		for _, id := range window {
			if _, ok := have[id]; !ok {
				missing = append(missing, id)
			}
		}
		if err := w.pass.fetch(ctx, ex, weekID, missing, have); err != nil {
			return nil, err
		}
		for _, id := range window {
			if src, ok := have[id]; ok {
				src.Score = fused[id]
				out = append(out, src)
			}
		}
	}
	if s.tuning.Neighbours {
		if err := neighboursQ(ctx, ex, out, q, neighbourResults, w.pass); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fetchSources loads the passages with the given ids that belong to the
// week's processed documents into have.
func fetchSources(ctx context.Context, ex sqlite.Execer, weekID int64, ids []int64, have map[int64]Source) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{weekID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	rows, err := ex.QueryContext(ctx, `SELECT c.id, c.document_id, d.original_filename, c.page, c.content
		FROM chunks c JOIN documents d ON d.id = c.document_id
		WHERE c.week_id = ? AND d.status = 'processed' AND c.id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return fmt.Errorf("search week %d: %w", weekID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Source
		if err := rows.Scan(&s.ChunkID, &s.DocumentID, &s.Filename, &s.Page, &s.Content); err != nil {
			return fmt.Errorf("search week %d: %w", weekID, err)
		}
		have[s.ChunkID] = s
	}
	return rows.Err()
}

// weekVectors is an in-memory copy of one week's vectors of one model.
type weekVectors struct {
	dim  int
	ids  []int64
	vecs []float32 // len(ids) × dim
}

func (w *weekVectors) bytes() int64 {
	if w == nil {
		return 0
	}
	return int64(len(w.vecs))*4 + int64(len(w.ids))*8
}

// nearest returns the ids of the n vectors most similar to q (dot product:
// all vectors are unit length), best first. Vectors of another dimension
// than q's cannot be compared and give nothing. Large weeks are scanned
// on every core.
func (w *weekVectors) nearest(q []float32, n int) []int64 {
	if w == nil || len(q) != w.dim || len(w.ids) == 0 {
		return nil
	}
	parts := 1
	if len(w.ids)*w.dim >= parallelScan {
		parts = runtime.GOMAXPROCS(0)
	}
	heaps := make([]scoreHeap, parts)
	var wg sync.WaitGroup
	per := (len(w.ids) + parts - 1) / parts
	for p := range parts {
		wg.Go(func() {
			h := make(scoreHeap, 0, n+1)
			for i := p * per; i < min(len(w.ids), (p+1)*per); i++ {
				h.offer(scored{i, dot(q, w.vecs[i*w.dim:(i+1)*w.dim])}, n)
			}
			heaps[p] = h
		})
	}
	wg.Wait()
	h := heaps[0]
	for _, other := range heaps[1:] {
		for _, s := range other {
			h.offer(s, n)
		}
	}
	out := make([]int64, len(h))
	for j := len(h) - 1; j >= 0; j-- {
		out[j] = w.ids[h.pop().i]
	}
	return out
}

// parallelScan is the size (vectors × dimension) from which a scan is
// split over the cores: below it, starting goroutines costs more than it
// saves.
const parallelScan = 1 << 20

// offer keeps s if it is among the best n seen. The heap is worked
// without container/heap, whose interface boxed each pushed and popped
// score (an allocation each, up to 50 per search); it keeps the same
// order (worse is a total order: ties go by position).
func (h *scoreHeap) offer(s scored, n int) {
	if len(*h) < n {
		*h = append(*h, s)
		h.up(len(*h) - 1)
	} else if worse((*h)[0], s) {
		(*h)[0] = s
		h.down(0)
	}
}

// pop removes and returns the worst of the heap.
func (h *scoreHeap) pop() scored {
	old := *h
	n := len(old) - 1
	old[0], old[n] = old[n], old[0]
	old[:n].down(0)
	*h = old[:n]
	return old[n]
}

func (h scoreHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !worse(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
}

func (h scoreHeap) down(i int) {
	for {
		j := 2*i + 1
		if j >= len(h) {
			return
		}
		if j2 := j + 1; j2 < len(h) && worse(h[j2], h[j]) {
			j = j2
		}
		if !worse(h[j], h[i]) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

type scored struct {
	i     int
	score float32
}

// scoreHeap is a min-heap: the worst of the best n on top (offer, pop).
type scoreHeap []scored

// worse: a lower score, or on a tie the later passage (so results do not
// depend on how a scan was split).
func worse(a, b scored) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.i > b.i
}

// weekData is what a search of one week needs in memory: the BM25 index
// of its processed passages and their vectors of the current model.
type weekData struct {
	v     versions
	model string
	lex   *lexIndex
	pass  *weekPassages // the passages lex indexes, as a search returns them
	vec   *weekVectors
	used  uint64 // for eviction: the cache's clock at last use
}

// versions are a week's: of its passages (and their documents' status),
// and of its vectors. Triggers bump them on every change.
type versions struct{ passages, vectors int64 }

// covers reports whether data made at versions v is current for want, for
// a searcher of the model ("" for BM25 alone, which ignores vectors).
func (v versions) covers(want versions, model string) bool {
	return v.passages >= want.passages && (model == "" || v.vectors >= want.vectors)
}

func (w *weekData) bytes() int64 { return w.lex.bytes + w.pass.bytes() + w.vec.bytes() }

// weekCache keeps weeks' data in memory, each checked against the week's
// versions before use, and evicts the least recently used weeks beyond its
// budget.
type weekCache struct {
	mu      sync.Mutex
	weeks   map[int64]*weekData
	loading map[int64]*loadCall
	bytes   int64
	budget  int64
	clock   uint64
}

// loadCall is one load of a week that concurrent searches share.
type loadCall struct {
	done chan struct{}
	w    *weekData
	err  error
}

func newWeekCache(budget int64) *weekCache {
	return &weekCache{weeks: map[int64]*weekData{}, loading: map[int64]*loadCall{}, budget: budget}
}

// week returns the week's data for the model, from memory when current.
// The versions are read before the data: a change landing in between makes
// the copy look older than it is (reloaded next time), never newer. When
// only vectors changed (embedding in progress), the BM25 index is kept and
// only the vectors are read again.
func (c *weekCache) week(ctx context.Context, ex sqlite.Execer, weekID int64, model string) (*weekData, error) {
	v, err := ReadWeekVersion(ctx, ex, weekID)
	if err != nil {
		return nil, err
	}
	return c.weekAt(ctx, ex, weekID, model, v)
}

// WeekVersion is a week's versions (see the migration that made
// week_versions) as a caller read them (ReadWeekVersion, or
// WeekVersionColumns in a statement of its own): a search
// given one (Turn.Version) uses the week's copy in memory if it is at
// least as new, and does not read them again.
type WeekVersion struct{ Passages, Vectors int64 }

// WeekVersionColumns is the week's versions as two SQL columns
// (passages, vectors) of the week whose id is the statement's parameter
// param (such as "?3"), for a caller that reads them in a statement of its
// own and scans them into a WeekVersion: what ReadWeekVersion reads, by the
// same SQL.
func WeekVersionColumns(param string) string {
	return `(SELECT coalesce(max(passages), 0) FROM week_versions WHERE week_id = ` + param + `), ` +
		`(SELECT coalesce(max(vectors), 0) FROM week_versions WHERE week_id = ` + param + `)`
}

var readWeekVersionQuery = `SELECT ` + WeekVersionColumns("?1")

// ReadWeekVersion reads the week's versions through ex.
func ReadWeekVersion(ctx context.Context, ex sqlite.Execer, weekID int64) (WeekVersion, error) {
	var v WeekVersion
	err := ex.QueryRowContext(ctx, readWeekVersionQuery, weekID).Scan(&v.Passages, &v.Vectors)
	if err != nil {
		return WeekVersion{}, fmt.Errorf("search week %d: %w", weekID, err)
	}
	return v, nil
}

// weekAt is week for versions the caller has read (v): the copy in memory
// if it covers them, else the week loaded (and labelled v: if it changed
// since v was read, the copy looks older than it is and is loaded again
// next time, never the reverse).
func (c *weekCache) weekAt(ctx context.Context, ex sqlite.Execer, weekID int64, model string, v WeekVersion) (_ *weekData, err error) {
	want := versions{v.Passages, v.Vectors}
	c.mu.Lock()
	old := c.weeks[weekID]
	if old != nil && old.model == model && old.v.covers(want, model) {
		c.clock++
		old.used = c.clock
		c.mu.Unlock()
		return old, nil
	}
	if call, ok := c.loading[weekID]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if call.err == nil && call.w.model == model && call.w.v.covers(want, model) {
			return call.w, nil
		}
		return c.load(ctx, ex, weekID, model, want, old) // it loaded something older
	}
	call := &loadCall{done: make(chan struct{})}
	c.loading[weekID] = call
	c.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			call.w, call.err = nil, fmt.Errorf("search week %d: %v", weekID, p)
			err = call.err
		}
		c.mu.Lock()
		delete(c.loading, weekID)
		c.mu.Unlock()
		close(call.done)
	}()
	call.w, call.err = c.load(ctx, ex, weekID, model, want, old)
	return call.w, call.err
}

// load reads the week (reusing old's BM25 index when its passages are
// unchanged) and keeps it if it fits.
func (c *weekCache) load(ctx context.Context, ex sqlite.Execer, weekID int64, model string, v versions, old *weekData) (*weekData, error) {
	var w *weekData
	var err error
	if old != nil && old.model == model && old.v.passages >= v.passages {
		w = &weekData{v: versions{old.v.passages, v.vectors}, model: model, lex: old.lex, pass: old.pass}
		if model != "" {
			w.vec, err = loadVectors(ctx, ex, weekID, model)
		}
	} else {
		w, err = loadWeek(ctx, ex, weekID, model, v)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.weeks[weekID]; ok {
		if cur.model == model && cur.v.covers(w.v, model) {
			return w, nil // a copy as new arrived meanwhile: keep it
		}
		c.bytes -= cur.bytes()
		delete(c.weeks, weekID)
	}
	if w.bytes() > c.budget {
		return w, nil // too big to keep: used for this search only
	}
	for c.bytes+w.bytes() > c.budget {
		c.evictOldest()
	}
	c.clock++
	w.used = c.clock
	c.weeks[weekID] = w
	c.bytes += w.bytes()
	return w, nil
}

func (c *weekCache) evictOldest() {
	var oldest int64
	first := true
	for id, w := range c.weeks {
		if first || w.used < c.weeks[oldest].used {
			oldest, first = id, false
		}
	}
	if !first {
		c.bytes -= c.weeks[oldest].bytes()
		delete(c.weeks, oldest)
	}
}

// loadWeek reads the week's processed passages and, for a model, their
// vectors.
func loadWeek(ctx context.Context, ex sqlite.Execer, weekID int64, model string, v versions) (*weekData, error) {
	rows, err := ex.QueryContext(ctx, `SELECT c.id, c.document_id, d.original_filename, c.page, c.chunk_index, c.char_start, c.char_end, c.content FROM chunks c JOIN documents d ON d.id = c.document_id
		WHERE c.week_id = ? AND d.status = 'processed' ORDER BY c.id`, weekID)
	if err != nil {
		return nil, fmt.Errorf("search week %d: %w", weekID, err)
	}
	defer rows.Close()
	var ids []int64
	var texts []string
	var meta []passageMeta
	files := map[string]string{} // one copy of each document's name
	for rows.Next() {
		var text string
		var m passageMeta
		if err := rows.Scan(&m.id, &m.doc, &m.file, &m.page, &m.index, &m.charStart, &m.charEnd, &text); err != nil {
			return nil, fmt.Errorf("search week %d: %w", weekID, err)
		}
		if f, ok := files[m.file]; ok {
			m.file = f
		} else {
			files[m.file] = m.file
		}
		ids, texts, meta = append(ids, m.id), append(texts, text), append(meta, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search week %d: %w", weekID, err)
	}
	lex := newLexIndex(ids, texts)
	w := &weekData{v: v, model: model, lex: lex, pass: newWeekPassages(meta, lex.words)}
	if model != "" {
		if w.vec, err = loadVectors(ctx, ex, weekID, model); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// loadVectors reads the vectors of the model of the week's processed
// passages. Only one dimension can be compared with a query: that of the
// model's vectors, which are all alike unless the model behind a name
// changed; then the commonest wins until re-embedding replaces the rest.
func loadVectors(ctx context.Context, ex sqlite.Execer, weekID int64, model string) (*weekVectors, error) {
	rows, err := ex.QueryContext(ctx, `SELECT v.chunk_id, v.dim, v.vec FROM chunk_vectors v
		JOIN chunks c ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id
		WHERE v.week_id = ? AND v.model = ? AND c.week_id = v.week_id AND d.status = 'processed' ORDER BY v.chunk_id`, weekID, model)
	if err != nil {
		return nil, fmt.Errorf("vectors of week %d: %w", weekID, err)
	}
	defer rows.Close()
	byDim := map[int]*weekVectors{}
	for rows.Next() {
		var id int64
		var dim int
		var b []byte
		if err := rows.Scan(&id, &dim, &b); err != nil {
			return nil, fmt.Errorf("vectors of week %d: %w", weekID, err)
		}
		w := byDim[dim]
		if w == nil {
			w = &weekVectors{dim: dim}
			byDim[dim] = w
		}
		w.ids = append(w.ids, id)
		w.vecs = decodeVector(w.vecs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vectors of week %d: %w", weekID, err)
	}
	best := &weekVectors{}
	for _, w := range byDim {
		if len(w.ids) > len(best.ids) {
			best = w
		}
	}
	return best, nil
}

// Status is what /api/health reports of embeddings.
type Status struct {
	Status   string // ok, disabled or error
	Provider string // local, openai or none
	Model    string
	Backend  string // for local: onnxruntime or go
}
