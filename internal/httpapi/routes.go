package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/lawtutor/socratic/internal/auth"
)

// routes lists every route of the API, one line each: method, path,
// operation id, who may call it, handler, and options.
func (s *Server) routes() {
	// Service
	route(s, http.MethodGet, "/", "get-root", anyone, s.root, s.rootResponse())
	route(s, http.MethodGet, "/api/health", "get-health", anyone, s.health)
	route(s, http.MethodGet, "/api/health/live", "get-health-live", anyone, s.live)
	route(s, http.MethodGet, "/api/health/ready", "get-health-ready", anyone, s.ready, fails(503))
	route(s, http.MethodGet, "/openapi.json", "get-openapi", anyone, s.openapi, specResponse)
	route(s, http.MethodGet, "/docs", "get-docs", anyone, s.docs, htmlResponse)
	route(s, http.MethodGet, "/docs/assets/{version}/{file}", "get-docs-asset", anyone, s.docsAsset, hidden)
	route(s, http.MethodGet, appAssetBase+"/{version}/{file}", "get-app-asset", anyone, s.appAsset, hidden)
	route(s, http.MethodGet, "/metrics", "get-metrics", anyone, s.metricsPage, fails(403), metricsResponse)

	// Auth
	route(s, http.MethodPost, "/api/auth/register", "register", anyone, s.register, status(201), bodyLimit(authBodyLimit), fails(403, 409, 429))
	route(s, http.MethodPost, "/api/auth/login", "login", anyone, s.login, bodyLimit(authBodyLimit), loginForm, fails(401, 429, 503))
	route(s, http.MethodGet, "/api/auth/me", "get-me", signedIn, s.me)
	route(s, http.MethodPost, "/api/auth/password", "change-password", signedIn, s.changePassword, status(204), bodyLimit(authBodyLimit), fails(429))
	route(s, http.MethodPost, "/api/auth/logout", "logout", signedIn, s.logout, status(204))
	route(s, http.MethodGet, "/api/auth/me/export", "export-me", signedIn, s.exportMe)

	// Admin
	route(s, http.MethodGet, "/api/admin/users", "list-users", adminOnly, s.listUsers)
	route(s, http.MethodPost, "/api/admin/users", "create-user", adminOnly, s.createUser, status(201), bodyLimit(authBodyLimit), fails(409))
	route(s, http.MethodPatch, "/api/admin/users/{user_id}", "update-user", adminOnly, s.updateUser, fails(404))
	route(s, http.MethodDelete, "/api/admin/users/{user_id}", "delete-user", adminOnly, s.deleteUser, status(204), fails(404, 409))
	route(s, http.MethodGet, "/api/admin/audit", "list-audit", adminOnly, s.listAudit)
	route(s, http.MethodGet, "/api/admin/stats", "get-stats", adminOnly, s.stats)

	// Courses and weeks: who may do what is the course policy's answer, so
	// these are all signedIn here and 403/404 come from the service.
	route(s, http.MethodGet, "/api/courses", "list-courses", signedIn, s.listCourses)
	route(s, http.MethodPost, "/api/courses", "create-course", signedIn, s.createCourse, status(201), fails(403, 409))
	route(s, http.MethodPost, "/api/courses/join", "join-course", signedIn, s.joinCourse, bodyLimit(authBodyLimit), fails(403, 404, 429))
	route(s, http.MethodGet, "/api/courses/{course_id}", "get-course", signedIn, s.getCourse, fails(404))
	route(s, http.MethodPatch, "/api/courses/{course_id}", "update-course", signedIn, s.updateCourse, fails(403, 404, 409))
	route(s, http.MethodDelete, "/api/courses/{course_id}", "delete-course", signedIn, s.deleteCourse, status(204), fails(403, 404))
	route(s, http.MethodPost, "/api/courses/{course_id}/instructors", "add-instructor", signedIn, s.addInstructor, fails(403, 404))
	route(s, http.MethodPost, "/api/courses/{course_id}/join-code", "regenerate-join-code", signedIn, s.regenerateJoinCode, fails(403, 404))
	route(s, http.MethodGet, "/api/courses/{course_id}/students", "list-students", signedIn, s.listStudents, fails(403, 404))
	route(s, http.MethodPost, "/api/courses/{course_id}/students", "enroll-students", signedIn, s.enrollStudents, bodyLimit(enrollBodyLimit), fails(403, 404))
	route(s, http.MethodDelete, "/api/courses/{course_id}/students/{user_id}", "remove-student", signedIn, s.removeStudent, status(204), fails(403, 404))
	route(s, http.MethodPost, "/api/courses/{course_id}/weeks", "create-week", signedIn, s.createWeek, status(201), fails(403, 404, 409))
	route(s, http.MethodGet, "/api/weeks/{week_id}", "get-week", signedIn, s.getWeek, fails(404))
	route(s, http.MethodPatch, "/api/weeks/{week_id}", "update-week", signedIn, s.updateWeek, fails(403, 404))
	route(s, http.MethodDelete, "/api/weeks/{week_id}", "delete-week", signedIn, s.deleteWeek, status(204), fails(403, 404))
	route(s, http.MethodPost, "/api/weeks/{week_id}/search", "search-week", signedIn, s.searchWeek, fails(404))
	route(s, http.MethodPost, "/api/weeks/{week_id}/themes/generate", "generate-themes", signedIn, s.generateThemes, status(202), fails(403, 404, 503))

	// Documents
	route(s, http.MethodPost, "/api/documents/upload", "upload-document", signedIn, s.uploadDocument, status(202), multipartFile("The reading, a PDF"), alsoOK("The same bytes are already in this week: the existing document"), bodyLimit(-1), fails(403, 404, 413, 415, 503, 507))
	route(s, http.MethodGet, "/api/documents", "list-documents", signedIn, s.listDocuments, fails(404))
	route(s, http.MethodGet, "/api/documents/{document_id}", "get-document", signedIn, s.getDocument, fails(404))
	route(s, http.MethodGet, "/api/documents/{document_id}/file", "get-document-file", signedIn, s.documentFile, pdfResponse, fails(404))
	route(s, http.MethodGet, "/api/documents/{document_id}/chunks", "list-document-chunks", signedIn, s.documentChunks, fails(403, 404))
	route(s, http.MethodPost, "/api/documents/{document_id}/reprocess", "reprocess-document", signedIn, s.reprocessDocument, status(202), fails(403, 404, 409))
	route(s, http.MethodDelete, "/api/documents/{document_id}", "delete-document", signedIn, s.deleteDocument, status(204), fails(403, 404))

	// Tutoring sessions: the session service applies who may see and do
	// what (another student's session is 404, never 403).
	route(s, http.MethodPost, "/api/sessions/start", "start-session", signedIn, s.startSession, status(201), fails(403, 404, 409, 429, 503))
	route(s, http.MethodGet, "/api/sessions/quota", "get-session-quota", signedIn, s.sessionQuota)
	route(s, http.MethodPost, "/api/sessions/{session_id}/message", "send-message", signedIn, s.sendMessage, fails(403, 404, 409, 429, 503))
	route(s, http.MethodPost, "/api/sessions/{session_id}/message/stream", "stream-message", signedIn, s.streamMessage, s.turnEvents(), fails(403, 404, 409, 429, 503))
	route(s, http.MethodPost, "/api/sessions/{session_id}/end", "end-session", signedIn, s.endSession, multipartField("audio", "The session's recording: WebM, Ogg, WAV, MP3 or M4A (judged by its bytes)", false), bodyLimit(-1), fails(403, 404, 413, 415))
	route(s, http.MethodGet, "/api/sessions", "list-sessions", signedIn, s.listSessions)
	route(s, http.MethodGet, "/api/sessions/{session_id}", "get-session", signedIn, s.getSession, fails(404))
	route(s, http.MethodGet, "/api/sessions/{session_id}/audio", "get-session-audio", signedIn, s.sessionAudio, audioResponse, fails(404))
	route(s, http.MethodPost, "/api/sessions/{session_id}/speech", "speak-turn", signedIn, s.speech, speechResponse, fails(403, 404, 409, 429, 501, 503))
	route(s, http.MethodGet, "/api/courses/{course_id}/sessions.csv", "course-sessions-csv", signedIn, s.courseSessionsCSV, csvResponse, fails(403, 404))

	// Voice layer
	route(s, http.MethodGet, "/api/voice/voices", "list-voices", signedIn, s.listVoices, fails(503))
	// Voice: the platform's calls (not signed in: the session token, the
	// platform's secret and the webhook signature are checked by the
	// handlers).
	route(s, http.MethodPost, "/api/voice/llm/chat/completions", "voice-llm-chat", anyone, s.voiceChat, bodyLimit(voiceLLMBodyLimit), s.chatResponses(), fails(401, 403, 409, 429, 503))
	route(s, http.MethodPost, "/api/voice/llm/v1/chat/completions", "voice-llm-chat-v1", anyone, s.voiceChat, bodyLimit(voiceLLMBodyLimit), s.chatResponses(), fails(401, 403, 409, 429, 503))
	route(s, http.MethodPost, "/api/voice/webhook", "voice-webhook", anyone, s.voiceWebhook, rawJSONBody("A post-call webhook event", webhookBodySchema), bodyLimit(-1), fails(400, 401, 413, 415))
}

