package course

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
)

// CreateWeek adds a numbered week to a course.
func (s *Service) CreateWeek(ctx context.Context, u auth.User, courseID int64, n NewWeek) (Week, error) {
	var w Week
	_, err := s.write(ctx, "create week", func(tx *sql.Tx) (Course, error) {
		if _, err := AuthorizeCourse(ctx, tx, u, courseID, Teach); err != nil {
			return Course{}, err
		}
		if err := n.validate(); err != nil {
			return Course{}, err
		}
		if taken, err := weekNumberTaken(ctx, tx, courseID, n.Number); err != nil || taken {
			return Course{}, orErr(err, ErrDuplicateWeek)
		}
		w = Week{CourseID: courseID, Number: n.Number, Title: n.Title, Themes: []string{}, CreatedAt: s.now()}
		w.UpdatedAt = w.CreatedAt
		if err := insertWeek(ctx, tx, &w); err != nil {
			return Course{}, err
		}
		return Course{}, s.record(ctx, tx, u, audit.WeekCreate, "week", w.ID, map[string]any{"course_id": courseID, "week_number": w.Number})
	})
	if err != nil {
		return Week{}, err
	}
	return w, nil
}

// GetWeek returns a week u may see.
func (s *Service) GetWeek(ctx context.Context, u auth.User, weekID int64) (Week, error) {
	return AuthorizeWeek(ctx, s.db.Read, u, weekID, View)
}

// UpdateWeek changes a week's title or its themes (professors may edit the
// themes by hand).
func (s *Service) UpdateWeek(ctx context.Context, u auth.User, weekID int64, p WeekPatch) (Week, error) {
	var w Week
	_, err := s.write(ctx, "update week", func(tx *sql.Tx) (Course, error) {
		var err error
		if w, err = AuthorizeWeek(ctx, tx, u, weekID, Teach); err != nil {
			return Course{}, err
		}
		if err := p.validate(); err != nil {
			return Course{}, err
		}
		var changed []string
		if p.Title != nil && *p.Title != w.Title {
			w.Title, changed = *p.Title, append(changed, "title")
		}
		if p.Themes != nil && !slices.Equal(*p.Themes, w.Themes) {
			w.Themes, changed = *p.Themes, append(changed, "themes")
		}
		if len(changed) == 0 {
			return Course{}, nil
		}
		w.UpdatedAt = s.now()
		if err := updateWeek(ctx, tx, w); err != nil {
			return Course{}, err
		}
		return Course{}, s.record(ctx, tx, u, audit.WeekUpdate, "week", w.ID, map[string]any{"course_id": w.CourseID, "fields": changed})
	})
	if err != nil {
		return Week{}, err
	}
	return w, nil
}

// DeleteWeek removes a week with its documents, chunks and files; sessions
// held on it stay.
func (s *Service) DeleteWeek(ctx context.Context, u auth.User, weekID int64) error {
	var sums []string
	_, err := s.write(ctx, "delete week", func(tx *sql.Tx) (Course, error) {
		w, err := AuthorizeWeek(ctx, tx, u, weekID, Teach)
		if err != nil {
			return Course{}, err
		}
		if sums, err = fileSums(ctx, tx, "w.id = ?", weekID); err != nil {
			return Course{}, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM weeks WHERE id = ?`, weekID); err != nil {
			return Course{}, fmt.Errorf("delete week %d: %w", weekID, err)
		}
		return Course{}, s.record(ctx, tx, u, audit.WeekDelete, "week", weekID, map[string]any{
			"course_id": w.CourseID, "week_number": w.Number, "documents": w.DocumentCount})
	})
	if err != nil {
		return err
	}
	s.release(ctx, sums)
	return nil
}

// Authorize answers whether u may do a to the week (for capabilities that
// act on a week: search, sessions): the week, or not found / forbidden.
func (s *Service) Authorize(ctx context.Context, u auth.User, weekID int64, a Action) (Week, error) {
	return AuthorizeWeek(ctx, s.db.Read, u, weekID, a)
}
