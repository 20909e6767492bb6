package retrieval

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// EmbedArgs is the job that embeds every chunk still lacking a vector of
// the current model: new documents' chunks, or all of them after a model
// change. It carries nothing: each run picks up whatever is pending, so
// jobs queued while one runs cost one query each.
type EmbedArgs struct{}

// Kind names the job in the queue.
func (EmbedArgs) Kind() string { return "embed_chunks" }

// EmbedQueue is the queue embedding jobs run on, one at a time, apart from
// document ingestion so that a long re-embedding never holds up uploads.
const EmbedQueue = "embeddings"

// InsertOpts: its own queue; retried with River's backoff while an
// embeddings server is down.
func (EmbedArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: EmbedQueue, MaxAttempts: 8}
}

// Indexer writes the vectors of chunks with one Embedder.
type Indexer struct {
	db    *sqlite.DB
	emb   Embedder
	log   *slog.Logger
	batch int
}

// NewIndexer returns an indexer; batch is how many chunks are embedded and
// written at a time.
func NewIndexer(db *sqlite.DB, emb Embedder, batch int, log *slog.Logger) *Indexer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Indexer{db: db, emb: emb, log: log, batch: max(1, batch)}
}

// Worker runs EmbedArgs jobs.
func (ix *Indexer) Worker() river.Worker[EmbedArgs] { return &embedWorker{ix: ix} }

type embedWorker struct {
	river.WorkerDefaults[EmbedArgs]
	ix *Indexer
}

func (w *embedWorker) Work(ctx context.Context, _ *river.Job[EmbedArgs]) error {
	_, err := w.ix.EmbedPending(ctx)
	return err
}

// Timeout: a first embedding of a large database on the pure-Go runtime
// takes long; progress is committed batch by batch, so a cut-off run loses
// at most one batch and the next run goes on from there.
func (w *embedWorker) Timeout(*river.Job[EmbedArgs]) time.Duration { return 6 * time.Hour }

// EmbedPending embeds, batch by batch, every chunk lacking a vector of the
// current model, and returns how many it embedded. Each batch is committed
// on its own, outside any long transaction.
//
// A batch the embedder refuses is tried again one chunk at a time: chunks
// it still refuses (a text a server will not take, a vector that is not a
// number) are logged and skipped — BM25 still finds them, and the next run
// tries them again — so one bad chunk never stops the rest from being
// embedded. If every chunk of the batch fails, the embedder itself is
// failing (a server down): the run stops with the error, for the queue to
// retry later.
func (ix *Indexer) EmbedPending(ctx context.Context) (int, error) {
	model := ix.emb.Model()
	done, skipped := 0, 0
	after := int64(0)
	start := time.Now()
	for {
		ids, texts, err := pendingChunks(ctx, ix.db.Read, model, after, ix.batch)
		if err != nil {
			return done, err
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		vecs, err := ix.embed(ctx, texts)
		if err == nil {
			err = storeVectors(ctx, ix.db, model, ids, vecs)
		}
		if err == nil {
			done += len(ids)
			continue
		}
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		n, err := ix.oneByOne(ctx, model, ids, texts, err)
		if err != nil {
			return done, err
		}
		done += n
		skipped += len(ids) - n
	}
	if done > 0 || skipped > 0 {
		ix.log.InfoContext(ctx, "chunks embedded", "chunks", done, "skipped", skipped, "model", model, "seconds", time.Since(start).Round(time.Millisecond).Seconds())
	}
	return done, nil
}

// embed embeds texts and checks that every vector is usable.
func (ix *Indexer) embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := ix.emb.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) == 0 {
			return nil, fmt.Errorf("text %d: an empty vector", i)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("text %d: a vector that is not a number", i)
			}
		}
	}
	return vecs, nil
}

