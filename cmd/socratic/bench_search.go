package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// benchDim is all-MiniLM-L6-v2's dimension.
const benchDim = 384

// fixedModel is an Embedder for the benchmark's bookkeeping only: the
// benchmark passes query vectors itself (SearchWithVector) and writes
// chunk vectors directly.
type fixedModel struct{}

func (fixedModel) Model() string { return "bench-random-384" }
func (fixedModel) Embed(context.Context, []string) ([][]float32, error) {
	return nil, fmt.Errorf("bench: not an embedder")
}

// benchSearch measures search latency — BM25, the vectors and their fusion —
// in weeks of 500, 5,000 and 50,000 chunks (--sizes; copies of the corpus's
// real passages, with random unit vectors), first alone in the database,
// then with --others chunks spread over other weeks; on SQLite in a scratch
// directory, or with --database on an empty PostgreSQL database.
func benchSearch(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	qaPath := fs.String("qa", filepath.Join("testdata", "corpus", "qa.jsonl"), "QA file whose PDFs give the passages and whose questions are the queries")
	others := fs.Int("others", 1_000_000, "chunks in other weeks for the second round")
	perWeek := fs.Int("per-week", 5000, "chunks in each other week")
	queries := fs.Int("queries", 300, "searches per measurement")
	tuningSpec := fs.String("tuning", "", "search parameters to measure, as for eval retrieval: baseline, or name=value,…")
	sizesSpec := fs.String("sizes", "500,5000,50000", "chunks in each measured week, comma-separated")
	database := fs.String("database", "", "an empty PostgreSQL database (postgres://…) to measure PostgreSQL; the scratch week and its copies stay in it. Default: SQLite in a scratch directory, removed after")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var sizes []int
	for _, f := range strings.Split(*sizesSpec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("--sizes %q: want chunk counts of 1 or more, comma-separated (500,5000,50000)", *sizesSpec)
		}
		sizes = append(sizes, n)
	}
	if *perWeek < 1 {
		return errors.New("--per-week must be at least 1")
	}
	if err := checkBenchDatabase(ctx, *database); err != nil {
		return err
	}
	tuning, err := retrieval.ParseTuning(retrieval.DefaultTuning, *tuningSpec)
	if err != nil {
		return err
	}
	items, err := readQA(*qaPath)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "socratic-bench-search-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	files := qaFiles(items, filepath.Join(filepath.Dir(*qaPath), "pdfs"))
	sw, err := openScratchWeekOn(ctx, scratch, append(environ, "EMBEDDINGS_PROVIDER=none"), *database)
	if err != nil {
		return err
	}
	defer sw.close(ctx)
	if _, err := sw.ingest(ctx, files); err != nil {
		return err
	}
	db := sw.d.db
	var corpus int
	db.Read.QueryRowContext(ctx, `SELECT count(*) FROM chunks`).Scan(&corpus)
	fmt.Fprintf(stdout, "database: %s\n", benchEngineText(*database))
	fmt.Fprintf(stdout, "passages: %d from %d PDFs, copied (with random %d-dimension unit vectors) to fill each week\n", corpus, len(files), benchDim)

	rng := rand.New(rand.NewPCG(1, 2))
	courseID := sw.week.CourseID
	nextWeek := 2
	// fill makes a week of n chunks: one processed document whose chunks
	// copy the corpus's, round and round.
	fill := func(n int) (int64, error) {
		tx, err := db.Write.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		// RETURNING, not LastInsertId: both engines have it, pgx has no
		// LastInsertId.
		var week, doc int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, ?, 'now', 'now') RETURNING id`,
			courseID, nextWeek).Scan(&week); err != nil {
			return 0, err
		}
		if nextWeek++; nextWeek > 52 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES (?, 'bench', ?, 'now', 'now') RETURNING id`,
				fmt.Sprintf("BENCH-%d", rng.Int64()), fmt.Sprintf("J%d", rng.Int64())).Scan(&courseID); err != nil {
				return 0, err
			}
			nextWeek = 1
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'copies.pdf', ?, 1, 'processed', 'now') RETURNING id`,
			week, fmt.Sprintf("%064x", week)).Scan(&doc); err != nil {
			return 0, err
		}
		for done := 0; done < n; done += corpus {
			if _, err := tx.ExecContext(ctx, `INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
				SELECT ?1, ?2, ?3 + row_number() OVER (ORDER BY id), page, char_start, char_end, content, token_count
				FROM chunks WHERE week_id = ?4 ORDER BY id LIMIT ?5`, doc, week, done, sw.week.ID, min(corpus, n-done)); err != nil {
				return 0, err
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO chunk_vectors (chunk_id, week_id, model, dim, vec) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return 0, err
		}
		defer stmt.Close()
		rows, err := tx.QueryContext(ctx, `SELECT id FROM chunks WHERE week_id = ?`, week)
		if err != nil {
			return 0, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		v := make([]float32, benchDim)
		for _, id := range ids {
			randomUnit(rng, v)
			if _, err := stmt.ExecContext(ctx, id, week, fixedModel{}.Model(), benchDim, encodeBench(v)); err != nil {
				return 0, err
			}
		}
		return week, tx.Commit()
	}

	targets := make([]int64, len(sizes))
	for i, n := range sizes {
		if targets[i], err = fill(n); err != nil {
			return err
		}
	}
	// analyze brings PostgreSQL's planner statistics up to date after a
	// bulk fill, as autovacuum does on its own soon after: the measurement
	// is of a database in its steady state, not of the moment after
	// thousands of rows arrived unseen by the planner. SQLite's planner
	// keeps no such statistics unless asked (the server never runs
	// ANALYZE), so it is left as the server has it.
	analyze := func() error {
		if db.Engine != sqlite.Postgres {
			return nil
		}
		_, err := db.Write.ExecContext(ctx, `ANALYZE`)
		return err
	}
	if err := analyze(); err != nil {
		return err
	}
	measure := func(label string) error {
		// Fresh searchers: each round's first search of a week is cold.
		searcher := retrieval.NewSearcher(fixedModel{}, 0, nil)
		lexical := retrieval.NewSearcher(nil, 0, nil)
		searcher.SetTuning(tuning)
		lexical.SetTuning(tuning)
		fmt.Fprintf(stdout, "%s (%d searches each, k=5; p50 / p99)\n", label, *queries)
		for i, week := range targets {
			q := make([]float32, benchDim)
			// The first search of a week builds its index and loads its
			// vectors into memory; measured apart.
			start := time.Now()
			randomUnit(rng, q)
			if _, err := searcher.SearchWithVector(ctx, db.Read, week, items[0].Question, q, 5); err != nil {
				return err
			}
			cold := time.Since(start)
			if _, err := lexical.Search(ctx, db.Read, week, items[0].Question, 5); err != nil {
				return err
			}
			bm25, hybrid := make([]time.Duration, *queries), make([]time.Duration, *queries)
			for j := range *queries {
				question := items[j%len(items)].Question
				randomUnit(rng, q)
				start := time.Now()
				if _, err := lexical.Search(ctx, db.Read, week, question, 5); err != nil {
					return err
				}
				bm25[j] = time.Since(start)
				start = time.Now()
				if _, err := searcher.SearchWithVector(ctx, db.Read, week, question, q, 5); err != nil {
					return err
				}
				hybrid[j] = time.Since(start)
			}
			fmt.Fprintf(stdout, "  %6d chunks in the week: hybrid %s / %s   BM25 alone %s / %s   first search (builds the week's index) %s\n",
				sizes[i], pct(hybrid, 50), pct(hybrid, 99), pct(bm25, 50), pct(bm25, 99), cold.Round(10*time.Microsecond))
		}
		return nil
	}
	if err := measure("alone in the database"); err != nil {
		return err
	}
	if *others > 0 {
		start := time.Now()
		for made := 0; made < *others; made += *perWeek {
			if _, err := fill(min(*perWeek, *others-made)); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "added %d chunks with vectors in %d other weeks (%s)\n", *others, (*others+*perWeek-1) / *perWeek, time.Since(start).Round(time.Second))
		if err := analyze(); err != nil {
			return err
		}
		if err := measure(fmt.Sprintf("with %d chunks in other weeks", *others)); err != nil {
			return err
		}
	}
	return nil
}

func randomUnit(rng *rand.Rand, v []float32) {
	var ss float64
	for i := range v {
		x := rng.NormFloat64()
		v[i] = float32(x)
		ss += x * x
	}
	n := float32(math.Sqrt(ss))
	for i := range v {
		v[i] /= n
	}
}

func encodeBench(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		u := math.Float32bits(x)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return b
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return s[max(i, 0)].Round(time.Microsecond)
}
