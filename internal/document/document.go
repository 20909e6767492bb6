// Package document holds the readings professors upload to a week: upload
// intake (intake.go), the background ingestion job that extracts each page's
// text, cleans it and cuts it into passages (ingest.go, normalize.go,
// chunk.go), and the records with their SQL (store.go).
package document

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Status is where a document is in ingestion.
type Status string

const (
	Queued     Status = "queued"
	Processing Status = "processing"
	Processed  Status = "processed"
	Failed     Status = "failed"
)

// Document is one uploaded PDF of a week.
type Document struct {
	ID               int64
	WeekID           int64
	OriginalFilename string
	SHA256           string
	FileSize         int64
	PageCount        *int
	Status           Status
	Error            string // why it failed, in words a professor understands
	ChunkCount       int
	PagesDone        int // pages read so far while processing
	UploadedAt       time.Time
	ProcessedAt      *time.Time
	// Warnings are for the document's instructors (text that reads like
	// instructions to an AI model).
	Warnings []string
}

const columns = `id, week_id, original_filename, sha256, file_size, page_count, status, error, chunk_count, pages_done, uploaded_at, processed_at, warnings`

func scan(s interface{ Scan(...any) error }) (Document, error) {
	var d Document
	var status, uploaded string
	var processed sql.NullString
	var warnings string
	if err := s.Scan(&d.ID, &d.WeekID, &d.OriginalFilename, &d.SHA256, &d.FileSize, &d.PageCount, &status, &d.Error, &d.ChunkCount, &d.PagesDone, &uploaded, &processed, &warnings); err != nil {
		return Document{}, err
	}
	if err := json.Unmarshal([]byte(warnings), &d.Warnings); err != nil {
		return Document{}, fmt.Errorf("document %d warnings: %w", d.ID, err)
	}
	d.Status = Status(status)
	var err error
	if d.UploadedAt, err = sqlite.ParseTime(uploaded); err != nil {
		return Document{}, err
	}
	if processed.Valid {
		t, err := sqlite.ParseTime(processed.String)
		if err != nil {
			return Document{}, err
		}
		d.ProcessedAt = &t
	}
	return d, nil
}

// ListByWeek returns a week's documents, oldest first. The caller has
// already decided the viewer may see the week.
func ListByWeek(ctx context.Context, ex sqlite.Execer, weekID int64) ([]Document, error) {
	rows, err := ex.QueryContext(ctx, `SELECT `+columns+` FROM documents WHERE week_id = ? ORDER BY id`, weekID)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	out := []Document{}
	for rows.Next() {
		d, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	return out, nil
}

// CountByStatus counts documents in each status (for the admin's stats).
func CountByStatus(ctx context.Context, ex sqlite.Execer) (map[Status]int, error) {
	rows, err := ex.QueryContext(ctx, `SELECT status, count(*) FROM documents GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count documents: %w", err)
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count documents: %w", err)
		}
		out[Status(s)] = n
	}
	return out, rows.Err()
}
