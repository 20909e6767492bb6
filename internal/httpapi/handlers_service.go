package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/lawtutor/socratic/internal/jobs"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/lawtutor/socratic/internal/errs"
)

// ComponentStatus is every health component's status. Exported because
// huma's schema generator skips the fields of an unexported embedded struct
// (encoding/json does not), which left them out of the description.
type ComponentStatus struct {
	Status string `json:"status" enum:"ok,starting,disabled,error" doc:"ok: working; starting: warming up (the PDF reader compiles on a first start); disabled: not configured or not part of this build; error: configured but failing"`
}

type healthBody struct {
	Status     string `json:"status" enum:"ok,degraded"`
	Version    string `json:"version"`
	Components struct {
		Database ComponentStatus `json:"database"`
		Jobs     struct {
			ComponentStatus
			Queued  int `json:"queued"`
			Running int `json:"running"`
		} `json:"jobs"`
		LLM struct {
			ComponentStatus
			Provider string `json:"provider"`
		} `json:"llm"`
		Embeddings struct {
			ComponentStatus
			Provider string `json:"provider" enum:"local,openai,none"`
			Model    string `json:"model"`
			Backend  string `json:"backend,omitempty" doc:"For the local provider: onnxruntime, or go (the pure-Go runtime, used where ONNX Runtime's library is absent)"`
		} `json:"embeddings"`
		Voice struct {
			ComponentStatus
			Provider    string     `json:"provider" enum:"elevenlabs,browser"`
			LastError   *string    `json:"last_error,omitempty" doc:"The most recent ElevenLabs failure, in words (never a key or token); status is error until a call succeeds again"`
			LastErrorAt *time.Time `json:"last_error_at,omitempty"`
		} `json:"voice"`
	} `json:"components"`
}

type healthOutput struct{ Body healthBody }

// health reports each component without ever naming a secret (or a path).
// The tutor's language model and voice are reported as disabled until the
// capabilities that bring them are built in; the provider each will use is
// what the configuration selects. Embeddings are disabled where no model
// is present (search is then BM25 alone), in error where a configured one
// fails to load.
func (s *Server) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	var b healthBody
	b.Version = s.cfg.AppVersion
	b.Status = "ok"
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.db.Read.PingContext(pingCtx); err != nil {
		s.logError(ctx, "health: database", err)
		b.Components.Database.Status = "error"
		b.Status = "degraded"
	} else {
		b.Components.Database.Status = "ok"
	}
	s.jobsHealth(ctx, &b)
	b.Components.LLM.Status = orDefault(s.llmStatus, "disabled")
	b.Components.LLM.Provider = s.cfg.LLMProviderName()
	if s.llmStatus == "error" {
		b.Status = "degraded"
	}
	e := s.embStatus
	b.Components.Embeddings.Status, b.Components.Embeddings.Provider = e.Status, e.Provider
	b.Components.Embeddings.Model, b.Components.Embeddings.Backend = e.Model, e.Backend
	if e.Status == "error" {
		b.Status = "degraded"
	}
	s.voiceHealth(&b)
	return &healthOutput{Body: b}, nil
}

// jobsHealth reports the background queue: its counts, and whether the PDF
// reader it needs has started ("starting" in the seconds after a first start
// while PDFium compiles).
func (s *Server) jobsHealth(ctx context.Context, b *healthBody) {
	if s.documents == nil {
		b.Components.Jobs.Status = "disabled"
		return
	}
	queued, running, err := jobs.Counts(ctx, s.db.Read)
	if err != nil {
		s.logError(ctx, "health: jobs", err)
		b.Components.Jobs.Status = "error"
		b.Status = "degraded"
		return
	}
	b.Components.Jobs.Queued, b.Components.Jobs.Running = queued, running
	b.Components.Jobs.Status = "ok"
	if s.pdf != nil {
		switch started, err := s.pdf.Ready(); {
		case err != nil:
			s.logError(ctx, "health: pdf reader", err)
			b.Components.Jobs.Status = "error"
			b.Status = "degraded"
		case !started:
			b.Components.Jobs.Status = "starting"
		}
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return strings.ToLower(s)
}

type statusOutput struct {
	Body struct {
		Status string `json:"status"`
	}
}

func (s *Server) live(ctx context.Context, _ *struct{}) (*statusOutput, error) {
	out := &statusOutput{}
	out.Body.Status = "ok"
	return out, nil
}

// ready answers 200 only when the database answers and is fully migrated.
func (s *Server) ready(ctx context.Context, _ *struct{}) (*statusOutput, error) {
	readyCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.db.Ready(readyCtx); err != nil {
		s.logError(ctx, "not ready", err)
		return nil, errs.New(errs.Unavailable, "the database is not ready")
	}
	out := &statusOutput{}
	out.Body.Status = "ready"
	return out, nil
}

type rawOutput struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	CSP          string `header:"Content-Security-Policy"`
	Body         []byte
}

// openapi serves the description huma generated from the routes; it is
// rendered once, on first request, after every route is registered.
func (s *Server) openapi(ctx context.Context, _ *struct{}) (*rawOutput, error) {
	s.specOnce.Do(func() { s.spec, s.specErr = json.Marshal(s.api.OpenAPI()) })
	if s.specErr != nil {
		return nil, fmt.Errorf("render openapi: %w", s.specErr)
	}
	return &rawOutput{ContentType: "application/json", CacheControl: "no-cache", CSP: strings.Join(hAPICSP, ""), Body: s.spec}, nil
}

type metricsInput struct {
	Authorization string `header:"Authorization" doc:"Bearer METRICS_TOKEN, when scraped from another machine"`
}

func (s *Server) metricsPage(ctx context.Context, in *metricsInput) (*huma.StreamResponse, error) {
	if !s.metricsAllowed(infoFrom(ctx), in.Authorization) {
		return nil, errs.New(errs.Forbidden, "metrics are served on loopback, or with the METRICS_TOKEN bearer token")
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		r, w := humago.Unwrap(hctx)
		s.metrics.handler.ServeHTTP(w, r)
	}}, nil
}
