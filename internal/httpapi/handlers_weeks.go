package httpapi

import (
	"context"
	"time"

	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/tutor"
)

// Week is one numbered week of a course.
type Week struct {
	ID                     int64     `json:"id"`
	CourseID               int64     `json:"course_id"`
	WeekNumber             int       `json:"week_number"`
	Title                  string    `json:"title"`
	Themes                 []string  `json:"themes"`
	DocumentCount          int       `json:"document_count"`
	ProcessedDocumentCount int       `json:"processed_document_count"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// WeekDetail is a week with its readings.
type WeekDetail struct {
	Week
	Documents []Document `json:"documents"`
}

// Document is one uploaded reading.
type Document struct {
	ID               int64      `json:"id"`
	WeekID           int64      `json:"week_id"`
	OriginalFilename string     `json:"original_filename"`
	FileSize         int64      `json:"file_size"`
	PageCount        *int       `json:"page_count"`
	Status           string     `json:"status" enum:"queued,processing,processed,failed"`
	Error            *string    `json:"error" doc:"Why processing failed, in words a professor understands"`
	ChunkCount       int        `json:"chunk_count"`
	PagesDone        int        `json:"pages_done" doc:"Pages read so far; with page_count, the progress of processing"`
	UploadedAt       time.Time  `json:"uploaded_at"`
	ProcessedAt      *time.Time `json:"processed_at"`
	Warnings         []string   `json:"warnings,omitempty" doc:"For the document's instructors: text in the reading that looks like instructions to an AI model"`
}

func toWeek(w course.Week) Week {
	return Week{ID: w.ID, CourseID: w.CourseID, WeekNumber: w.Number, Title: w.Title, Themes: w.Themes,
		DocumentCount: w.DocumentCount, ProcessedDocumentCount: w.ProcessedDocumentCount,
		CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC()}
}

func toDocument(d document.Document) Document {
	out := Document{ID: d.ID, WeekID: d.WeekID, OriginalFilename: d.OriginalFilename, FileSize: d.FileSize,
		PageCount: d.PageCount, Status: string(d.Status), ChunkCount: d.ChunkCount, PagesDone: d.PagesDone, UploadedAt: d.UploadedAt.UTC()}
	if d.Error != "" {
		out.Error = &d.Error
	}
	out.Warnings = d.Warnings
	if d.ProcessedAt != nil {
		t := d.ProcessedAt.UTC()
		out.ProcessedAt = &t
	}
	return out
}

type weekOutput struct{ Body Week }

// WeekIDPath is exported for huma, as CourseIDPath is.
type WeekIDPath struct {
	WeekID int64 `path:"week_id" minimum:"1"`
}

type createWeekInput struct {
	CourseIDPath
	Body struct {
		WeekNumber int    `json:"week_number" minimum:"1" maximum:"52"`
		Title      string `json:"title,omitempty" maxLength:"200"`
	}
}

func (s *Server) createWeek(ctx context.Context, in *createWeekInput) (*weekOutput, error) {
	w, err := s.courses.CreateWeek(withIP(ctx), currentUser(ctx), in.CourseID, course.NewWeek{Number: in.Body.WeekNumber, Title: in.Body.Title})
	if err != nil {
		return nil, err
	}
	return &weekOutput{Body: toWeek(w)}, nil
}

type weekDetailOutput struct{ Body WeekDetail }

func (s *Server) getWeek(ctx context.Context, in *WeekIDPath) (*weekDetailOutput, error) {
	w, err := s.courses.GetWeek(ctx, currentUser(ctx), in.WeekID)
	if err != nil {
		return nil, err
	}
	docs, err := s.documents.List(ctx, currentUser(ctx), w.ID)
	if err != nil {
		return nil, err
	}
	out := &weekDetailOutput{Body: WeekDetail{Week: toWeek(w), Documents: make([]Document, 0, len(docs))}}
	for _, d := range docs {
		out.Body.Documents = append(out.Body.Documents, toDocument(d))
	}
	return out, nil
}

type updateWeekInput struct {
	WeekIDPath
	Body struct {
		Title  *string   `json:"title,omitempty" maxLength:"200"`
		Themes *[]string `json:"themes,omitempty" maxItems:"20" doc:"Replaces the week's themes; blanks and repeats are dropped"`
	}
}

func (s *Server) updateWeek(ctx context.Context, in *updateWeekInput) (*weekOutput, error) {
	w, err := s.courses.UpdateWeek(withIP(ctx), currentUser(ctx), in.WeekID, course.WeekPatch{Title: in.Body.Title, Themes: in.Body.Themes})
	if err != nil {
		return nil, err
	}
	return &weekOutput{Body: toWeek(w)}, nil
}

func (s *Server) deleteWeek(ctx context.Context, in *WeekIDPath) (*struct{}, error) {
	return nil, s.courses.DeleteWeek(withIP(ctx), currentUser(ctx), in.WeekID)
}

type themesOutput struct {
	Body struct {
		JobID int64 `json:"job_id"`
	}
}

// generateThemes queues the week's themes (the fast model, or offline key
// phrases); they replace the week's themes when the job is done.
func (s *Server) generateThemes(ctx context.Context, in *WeekIDPath) (*themesOutput, error) {
	if _, err := s.courses.Authorize(ctx, currentUser(ctx), in.WeekID, course.Teach); err != nil {
		return nil, err
	}
	if s.jobs == nil {
		return nil, errs.New(errs.Unavailable, "background jobs are not running")
	}
	res, err := s.jobs.Insert(ctx, tutor.ThemesArgs{WeekID: in.WeekID}, nil)
	if err != nil {
		return nil, err
	}
	out := &themesOutput{}
	out.Body.JobID = res.Job.ID
	return out, nil
}