// alsoOK documents a 200 answer, with the same body, beside the operation's
// default success status.
func alsoOK(desc string) option {
	return option{after: func(o *huma.Operation) {
		for code, r := range o.Responses {
			if code != "200" && code[0] == '2' {
				o.Responses["200"] = &huma.Response{Description: desc, Content: r.Content}
				return
			}
		}
	}}
}

// rootResponse documents / : JSON, or a page for browsers.
func (s *Server) rootResponse() option {
	return media("The service's name and version", map[string]*huma.Schema{
		"application/json": s.schemaOf(rootBody{}, "Root"), "text/html": {Type: huma.TypeString}})
}

var (
	specResponse    = media("This description", map[string]*huma.Schema{"application/json": {Type: huma.TypeObject, Description: "An OpenAPI 3.1 document"}})
	htmlResponse    = media("The reference page", map[string]*huma.Schema{"text/html": {Type: huma.TypeString}})
	metricsResponse = media("The metrics, in the format the scraper asks for", map[string]*huma.Schema{
		"text/plain": {Type: huma.TypeString, Description: "Prometheus text format 0.0.4"}, "application/openmetrics-text": {Type: huma.TypeString}})
)

// turnEvents documents a streamed turn's events and the schema of each.
func (s *Server) turnEvents() option {
	return s.eventStream("Server-sent events: `delta` (in order), then `sources`, then `done`; or one `error`. The turn is stored, complete, before `done`.",
		map[string]any{"delta": deltaEvent{}, "sources": sourcesEvent{}, "done": doneEvent{}, "error": errorEvent{}})
}