// oneByOne embeds a failed batch chunk by chunk, skipping the chunks that
// fail; it returns how many it stored, or batchErr if none could be. When
// the first few all fail it stops there: a server that is down should not
// be asked once per chunk.
func (ix *Indexer) oneByOne(ctx context.Context, model string, ids []int64, texts []string, batchErr error) (int, error) {
	const probe = 3
	stored := 0
	for i := range ids {
		if stored == 0 && i == probe {
			break
		}
		vecs, err := ix.embed(ctx, texts[i:i+1])
		if err == nil {
			err = storeVectors(ctx, ix.db, model, ids[i:i+1], vecs)
		}
		if ctx.Err() != nil {
			return stored, ctx.Err()
		}
		if err != nil {
			ix.log.WarnContext(ctx, "a chunk could not be embedded; it stays searchable by its words", "chunk_id", ids[i], "model", model, "err", err)
			continue
		}
		stored++
	}
	if stored == 0 {
		return 0, fmt.Errorf("embed chunks %d–%d: %w", ids[0], ids[len(ids)-1], batchErr)
	}
	return stored, nil
}

// pendingChunks returns up to n chunks after id `after`, in id order, that
// have no vector of the model.
func pendingChunks(ctx context.Context, ex sqlite.Execer, model string, after int64, n int) ([]int64, []string, error) {
	rows, err := ex.QueryContext(ctx, `SELECT c.id, c.content FROM chunks c
		LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.model = ?1
		WHERE c.id > ?2 AND v.chunk_id IS NULL ORDER BY c.id LIMIT ?3`, model, after, n)
	if err != nil {
		return nil, nil, fmt.Errorf("pending chunks: %w", err)
	}
	defer rows.Close()
	var ids []int64
	var texts []string
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			return nil, nil, fmt.Errorf("pending chunks: %w", err)
		}
		ids, texts = append(ids, id), append(texts, t)
	}
	return ids, texts, rows.Err()
}

// storeVectors writes one batch, replacing any vector of another model.
// The week comes from the chunk itself; a chunk deleted meanwhile is
// skipped.
func storeVectors(ctx context.Context, db *sqlite.DB, model string, ids []int64, vecs [][]float32) error {
	if len(vecs) != len(ids) {
		return fmt.Errorf("store vectors: %d vectors for %d chunks", len(vecs), len(ids))
	}
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store vectors: %w", err)
	}
	defer tx.Rollback()
	for i, v := range vecs {
		if len(v) == 0 {
			return errors.New("store vectors: an empty vector")
		}
		_, err := tx.ExecContext(ctx, upsertVector[db.Engine], ids[i], model, len(v), encodeVector(v))
		if err != nil {
			return fmt.Errorf("store vector of chunk %d: %w", ids[i], err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store vectors: %w", err)
	}
	return nil
}

// VectorCounts reports how many chunks have a vector of the model, and how
// many chunks there are.
func VectorCounts(ctx context.Context, ex sqlite.Execer, model string) (embedded, chunks int, err error) {
	err = ex.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM chunk_vectors WHERE model = ?), (SELECT count(*) FROM chunks)`, model).Scan(&embedded, &chunks)
	if err != nil {
		return 0, 0, fmt.Errorf("count vectors: %w", err)
	}
	return embedded, chunks, nil
}

// encodeVector is float32 little-endian.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeVector appends the floats of b to dst.
func decodeVector(dst []float32, b []byte) []float32 {
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return dst
}

// upsertVector stores a chunk's vector (chunk id, model, dimension and the
// encoded vector, in that order), per engine: PostgreSQL types the
// parameters of INSERT … SELECT's select list from nothing, so they are
// cast to the columns' types there (SQLite's casts would change a BLOB).
var upsertVector = map[sqlite.Engine]string{
	sqlite.SQLite: `INSERT INTO chunk_vectors (chunk_id, week_id, model, dim, vec)
		SELECT id, week_id, ?2, ?3, ?4 FROM chunks WHERE id = ?1
		ON CONFLICT (chunk_id) DO UPDATE SET week_id = excluded.week_id, model = excluded.model, dim = excluded.dim, vec = excluded.vec`,
	sqlite.Postgres: `INSERT INTO chunk_vectors (chunk_id, week_id, model, dim, vec)
		SELECT id, week_id, ?2::text, ?3::bigint, ?4::bytea FROM chunks WHERE id = ?1
		ON CONFLICT (chunk_id) DO UPDATE SET week_id = excluded.week_id, model = excluded.model, dim = excluded.dim, vec = excluded.vec`,
}
