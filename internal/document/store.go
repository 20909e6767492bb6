package document

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/sqlite"
)

var ErrNotFound = errs.New(errs.NotFound, "document not found")

func find(ctx context.Context, ex sqlite.Execer, id int64) (Document, error) {
	d, err := scan(ex.QueryRowContext(ctx, `SELECT `+columns+` FROM documents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, ErrNotFound
	}
	if err != nil {
		return Document{}, fmt.Errorf("find document %d: %w", id, err)
	}
	return d, nil
}

// findBySum finds the document with these bytes in a week, if any.
func findBySum(ctx context.Context, ex sqlite.Execer, weekID int64, sum string) (Document, bool, error) {
	d, err := scan(ex.QueryRowContext(ctx, `SELECT `+columns+` FROM documents WHERE week_id = ? AND sha256 = ?`, weekID, sum))
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, false, nil
	}
	if err != nil {
		return Document{}, false, fmt.Errorf("find document by content: %w", err)
	}
	return d, true, nil
}

func insert(ctx context.Context, ex sqlite.Execer, d *Document, uploadedBy int64) error {
	const q = `INSERT INTO documents (week_id, original_filename, sha256, file_size, page_count, status, uploaded_by, uploaded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	var by *int64
	if uploadedBy > 0 { // 0: the command line, acting for no account
		by = &uploadedBy
	}
	err := ex.QueryRowContext(ctx, q, d.WeekID, d.OriginalFilename, d.SHA256, d.FileSize, d.PageCount, string(d.Status), by, sqlite.FormatTime(d.UploadedAt)).Scan(&d.ID)
	if err != nil {
		return fmt.Errorf("insert document: %w", err)
	}
	return nil
}

// requeue resets a document to wait for processing again.
func requeue(ctx context.Context, ex sqlite.Execer, id int64) error {
	if _, err := ex.ExecContext(ctx, `UPDATE documents SET status = 'queued', error = '', pages_done = 0 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("requeue document %d: %w", id, err)
	}
	return nil
}

// startProcessing marks a document as being processed; false when it no
// longer exists (deleted while queued).
func startProcessing(ctx context.Context, ex sqlite.Execer, id int64) (bool, error) {
	res, err := ex.ExecContext(ctx, `UPDATE documents SET status = 'processing', error = '', pages_done = 0, attempts = attempts + 1 WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("start processing %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func setProgress(ctx context.Context, ex sqlite.Execer, id int64, pages int) error {
	if _, err := ex.ExecContext(ctx, `UPDATE documents SET pages_done = ? WHERE id = ? AND status = 'processing'`, pages, id); err != nil {
		return fmt.Errorf("document %d progress: %w", id, err)
	}
	return nil
}

func setFailed(ctx context.Context, ex sqlite.Execer, id int64, reason string, at time.Time) error {
	// Chunks of an earlier success go too: a failed document is not searched.
	if _, err := ex.ExecContext(ctx, `DELETE FROM chunks WHERE document_id = ?`, id); err != nil {
		return fmt.Errorf("document %d failed: %w", id, err)
	}
	_, err := ex.ExecContext(ctx, `UPDATE documents SET status = 'failed', error = ?, chunk_count = 0, processed_at = ? WHERE id = ?`, reason, sqlite.FormatTime(at), id)
	if err != nil {
		return fmt.Errorf("document %d failed: %w", id, err)
	}
	return nil
}

// replaceChunks swaps a document's chunks for new ones and marks it
// processed, in the caller's transaction: searches see the old passages or
// the new, never a mix or none.
func replaceChunks(ctx context.Context, tx *sql.Tx, d Document, pages int, chunks []Chunk, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE document_id = ?`, d.ID); err != nil {
		return fmt.Errorf("replace chunks of %d: %w", d.ID, err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("replace chunks of %d: %w", d.ID, err)
	}
	defer stmt.Close()
	for _, c := range chunks {
		if _, err := stmt.ExecContext(ctx, d.ID, d.WeekID, c.Index, c.Page, c.Start, c.End, c.Content, c.TokenCount); err != nil {
			return fmt.Errorf("insert chunk %d of %d: %w", c.Index, d.ID, err)
		}
	}
	warnings, err := json.Marshal(injectionWarnings(chunks))
	if err != nil {
		return fmt.Errorf("document %d warnings: %w", d.ID, err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE documents SET status = 'processed', error = '', page_count = ?, pages_done = ?, chunk_count = ?, processed_at = ?, warnings = ? WHERE id = ?`,
		pages, pages, len(chunks), sqlite.FormatTime(at), string(warnings), d.ID)
	if err != nil {
		return fmt.Errorf("document %d processed: %w", d.ID, err)
	}
	return nil
}

// injectionWarnings tells a document's instructors where its text reads
// like instructions to an AI model (indirect prompt injection), quoting
// the sentence found on each page (the first few), so that a false alarm
// is plain at a glance. Such passages are kept, not dropped: the
// professor decides whether they belong, and the tutor's prompt already
// treats every passage as data.
func injectionWarnings(chunks []Chunk) []string {
	var pages []int
	var quotes []string
	seen := map[int]bool{}
	for _, c := range chunks {
		for _, found := range moderation.Instructions(c.Content) {
			page := c.Page + sort.SearchInts(c.PageBreaks, found.At+1)
			if seen[page] {
				continue
			}
			seen[page] = true
			pages = append(pages, page)
			if len(quotes) < maxQuotedSentences {
				quotes = append(quotes, "page "+strconv.Itoa(page)+": "+quoteSentence(found.Sentence))
			}
		}
	}
	if len(pages) == 0 {
		return []string{}
	}
	// Overlapping chunks meet pages out of order.
	order := make([]int, len(pages))
	copy(order, pages)
	sort.Ints(order)
	names := make([]string, len(order))
	for i, p := range order {
		names[i] = strconv.Itoa(p)
	}
	where := "Page " + names[0] + " of this reading contains"
	found := ": " + strings.TrimPrefix(quotes[0], "page "+strconv.Itoa(pages[0])+": ") + "."
	if len(pages) > 1 {
		where = "Pages " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " of this reading contain"
		found = " (" + strings.Join(quotes, "; ") + ")."
	}
	return []string{where + " text that reads like instructions to an AI model" + found + " The tutor treats it as reading material to discuss and never follows it; check that it belongs in the reading."}
}

const (
	// maxQuotedSentences is how many pages' sentences a warning quotes.
	maxQuotedSentences = 3
	// maxQuote bounds a quoted sentence, in characters.
	maxQuote = 160
)

// quoteSentence is a sentence of a reading as a warning quotes it: on one
// line, without control or invisible characters, its own quotation marks
// and angle brackets turned into look-alikes (the quote's ends stay
// unambiguous, and no markup survives into a page that shows it), cut at
// a word near maxQuote characters.
func quoteSentence(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '“' || r == '”':
			return '\''
		case r == '<':
			return '‹'
		case r == '>':
			return '›'
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if rs := []rune(s); len(rs) > maxQuote {
		cut := string(rs[:maxQuote])
		if i := strings.LastIndex(cut, " "); i > maxQuote/2 {
			cut = cut[:i]
		}
		s = cut + "…"
	}
	return `"` + s + `"`
}

// StoredChunk is a chunk as stored.
type StoredChunk struct {
	ID         int64
	Index      int
	Page       int
	Content    string
	TokenCount int
}

func listChunks(ctx context.Context, db *sql.DB, docID int64, limit, offset int) ([]StoredChunk, int, error) {
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM chunks WHERE document_id = ?`, docID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count chunks: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, chunk_index, page, content, token_count FROM chunks WHERE document_id = ? ORDER BY chunk_index LIMIT ? OFFSET ?`, docID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list chunks: %w", err)
	}
	defer rows.Close()
	out := []StoredChunk{}
	for rows.Next() {
		var c StoredChunk
		if err := rows.Scan(&c.ID, &c.Index, &c.Page, &c.Content, &c.TokenCount); err != nil {
			return nil, 0, fmt.Errorf("list chunks: %w", err)
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// FileInUse is the upload store's question "does any document still name
// this file?", answered from db (committed rows only).
func FileInUse(db *sql.DB) blob.InUse {
	return func(ctx context.Context, sum string) (bool, error) {
		var used bool
		if err := db.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM documents WHERE sha256 = ?)`, sum).Scan(&used); err != nil {
			return false, fmt.Errorf("check file use: %w", err)
		}
		return used, nil
	}
}

// liveJob reports whether an ingestion job for the document is waiting or
// running. A document marked queued or processing without one was left so
// by something that went wrong; it may be reprocessed.
func liveJob(ctx context.Context, ex sqlite.Execer, engine sqlite.Engine, id int64) (bool, error) {
	var live bool
	if err := ex.QueryRowContext(ctx, liveJobs[engine], id).Scan(&live); err != nil {
		return false, fmt.Errorf("find document %d's job: %w", id, err)
	}
	return live, nil
}

// liveJobs is liveJob's question per engine: River keeps a job's args as
// JSON text on SQLite (read with json_extract) and as jsonb on PostgreSQL.
var liveJobs = map[sqlite.Engine]string{
	sqlite.SQLite: `SELECT EXISTS(SELECT 1 FROM river_job WHERE kind = 'ingest_document'
		AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
		AND json_extract(json(args), '$.document_id') = ?)`,
	sqlite.Postgres: `SELECT EXISTS(SELECT 1 FROM river_job WHERE kind = 'ingest_document'
		AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
		AND (args ->> 'document_id')::bigint = ?)`,
}
