package httpapi

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// rawBodyKey carries the request body and its type to a handler whose
// operation declares no body to huma, so huma leaves the stream unread and
// the handler reads it itself (uploads, which are streamed to disk).
type rawBodyKey struct{}

type rawBody struct {
	r           io.Reader
	contentType string
}

// multipartFile hands the unread body to the handler and, once huma has
// registered the operation (which declares no body, so huma reads none),
// documents a multipart body with one required "file" field.
func multipartFile(desc string) option { return multipartField("file", desc, true) }

// multipartField is multipartFile for a field of any name, optional or not.
func multipartField(field, desc string, required bool) option {
	return option{
		before: func(o *huma.Operation) {
			o.Middlewares = append(o.Middlewares, func(ctx huma.Context, next func(huma.Context)) {
				next(huma.WithValue(ctx, rawBodyKey{}, rawBody{r: ctx.BodyReader(), contentType: ctx.Header("Content-Type")}))
			})
		},
		after: func(o *huma.Operation) {
			schema := &huma.Schema{
				Type:       "object",
				Properties: map[string]*huma.Schema{field: fileSchema(desc)},
			}
			if required {
				schema.Required = []string{field}
			}
			o.RequestBody = &huma.RequestBody{Required: required, Description: desc, Content: map[string]*huma.MediaType{
				"multipart/form-data": {Schema: schema},
			}}
		},
	}
}

func bodyOf(ctx context.Context) rawBody {
	b, _ := ctx.Value(rawBodyKey{}).(rawBody)
	return b
}

type uploadInput struct {
	WeekID int64 `query:"week_id" required:"true" minimum:"1" doc:"The week the reading belongs to"`
}

type uploadOutput struct {
	Status int
	Body   struct {
		Message    string `json:"message"`
		DocumentID int64  `json:"document_id"`
		Status     string `json:"status" enum:"queued,processing,processed,failed"`
	}
}

func (s *Server) uploadDocument(ctx context.Context, in *uploadInput) (*uploadOutput, error) {
	b := bodyOf(ctx)
	d, created, err := s.documents.Upload(withIP(ctx), currentUser(ctx), in.WeekID, b.r, b.contentType)
	if err != nil {
		return nil, err
	}
	out := &uploadOutput{Status: http.StatusAccepted}
	out.Body.Message = "Document uploaded successfully"
	if !created {
		out.Status = http.StatusOK
		out.Body.Message = "This document is already in the week"
	}
	out.Body.DocumentID, out.Body.Status = d.ID, string(d.Status)
	return out, nil
}

type listDocumentsInput struct {
	WeekID int64 `query:"week_id" required:"true" minimum:"1"`
}

type documentsOutput struct {
	Body struct {
		Items []Document `json:"items"`
		Total int        `json:"total"`
	}
}

func (s *Server) listDocuments(ctx context.Context, in *listDocumentsInput) (*documentsOutput, error) {
	docs, err := s.documents.List(ctx, currentUser(ctx), in.WeekID)
	if err != nil {
		return nil, err
	}
	out := &documentsOutput{}
	out.Body.Items = make([]Document, 0, len(docs))
	for _, d := range docs {
		out.Body.Items = append(out.Body.Items, toDocument(d))
	}
	out.Body.Total = len(docs)
	return out, nil
}

// DocumentIDPath is exported for huma, as CourseIDPath is.
type DocumentIDPath struct {
	DocumentID int64 `path:"document_id" minimum:"1"`
}

type documentOutput struct{ Body Document }

func (s *Server) getDocument(ctx context.Context, in *DocumentIDPath) (*documentOutput, error) {
	d, err := s.documents.Get(ctx, currentUser(ctx), in.DocumentID)
	if err != nil {
		return nil, err
	}
	return &documentOutput{Body: toDocument(d)}, nil
}

func (s *Server) documentFile(ctx context.Context, in *DocumentIDPath) (*huma.StreamResponse, error) {
	d, f, err := s.documents.Open(ctx, currentUser(ctx), in.DocumentID)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer f.Close()
		hctx.SetHeader("Content-Type", "application/pdf")
		hctx.SetHeader("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.OriginalFilename}))
		hctx.SetHeader("Content-Length", strconv.FormatInt(d.FileSize, 10))
		hctx.SetHeader("X-Content-Type-Options", "nosniff")
		hctx.SetStatus(http.StatusOK)
		if _, err := io.Copy(hctx.BodyWriter(), f); err != nil {
			s.logError(ctx, "send document file", err)
		}
	}}, nil
}

type chunksInput struct {
	DocumentIDPath
	Page
}

// ChunkOut is one stored passage.
type ChunkOut struct {
	ID         int64  `json:"id"`
	ChunkIndex int    `json:"chunk_index"`
	Page       int    `json:"page"`
	Content    string `json:"content"`
	TokenCount int    `json:"token_count"`
}

type chunksOutput struct {
	Body struct {
		Items []ChunkOut `json:"items"`
		Total int        `json:"total"`
	}
}

func (s *Server) documentChunks(ctx context.Context, in *chunksInput) (*chunksOutput, error) {
	cs, total, err := s.documents.Chunks(ctx, currentUser(ctx), in.DocumentID, in.Limit, in.Offset)
	if err != nil {
		return nil, err
	}
	out := &chunksOutput{}
	out.Body.Items = make([]ChunkOut, 0, len(cs))
	for _, c := range cs {
		out.Body.Items = append(out.Body.Items, ChunkOut{ID: c.ID, ChunkIndex: c.Index, Page: c.Page, Content: c.Content, TokenCount: c.TokenCount})
	}
	out.Body.Total = total
	return out, nil
}

func (s *Server) reprocessDocument(ctx context.Context, in *DocumentIDPath) (*documentOutput, error) {
	d, err := s.documents.Reprocess(withIP(ctx), currentUser(ctx), in.DocumentID)
	if err != nil {
		return nil, err
	}
	return &documentOutput{Body: toDocument(d)}, nil
}

func (s *Server) deleteDocument(ctx context.Context, in *DocumentIDPath) (*struct{}, error) {
	return nil, s.documents.Delete(withIP(ctx), currentUser(ctx), in.DocumentID)
}
