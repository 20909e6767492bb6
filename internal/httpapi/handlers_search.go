package httpapi

import (
	"context"

	"github.com/lawtutor/socratic/internal/course"
)

// Source is a retrieved passage.
type Source struct {
	ChunkID    int64  `json:"chunk_id"`
	DocumentID int64  `json:"document_id"`
	Filename   string `json:"filename"`
	Page       int    `json:"page"`
	Content    string `json:"content"`
}

// SearchHit is a passage a search found, with its score.
type SearchHit struct {
	Source
	Score float64 `json:"score" doc:"Higher is a better match; comparable only within one answer"`
}

const defaultSearchK = 5

type searchInput struct {
	WeekIDPath
	Body struct {
		Query string `json:"query" minLength:"1" maxLength:"4000"`
		// No default tag: a schema default makes generated clients treat
		// the field as always present (openapi-typescript's
		// defaultNonNullable), so the default is applied here instead.
		K int `json:"k,omitempty" minimum:"1" maximum:"20" doc:"How many passages (default 5)"`
	}
}

type searchOutput struct {
	Body struct {
		Items []SearchHit `json:"items"`
	}
}

// searchWeek runs the retrieval the tutor uses over one week's readings.
func (s *Server) searchWeek(ctx context.Context, in *searchInput) (*searchOutput, error) {
	if _, err := s.courses.Authorize(ctx, currentUser(ctx), in.WeekID, course.Study); err != nil {
		return nil, err
	}
	k := in.Body.K
	if k == 0 {
		k = defaultSearchK
	}
	hits, err := s.search.Search(ctx, s.db.Read, in.WeekID, in.Body.Query, k)
	if err != nil {
		return nil, err
	}
	out := &searchOutput{}
	out.Body.Items = make([]SearchHit, 0, len(hits))
	for _, h := range hits {
		out.Body.Items = append(out.Body.Items, SearchHit{Source: Source{ChunkID: h.ChunkID, DocumentID: h.DocumentID, Filename: h.Filename, Page: h.Page, Content: h.Content}, Score: h.Score})
	}
	return out, nil
}