// pdfResponse documents a PDF download.
var pdfResponse = media("The PDF as uploaded", map[string]*huma.Schema{"application/pdf": fileSchema("")})

// hidden serves a route without describing it: the docs page's files.
var hidden = option{before: func(o *huma.Operation) { o.Hidden = true }}

// access says who may call a route.
type access int

const (
	anyone    access = iota
	signedIn         // any active user with a valid token
	adminOnly        // an admin
)

// option adjusts an operation before huma registers it, or (after) the
// description huma generated for it.
type option struct{ before, after func(*huma.Operation) }

func status(code int) option {
	return option{before: func(o *huma.Operation) { o.DefaultStatus = code }}
}

func bodyLimit(n int64) option {
	return option{before: func(o *huma.Operation) { o.MaxBodyBytes = n }}
}

func fails(codes ...int) option {
	return option{before: func(o *huma.Operation) { o.Errors = append(o.Errors, codes...) }}
}

// loginForm documents the form-encoded body that formLogin accepts beside
// the JSON one huma generated.
var loginForm = option{after: func(o *huma.Operation) {
	if o.RequestBody == nil || o.RequestBody.Content["application/json"] == nil {
		panic("loginForm: login has no JSON body to mirror")
	}
	o.RequestBody.Content["application/x-www-form-urlencoded"] = &huma.MediaType{
		Schema: o.RequestBody.Content["application/json"].Schema,
	}
}}

// route registers one operation, wiring its access rule and sending every
// error it returns through problem.
func route[I, O any](s *Server, method, path, id string, who access, h func(context.Context, *I) (*O, error), opts ...option) {
	d, ok := opDocs[id]
	if !ok {
		panic("route: operation " + id + " has no entry in opDocs")
	}
	op := huma.Operation{
		OperationID:  id,
		Method:       method,
		Path:         path,
		Summary:      d.summary,
		Description:  d.desc,
		Tags:         []string{d.tag},
		MaxBodyBytes: jsonBodyLimit,
		Errors:       []int{http.StatusUnprocessableEntity},
		// Public: an empty list overrides the document's default bearer
		// requirement.
		Security: []map[string][]string{},
	}
	switch who {
	case signedIn:
		op.Security = []map[string][]string{{"bearer": {}}}
		op.Middlewares = huma.Middlewares{s.authenticate}
		op.Errors = append(op.Errors, http.StatusUnauthorized)
	case adminOnly:
		op.Security = []map[string][]string{{"bearer": {}}}
		op.Middlewares = huma.Middlewares{s.authenticate, s.requireRole(auth.RoleAdmin)}
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusForbidden)
	}
	for _, o := range opts {
		if o.before != nil {
			o.before(&op)
		}
	}
	if op.Method != http.MethodGet {
		op.Errors = append(op.Errors, http.StatusRequestEntityTooLarge)
	}
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		return out, nil
	})
	if op.Hidden {
		return // not in the description: nothing to complete
	}
	registered := operationOf(s.api.OpenAPI().Paths[path], method)
	if b := registered.RequestBody; b != nil && b.Content["application/json"] != nil {
		// huma answers a body that is not JSON at all with 400, and one in
		// a media type it does not read with 415, before validation.
		registered.Responses["400"] = problemResponse("The body is not valid JSON, or a required body is missing")
		registered.Responses["415"] = problemResponse("The body is in a media type the server does not read: send application/json")
	}
	for _, o := range opts {
		if o.after != nil {
			o.after(registered)
		}
	}
}

func operationOf(p *huma.PathItem, method string) *huma.Operation {
	switch method {
	case http.MethodGet:
		return p.Get
	case http.MethodPost:
		return p.Post
	case http.MethodPut:
		return p.Put
	case http.MethodPatch:
		return p.Patch
	case http.MethodDelete:
		return p.Delete
	}
	panic("operationOf: unsupported method " + method)
}
