package course

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// weekColumns reads a week with its document counts from "weeks w".
const weekColumns = `w.id, w.course_id, w.week_number, w.title, w.themes, w.created_at, w.updated_at,
	(SELECT count(*) FROM documents d WHERE d.week_id = w.id),
	(SELECT count(*) FROM documents d WHERE d.week_id = w.id AND d.status = 'processed')`

// viewerColumns add what the viewer (?1) is to the week's course.
const viewerColumns = `EXISTS(SELECT 1 FROM course_instructors i WHERE i.course_id = w.course_id AND i.user_id = ?1),
	EXISTS(SELECT 1 FROM enrollments e WHERE e.course_id = w.course_id AND e.user_id = ?1)`

func scanWeek(s scanner, extra ...any) (Week, error) {
	var w Week
	var themes, created, updated string
	dest := append([]any{&w.ID, &w.CourseID, &w.Number, &w.Title, &themes, &created, &updated,
		&w.DocumentCount, &w.ProcessedDocumentCount}, extra...)
	if err := s.Scan(dest...); err != nil {
		return Week{}, err
	}
	if err := json.Unmarshal([]byte(themes), &w.Themes); err != nil {
		return Week{}, fmt.Errorf("week %d themes: %w", w.ID, err)
	}
	if w.Themes == nil {
		w.Themes = []string{}
	}
	var err error
	if w.CreatedAt, err = sqlite.ParseTime(created); err != nil {
		return Week{}, err
	}
	if w.UpdatedAt, err = sqlite.ParseTime(updated); err != nil {
		return Week{}, err
	}
	return w, nil
}

// findWeek reads a week and what the viewer is to its course.
func findWeek(ctx context.Context, ex sqlite.Execer, viewerID, id int64) (Week, Membership, error) {
	var m Membership
	q := `SELECT ` + weekColumns + `, ` + viewerColumns + ` FROM weeks w WHERE w.id = ?2`
	w, err := scanWeek(ex.QueryRowContext(ctx, q, viewerID, id), &m.Instructor, &m.Enrolled)
	if errors.Is(err, sql.ErrNoRows) {
		return Week{}, Membership{}, ErrWeekNotFound
	}
	if err != nil {
		return Week{}, Membership{}, fmt.Errorf("find week %d: %w", id, err)
	}
	return w, m, nil
}

func listWeeks(ctx context.Context, ex sqlite.Execer, courseID int64) ([]Week, error) {
	rows, err := ex.QueryContext(ctx, `SELECT `+weekColumns+` FROM weeks w WHERE w.course_id = ? ORDER BY w.week_number`, courseID)
	if err != nil {
		return nil, fmt.Errorf("list weeks: %w", err)
	}
	defer rows.Close()
	out := []Week{}
	for rows.Next() {
		w, err := scanWeek(rows)
		if err != nil {
			return nil, fmt.Errorf("list weeks: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list weeks: %w", err)
	}
	return out, nil
}

func weekNumberTaken(ctx context.Context, ex sqlite.Execer, courseID int64, number int) (bool, error) {
	var taken bool
	err := ex.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM weeks WHERE course_id = ? AND week_number = ?)`, courseID, number).Scan(&taken)
	if err != nil {
		return false, fmt.Errorf("check week number: %w", err)
	}
	return taken, nil
}

func insertWeek(ctx context.Context, ex sqlite.Execer, w *Week) error {
	themes, err := json.Marshal(w.Themes)
	if err != nil {
		return fmt.Errorf("insert week: %w", err)
	}
	now := sqlite.FormatTime(w.CreatedAt)
	err = ex.QueryRowContext(ctx, `INSERT INTO weeks (course_id, week_number, title, themes, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		w.CourseID, w.Number, w.Title, string(themes), now, now).Scan(&w.ID)
	if sqlite.IsUniqueViolation(err) {
		// Another week took the number between the check and the insert.
		return ErrDuplicateWeek
	}
	if err != nil {
		return fmt.Errorf("insert week: %w", err)
	}
	return nil
}

func updateWeek(ctx context.Context, ex sqlite.Execer, w Week) error {
	themes, err := json.Marshal(w.Themes)
	if err != nil {
		return fmt.Errorf("update week: %w", err)
	}
	_, err = ex.ExecContext(ctx, `UPDATE weeks SET title = ?, themes = ?, updated_at = ? WHERE id = ?`,
		w.Title, string(themes), sqlite.FormatTime(w.UpdatedAt), w.ID)
	if err != nil {
		return fmt.Errorf("update week %d: %w", w.ID, err)
	}
	return nil
}
