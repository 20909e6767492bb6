package retrieval

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/retrieval/local"
	"github.com/lawtutor/socratic/internal/retrieval/local/localtest"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// db is a migrated SQLite file with helpers to add readings directly.
type db struct {
	*sqlite.DB
	t   testing.TB
	seq int
}

func newDB(t testing.TB) *db {
	t.Helper()
	return &db{DB: sqlitetest.OpenMigrated(t), t: t}
}

// newDBOn is newDB on a migrated database of either engine (see
// sqlitetest.Each).
func newDBOn(t testing.TB, d *sqlite.DB) *db { return &db{DB: d, t: t} }

// exec runs q; an INSERT returns the new row's id.
func (d *db) exec(q string, args ...any) int64 {
	d.t.Helper()
	if strings.HasPrefix(q, "INSERT") {
		var id int64
		if err := d.Write.QueryRowContext(context.Background(), q+` RETURNING id`, args...).Scan(&id); err != nil {
			d.t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	if _, err := d.Write.ExecContext(context.Background(), q, args...); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return 0
}

// week makes a course (or reuses one) and a week in it.
func (d *db) week(courseID int64, number int) int64 {
	return d.exec(`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, ?, 'now', 'now')`, courseID, number)
}

func (d *db) course(code string) int64 {
	return d.exec(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES (?, ?, ?, 'now', 'now')`, code, code, "J-"+code)
}

// document adds a processed document with one chunk per text.
func (d *db) document(weekID int64, status string, texts ...string) (docID int64, chunkIDs []int64) {
	d.seq++
	docID = d.exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, ?, ?, 1, ?, 'now')`,
		weekID, fmt.Sprintf("doc%d.pdf", d.seq), fmt.Sprintf("%064d", d.seq), status)
	for i, text := range texts {
		chunkIDs = append(chunkIDs, d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
			VALUES (?, ?, ?, 1, 0, ?, ?, 10)`, docID, weekID, i, len(text), text))
	}
	return docID, chunkIDs
}

// words is a synthetic embedder: a bag of words hashed into 64 dimensions,
// normalised, so texts sharing words are near. Texts it was told about
// get the vector it was told instead. It counts its calls.
type words struct {
	model string
	fixed map[string][]float32
	calls atomic.Int64
	fail  error
}

func (e *words) Model() string { return e.model }

func (e *words) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.calls.Add(1)
	if e.fail != nil {
		return nil, e.fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if v, ok := e.fixed[t]; ok {
			out[i] = v
			continue
		}
		v := make([]float32, 64)
		for _, w := range wordsOf(t) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%64]++
		}
		out[i] = normalised(v)
	}
	return out, nil
}

func normalised(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		v[0], ss = 1, 1
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(ss))
	}
	return out
}

// axis is a unit vector along dimension i of 64.
func axis(i int) []float32 {
	v := make([]float32, 64)
	v[i] = 1
	return v
}

func ids(ss []Source) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.ChunkID
	}
	return out
}

func embedAll(t *testing.T, d *db, e Embedder) int {
	t.Helper()
	n, err := NewIndexer(d.DB, e, 3, nil).EmbedPending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHybridFindsWhatBM25Misses: a passage that shares no word with the
// question but means the same (here: the same synthetic vector) is found
// by the hybrid search and not by BM25; a passage both rankings like
// comes first, with the fused score RRF gives it.
func TestHybridFindsWhatBM25Misses(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		wk := d.week(d.course("LAW 101"), 1)
		const q = "When may a promise be enforced without consideration?"
		texts := []string{
			"A promise is enforced without consideration when the promisee relied on it.", // both
			"Detrimental reliance makes an otherwise gratuitous undertaking binding.",     // vectors only
			"Consideration is a bargained-for exchange.",                                  // BM25 only
			"The weather in Chicago was cold.",                                            // neither
		}
		_, chunk := d.document(wk, "processed", texts...)
		e := &words{model: "m1", fixed: map[string][]float32{
			q: axis(1), texts[0]: normalised([]float32{0: 0.3, 1: 1}), texts[1]: axis(1), texts[2]: axis(7), texts[3]: axis(9),
		}}
		if n := embedAll(t, d, e); n != 4 {
			t.Fatalf("embedded %d chunks, want 4", n)
		}
		ctx := context.Background()
		lexical, err := NewSearcher(nil, 0, nil).Search(ctx, d.Read, wk, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids(lexical), chunk[1]) {
			t.Fatalf("BM25 found the passage sharing no word: %v", ids(lexical))
		}
		s := NewSearcher(e, 0, nil)
		if !s.Hybrid() {
			t.Fatal("a searcher with an embedder is not hybrid")
		}
		got, err := s.Search(ctx, d.Read, wk, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ids(got[:3]), chunk[1]) {
			t.Errorf("hybrid top 3 %v lacks the passage only the vectors find (%d)", ids(got), chunk[1])
		}
		// The order and scores are reciprocal rank fusion of the two rankings.
		wd, _ := s.cache.week(ctx, d.Read, wk, "m1")
		lex, _ := s.bm25(ctx, d.Read, wd, wk, Turn{Student: q}, s.tuning.turnWords(Turn{Student: q}), 0)
		wv := wd.vec
		want := map[int64]float64{}
		for r, src := range lex {
			want[src.ChunkID] += 1 / float64(61+r)
		}
		for r, id := range wv.nearest(axis(1), candidates) {
			want[id] += 1 / float64(61+r)
		}
		if len(got) != len(want) {
			t.Fatalf("hybrid returned %d passages, the rankings hold %d", len(got), len(want))
		}
		for i, src := range got {
			if math.Abs(src.Score-want[src.ChunkID]) > 1e-12 || i > 0 && src.Score > got[i-1].Score {
				t.Errorf("rank %d: chunk %d score %v, RRF gives %v", i+1, src.ChunkID, src.Score, want[src.ChunkID])
			}
		}
		// Every passage has its text, page and file, the vector-only one too
		// (fetched, not from BM25's rows).
		for _, src := range got {
			i := slices.Index(chunk, src.ChunkID)
			if i < 0 || src.Content != texts[i] || src.Page != 1 || src.Filename == "" {
				t.Errorf("source %+v", src)
			}
		}
	})
}

// TestHybridNeverCrossesWeeks: identical passages and vectors in two
// courses' weeks; each week's search returns only its own, and a deleted
// document's chunks never come back, though the first search put the
// week's vectors in memory.
func TestHybridNeverCrossesWeeks(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		weeks := []int64{d.week(d.course("A"), 1), d.week(d.course("A2"), 1), 0}
		weeks[2] = d.week(d.course("B"), 2)
		own := map[int64]int64{} // chunk → week
		docs := map[int64][]int64{}
		for _, wk := range weeks {
			for range 2 {
				doc, cs := d.document(wk, "processed", "Battery requires intent to cause a harmful or offensive contact.", "Assault is the apprehension of imminent contact.")
				docs[wk] = append(docs[wk], doc)
				for _, c := range cs {
					own[c] = wk
				}
			}
		}
		e := &words{model: "m1"}
		embedAll(t, d, e)
		s := NewSearcher(e, 0, nil)
		ctx := context.Background()
		for _, wk := range weeks {
			got, err := s.Search(ctx, d.Read, wk, "what is a harmful contact battery", 20)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4 {
				t.Errorf("week %d: %d passages, want its own 4", wk, len(got))
			}
			for _, src := range got {
				if own[src.ChunkID] != wk {
					t.Errorf("week %d's search returned chunk %d of week %d", wk, src.ChunkID, own[src.ChunkID])
				}
			}
		}
		d.exec(`DELETE FROM documents WHERE id = ?`, docs[weeks[0]][0])
		got, err := s.Search(ctx, d.Read, weeks[0], "what is a harmful contact battery", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Errorf("after the delete: %d passages, want 2", len(got))
		}
		for _, src := range got {
			if src.DocumentID == docs[weeks[0]][0] {
				t.Errorf("the deleted document's chunk %d came back", src.ChunkID)
			}
		}
		// A query matching no word still finds by vector, still in the week.
		got, err = s.Search(ctx, d.Read, weeks[1], "zzz", 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range got {
			if own[src.ChunkID] != weeks[1] {
				t.Errorf("vector-only search crossed into week %d", own[src.ChunkID])
			}
		}
	})
}

// TestHybridSkipsUnprocessedDocuments: a document being reprocessed keeps
// chunks and vectors for a moment; they are not returned.
func TestHybridSkipsUnprocessedDocuments(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		wk := d.week(d.course("A"), 1)
		_, ok := d.document(wk, "processed", "Negligence needs a duty of care.")
		_, hidden := d.document(wk, "processing", "Negligence needs a duty of care, breach and harm.")
		embedAll(t, d, &words{model: "m1"})
		got, err := NewSearcher(&words{model: "m1"}, 0, nil).Search(context.Background(), d.Read, wk, "negligence duty of care", 20)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ok) {
			t.Errorf("got %v, want only %v (not %v)", ids(got), ok, hidden)
		}
	})
}

// TestModelChangeReembeds: vectors are labelled with their model; a new
// model re-embeds every chunk, replacing the old vectors, and until then
// searches with the new model use no vector of the old one.
func TestModelChangeReembeds(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		wk := d.week(d.course("A"), 1)
		_, chunk := d.document(wk, "processed", "alpha", "beta", "gamma", "delta", "epsilon")
		ctx := context.Background()
		old := &words{model: "m1", fixed: map[string][]float32{"q": axis(3), "delta": axis(3)}}
		if n := embedAll(t, d, old); n != 5 {
			t.Fatalf("embedded %d", n)
		}
		if n := embedAll(t, d, old); n != 0 {
			t.Fatalf("a second run embedded %d again", n)
		}
		neu := &words{model: "m2", fixed: map[string][]float32{"q": axis(5), "beta": axis(5)}}
		s := NewSearcher(neu, 0, nil)
		got, err := s.Search(ctx, d.Read, wk, "q", 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("before re-embedding, the new model's search returned %v (old vectors used?)", ids(got))
		}
		if n := embedAll(t, d, neu); n != 5 {
			t.Fatalf("re-embedded %d, want 5", n)
		}
		if m1, _, _ := VectorCounts(ctx, d.Read, "m1"); m1 != 0 {
			t.Errorf("%d vectors of the old model remain", m1)
		}
		if m2, chunks, _ := VectorCounts(ctx, d.Read, "m2"); m2 != 5 || chunks != 5 {
			t.Errorf("m2 vectors %d of %d chunks", m2, chunks)
		}
		got, err = s.Search(ctx, d.Read, wk, "q", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ChunkID != chunk[1] {
			t.Errorf("after re-embedding: %v, want %d", ids(got), chunk[1])
		}
	})
}

// TestWeekInMemoryFollowsChanges: the copy in memory is reused while
// nothing changes, and reloaded when a passage or a vector is added or
// removed, or a document's status changes — also for a week id SQLite
// hands out again after a delete.
func TestWeekInMemoryFollowsChanges(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		c := d.course("A")
		wk := d.week(c, 1)
		d.document(wk, "processed", "one", "two")
		e := &words{model: "m1"}
		embedAll(t, d, e)
		s := NewSearcher(e, 0, nil)
		ctx := context.Background()
		first, err := s.cache.week(ctx, d.Read, wk, "m1")
		if err != nil {
			t.Fatal(err)
		}
		again, _ := s.cache.week(ctx, d.Read, wk, "m1")
		if first != again || len(first.vec.ids) != 2 || len(first.lex.ids) != 2 {
			t.Fatalf("unchanged week reloaded, or wrong size %d/%d", len(first.vec.ids), len(first.lex.ids))
		}
		doc, added := d.document(wk, "processed", "three")
		now, _ := s.cache.week(ctx, d.Read, wk, "m1")
		if now == first || !slices.Contains(now.lex.ids, added[0]) || slices.Contains(now.vec.ids, added[0]) {
			t.Fatalf("a new passage did not reach memory: %v %v", now.lex.ids, now.vec.ids)
		}
		before := now
		embedAll(t, d, e)
		now, _ = s.cache.week(ctx, d.Read, wk, "m1")
		if !slices.Contains(now.vec.ids, added[0]) {
			t.Fatalf("a new vector did not reach memory: %v", now.vec.ids)
		}
		if now.lex != before.lex {
			t.Error("only vectors changed, yet the BM25 index was built again")
		}
		d.exec(`UPDATE documents SET status = 'processing' WHERE id = ?`, doc)
		now, _ = s.cache.week(ctx, d.Read, wk, "m1")
		if slices.Contains(now.lex.ids, added[0]) || slices.Contains(now.vec.ids, added[0]) {
			t.Fatalf("a document being reprocessed is still searched: %v %v", now.lex.ids, now.vec.ids)
		}
		// Delete the week (the last one made) and make another: SQLite reuses
		// its id. The new week's search must not see the old week's vectors.
		d.exec(`DELETE FROM weeks WHERE id = ?`, wk)
		reused := d.week(c, 2)
		if reused != wk {
			t.Logf("the database did not reuse week id %d (got %d; PostgreSQL never does); checking the new week anyway", wk, reused)
		}
		got, _ := s.cache.week(ctx, d.Read, reused, "m1")
		if len(got.vec.ids) != 0 || len(got.lex.ids) != 0 {
			t.Errorf("a new week %d sees %d vectors and %d passages of a deleted one", reused, len(got.vec.ids), len(got.lex.ids))
		}
	})
}

// TestQueryEmbeddingFailureFallsBackToBM25: an embeddings server that is
// down, or hangs, leaves the readings searchable at once, and is not asked
// again by the searches that follow for a while.
func TestQueryEmbeddingFailureFallsBackToBM25(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	_, chunk := d.document(wk, "processed", "Trespass to land is an intentional entry.")
	for name, e := range map[string]Embedder{
		"down":  &words{model: "m1", fail: errors.New("connection refused")},
		"hangs": &hanging{words{model: "m1"}},
	} {
		s := NewSearcher(e, 0, nil)
		s.queryTimeout = 50 * time.Millisecond
		for range 3 {
			start := time.Now()
			got, err := s.Search(context.Background(), d.Read, wk, "trespass land", 5)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), chunk) || time.Since(start) > 5*time.Second {
				t.Errorf("%s: got %v in %s, want %v", name, ids(got), time.Since(start), chunk)
			}
		}
		if n := e.(interface{ asked() int64 }).asked(); n != 1 {
			t.Errorf("%s: the embedder was asked %d times in three searches, want once", name, n)
		}
	}
}

// hanging never answers until its context ends.
type hanging struct{ words }

func (h *hanging) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	h.calls.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

func (e *words) asked() int64 { return e.calls.Load() }

func TestWeekCacheEvictsBeyondBudget(t *testing.T) {
	d := newDB(t)
	c := d.course("A")
	var weeks []int64
	for i := range 3 {
		wk := d.week(c, i+1)
		weeks = append(weeks, wk)
		d.document(wk, "processed", strings.Repeat("word ", i+1), "other text")
	}
	e := &words{model: "m1"}
	embedAll(t, d, e)
	ctx := context.Background()
	size := map[int64]int64{}
	for _, wk := range weeks {
		w, err := loadWeek(ctx, d.Read, wk, "m1", versions{})
		if err != nil {
			t.Fatal(err)
		}
		size[wk] = w.bytes()
	}
	// The last two weeks fit, not all three.
	cache := newWeekCache(size[weeks[1]] + size[weeks[2]])
	for _, wk := range weeks {
		if _, err := cache.week(ctx, d.Read, wk, "m1"); err != nil {
			t.Fatal(err)
		}
	}
	if len(cache.weeks) != 2 || cache.bytes > cache.budget {
		t.Errorf("%d weeks, %d bytes in a budget of %d", len(cache.weeks), cache.bytes, cache.budget)
	}
	if _, ok := cache.weeks[weeks[0]]; ok {
		t.Error("the least recently used week was kept")
	}
}

// TestLocalEmbedderIndexesAndSearches runs the in-process model (the tiny
// BERT, on whichever runtime this build has) through indexing and search.
func TestLocalEmbedderIndexesAndSearches(t *testing.T) {
	l, err := OpenLocal(localtest.TinyModelDir(t), "tiny-bert", local.Options{Backend: local.BackendGo})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !strings.HasPrefix(l.Model(), "tiny-bert@") || len(l.Model()) != len("tiny-bert@")+12 {
		t.Errorf("model id %q", l.Model())
	}
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	_, chunk := d.document(wk, "processed", "The Fourth Amendment protects against unreasonable searches.", "Consideration is a bargained-for exchange.")
	if n := embedAll(t, d, l); n != 2 {
		t.Fatalf("embedded %d", n)
	}
	var dim int
	d.Read.QueryRow(`SELECT dim FROM chunk_vectors WHERE chunk_id = ?`, chunk[0]).Scan(&dim)
	if dim != 32 {
		t.Errorf("stored dimension %d, want the tiny model's 32", dim)
	}
	got, err := NewSearcher(l, 0, nil).Search(context.Background(), d.Read, wk, "unreasonable searches", 2)
	if err != nil || len(got) != 2 || got[0].ChunkID != chunk[0] {
		t.Errorf("search: %v %v", ids(got), err)
	}
}

// TestAccentsAndStemsMatchBothWays: a question typed with or without
// accents, in another form of the word, finds the passage.
func TestAccentsAndStemsMatchBothWays(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	_, plain := d.document(wk, "processed", "Negligence requires a duty of care.")
	_, accented := d.document(wk, "processed", "Le défendeur invoque la délégation.")
	s := NewSearcher(nil, 0, nil)
	for q, want := range map[string]int64{"négligent": plain[0], "NEGLIGENTLY": plain[0], "defendeur delegation": accented[0]} {
		got, err := s.Search(context.Background(), d.Read, wk, q, 5)
		if err != nil || len(got) != 1 || got[0].ChunkID != want {
			t.Errorf("%q: %v %v, want %d", q, ids(got), err, want)
		}
	}
}

// picky fails on texts holding "BAD", or on everything.
type picky struct {
	words
	all bool
}

func (p *picky) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	for _, t := range texts {
		if p.all || strings.Contains(t, "BAD") {
			return nil, errors.New("400 input rejected")
		}
	}
	return p.words.Embed(ctx, texts)
}

// TestEmbeddingSkipsWhatTheEmbedderRefuses: one chunk the embedder always
// refuses does not stop the others from being embedded; an embedder that
// refuses everything stops the run with its error, nothing stored.
func TestEmbeddingSkipsWhatTheEmbedderRefuses(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	_, chunks := d.document(wk, "processed", "one", "two BAD", "three", "four", "five", "six", "seven")
	ctx := context.Background()
	n, err := NewIndexer(d.DB, &picky{words: words{model: "m1"}}, 3, nil).EmbedPending(ctx)
	if err != nil || n != 6 {
		t.Fatalf("embedded %d, %v; want the 6 good chunks", n, err)
	}
	var has int
	d.Read.QueryRow(`SELECT count(*) FROM chunk_vectors WHERE chunk_id = ?`, chunks[1]).Scan(&has)
	if has != 0 {
		t.Error("the refused chunk has a vector")
	}
	d2 := newDB(t)
	wk2 := d2.week(d2.course("A"), 1)
	d2.document(wk2, "processed", "one", "two", "three", "four")
	n, err = NewIndexer(d2.DB, &picky{words: words{model: "m1"}, all: true}, 3, nil).EmbedPending(ctx)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "input rejected") {
		t.Errorf("an embedder refusing everything: %d, %v", n, err)
	}
	if done, _, _ := VectorCounts(ctx, d2.Read, "m1"); done != 0 {
		t.Errorf("%d vectors stored", done)
	}
}

// nanEmbedder returns vectors that are not numbers.
type nanEmbedder struct{ words }

func (e *nanEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{float32(math.NaN()), 0}
	}
	return out, nil
}

func TestEmbeddingRefusesVectorsThatAreNotNumbers(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	d.document(wk, "processed", "one")
	if _, err := NewIndexer(d.DB, &nanEmbedder{words{model: "m1"}}, 3, nil).EmbedPending(context.Background()); err == nil {
		t.Error("NaN vectors were accepted")
	}
	if done, _, _ := VectorCounts(context.Background(), d.Read, "m1"); done != 0 {
		t.Errorf("%d NaN vectors stored", done)
	}
}

// panicky is an Execer whose queries for passages panic.
type panicky struct{ sqlite.Execer }

func (p panicky) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if strings.Contains(q, "c.content FROM chunks") {
		panic("disk on fire")
	}
	return p.Execer.QueryContext(ctx, q, args...)
}

// TestWeekLoadsAreSharedAndSurvivePanics: many searches of a cold week
// share one load (and see the same data); a load that panics is an error
// for its search and leaves nothing stuck for the next.
func TestWeekLoadsAreSharedAndSurvivePanics(t *testing.T) {
	d := newDB(t)
	wk := d.week(d.course("A"), 1)
	d.document(wk, "processed", "one", "two", "three")
	ctx := context.Background()
	c := newWeekCache(1 << 20)
	if _, err := c.week(ctx, panicky{d.Read}, wk, ""); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("a panicking load: %v", err)
	}
	results := make([]*weekData, 16)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			w, err := c.week(ctx, d.Read, wk, "")
			if err != nil {
				t.Error(err)
			}
			results[i] = w
		})
	}
	wg.Wait()
	for _, w := range results {
		if w == nil || len(w.lex.ids) != 3 {
			t.Fatalf("a search got %v", w)
		}
	}
	if len(c.loading) != 0 {
		t.Errorf("%d loads left in flight", len(c.loading))
	}
}

// TestStaleCopyNeverReturnsDeletedPassages: even a copy in memory that
// (against the triggers) still held a deleted document's passages could not
// return them: every passage is read again from its week's processed rows.
func TestStaleCopyNeverReturnsDeletedPassages(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, sdb *sqlite.DB) {
		d := newDBOn(t, sdb)
		wk := d.week(d.course("A"), 1)
		doc, gone := d.document(wk, "processed", "Battery requires harmful contact.")
		_, kept := d.document(wk, "processed", "Battery requires intent.")
		e := &words{model: "m1"}
		embedAll(t, d, e)
		s := NewSearcher(e, 0, nil)
		ctx := context.Background()
		if got, _ := s.Search(ctx, d.Read, wk, "battery", 5); len(got) != 2 {
			t.Fatalf("before: %v", ids(got))
		}
		d.exec(`DELETE FROM documents WHERE id = ?`, doc)
		// Make the cached copy look current, as a missed bump would.
		s.cache.mu.Lock()
		s.cache.weeks[wk].v = versions{math.MaxInt64, math.MaxInt64}
		s.cache.mu.Unlock()
		got, err := s.Search(ctx, d.Read, wk, "battery harmful contact", 5)
		if err != nil || !slices.Equal(ids(got), kept) {
			t.Errorf("after the delete: %v %v, want only %v (never %v)", ids(got), err, kept, gone)
		}
	})
}
