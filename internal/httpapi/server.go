// Package httpapi is the HTTP face of the server: the routes (routes.go),
// the middleware, the one error mapping (errors.go) and the handlers with
// their request and response shapes.
package httpapi

import (
	"context"
	"crypto/rand"
	"github.com/lawtutor/socratic/internal/web/app"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/tutor"
	"github.com/lawtutor/socratic/internal/voice"
)

// Body limits: JSON routes are small; anything bigger is refused with 413
// before it is parsed.
const (
	authBodyLimit = 16 << 10
	jsonBodyLimit = 64 << 10
	// enrollBodyLimit fits a roster of course.MaxEmails addresses.
	enrollBodyLimit = 256 << 10
)

// Deps are what the HTTP layer serves.
type Deps struct {
	Config    config.Config
	DB        *sqlite.DB
	Auth      *auth.Service
	Courses   *course.Service
	Documents *document.Service
	PDF       *pdftext.Extractor // for /api/health; nil where documents are not served
	// Search answers week searches; nil searches with BM25 alone.
	Search *retrieval.Searcher
	// Embeddings is what /api/health reports of the embedder.
	Embeddings retrieval.Status
	// Sessions runs tutoring sessions; nil where they are not served.
	Sessions *session.Service
	// Jobs queues background work (themes); nil where no queue runs.
	Jobs *jobs.Client
	// Voice is the ElevenLabs voice layer; nil builds it from the
	// configuration (nil again in browser mode).
	Voice *voice.Service
	// LLMStatus is what /api/health says of the language model: ok, or
	// error when one is configured but cannot be used ("" before the
	// tutor is wired: disabled).
	LLMStatus string
	Logger    *slog.Logger
	// Backups is the backup schedule whose age /metrics reports; nil when
	// BACKUP_DIR is not set.
	Backups BackupStatus
}

// Server holds the router and what the handlers need.
type Server struct {
	cfg       config.Config
	db        *sqlite.DB
	auth      *auth.Service
	courses   *course.Service
	documents *document.Service
	pdf       *pdftext.Extractor
	search    *retrieval.Searcher
	embStatus retrieval.Status
	jobs      *jobs.Client
	sessions  *session.Service
	llmStatus string
	voice     *voice.Service // nil: the browser's own speech
	voiceKey  []byte         // signs voice session tokens (from SECRET_KEY)
	log       *slog.Logger
	api       huma.API
	metrics   *metrics
	handler   http.Handler

	specOnce sync.Once
	// appPage and appCSP are the web client's page and its policy, made
	// once from the configuration.
	appPage []byte
	appCSP  string
	spec    []byte
	specErr error
}

// New builds the router with every route and the middleware stack.
func New(d Deps) *Server {
	s := &Server{cfg: d.Config, db: d.DB, auth: d.Auth, courses: d.Courses, documents: d.Documents, pdf: d.PDF, search: d.Search, embStatus: d.Embeddings, jobs: d.Jobs, sessions: d.Sessions, llmStatus: d.LLMStatus, log: d.Logger, metrics: newMetrics()}
	s.appPage = app.Page(appAssetBase, s.appSettings())
	s.appCSP = app.CSP(s.appVoiceOrigins())
	if s.search == nil {
		s.search = retrieval.NewSearcher(nil, 0, d.Logger)
	}
	if s.sessions == nil {
		s.sessions = session.NewService(d.DB, SessionOptions(d.Config, tutor.New(s.search, nil), d.Logger))
	}
	s.metrics.watchSessions(s.sessions)
	s.metrics.watchOperations(s)
	if d.Backups != nil {
		s.metrics.watchBackups(d.Backups)
	}
	s.voice = newVoice(d)
	s.voiceKey = voiceKey(d.Config.SecretKey)
	if s.voice != nil {
		s.metrics.registry.MustRegister(s.voice.Client().Collectors()...)
	}
	if s.embStatus.Status == "" {
		s.embStatus = retrieval.Status{Status: "disabled", Provider: "none", Model: d.Config.EmbeddingsModel}
	}
	mux := http.NewServeMux()

	hc := huma.DefaultConfig(d.Config.AppName, d.Config.AppVersion)
	hc.Info.Description = "Backend of a voice-based Socratic law tutor. Errors are application/problem+json (RFC 9457)."
	// We serve /openapi.json and /docs as ordinary routes (so they are in the
	// description and under our headers), and skip huma's $schema links.
	hc.OpenAPIPath, hc.DocsPath, hc.SchemasPath = "", "", ""
	hc.CreateHooks = nil
	hc.Formats = map[string]huma.Format{"application/json": huma.DefaultJSONFormat, "json": huma.DefaultJSONFormat}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "An access token from POST /api/auth/login."},
	}
	s.api = huma.NewAPI(hc, humago.NewAdapter(exactRoot{mux}, ""))
	s.api.UseMiddleware(s.recordRoute)
	s.routes()
	s.describeAPI()

	var h http.Handler = problemsForUnrouted(mux)
	h = formLogin("/api/auth/login", h)
	h = limitBody(max(d.Config.MaxUploadSize, d.Config.MaxAudioSize)+1<<20, h)
	h = s.cors(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.observe(h)
	s.handler = h
	return s
}

// voiceKey is the key of voice session tokens, from SECRET_KEY; without
// one (a caller that skipped config.EnsureSecretKey), a random key of this
// process's own, never a key anyone could derive from nothing.
func voiceKey(secret string) []byte {
	if secret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	}
	return voice.SessionTokenKey(secret)
}

// SessionOptions are the session service's settings from the
// configuration, answering with t.
func SessionOptions(cfg config.Config, t *tutor.Tutor, log *slog.Logger) session.Options {
	loc, err := time.LoadLocation(cfg.WeekTimezone)
	if err != nil { // config.Validate refuses an unknown zone
		loc = time.UTC
	}
	return session.Options{
		Tutor: t, AudioDir: cfg.SessionDir, OwnAudioDir: cfg.InDataDir(cfg.SessionDir),
		PerWeek:     cfg.RateLimitConversationsPerWeek,
		MaxDuration: time.Duration(cfg.SessionMaxDurationSeconds) * time.Second,
		Location:    loc, MaxAudio: cfg.MaxAudioSize, Logger: log,
		MinTurnInterval: time.Duration(cfg.SessionMinTurnIntervalSeconds) * time.Second,
		MaxTurns:        cfg.SessionMaxTurns, DailyTokens: cfg.StudentDailyTokenBudget,
		HistoryBudget:  cfg.LLMHistoryTokenBudget,
		AudioRetention: time.Duration(cfg.AudioRetentionDays) * 24 * time.Hour,
	}
}

// Handler is the whole stack: middleware around the router.
func (s *Server) Handler() http.Handler { return s.handler }

// exactRoot makes huma's "GET /" match only "/": in a Go ServeMux a bare
// "/" pattern is a catch-all, which would answer every unknown path.
type exactRoot struct{ mux *http.ServeMux }

func (e exactRoot) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

func (e exactRoot) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if method, path, _ := strings.Cut(pattern, " "); path == "/" {
		pattern = method + " /{$}"
	}
	e.mux.HandleFunc(pattern, h)
}

// recordRoute notes the matched operation for the access log and metrics.
func (s *Server) recordRoute(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	infoFrom(ctx.Context()).route = op.Path
	next(ctx)
}

// userKey is the context key of the signed-in user.
type userKey struct{}

// currentUser returns the user the auth middleware put in ctx.
func currentUser(ctx context.Context) auth.User {
	u, _ := ctx.Value(userKey{}).(auth.User)
	return u
}
