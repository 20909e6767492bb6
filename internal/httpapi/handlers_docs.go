package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/web/app"
	"github.com/lawtutor/socratic/internal/web/docs"
)

type rootBody struct {
	Message string `json:"message" doc:"\"<APP_NAME> API\""`
	Version string `json:"version" doc:"APP_VERSION"`
}

type rootInput struct {
	Accept string `header:"Accept" doc:"text/html (preferred over application/json) for the HTML page; anything else gets JSON"`
}

// varyAccept: huma sets a header field with Header().Set, which would
// replace the "Vary: Origin" the CORS middleware added; a shared cache
// could then serve one origin's Access-Control-Allow-Origin to another.
const varyAccept = "Accept, Origin"

type rootOutput struct {
	ContentType       string `header:"Content-Type"`
	Vary              string `header:"Vary"`
	CacheControl      string `header:"Cache-Control"`
	CSP               string `header:"Content-Security-Policy"`
	PermissionsPolicy string `header:"Permissions-Policy"`
	Body              []byte
}

// root answers browsers the web client and every other client the JSON it
// always had: a client that sends no Accept, */*, or prefers JSON is a
// program, and a program must keep getting JSON.
func (s *Server) root(ctx context.Context, in *rootInput) (*rootOutput, error) {
	b := rootBody{Message: s.cfg.AppName + " API", Version: s.cfg.AppVersion}
	if prefersHTML(in.Accept) {
		return &rootOutput{ContentType: "text/html; charset=utf-8", Vary: varyAccept, CacheControl: "no-cache",
			CSP: s.appCSP, PermissionsPolicy: appPermissions, Body: s.appPage}, nil
	}
	j, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return &rootOutput{ContentType: "application/json", Vary: varyAccept, CSP: strings.Join(hAPICSP, ""), Body: j}, nil
}

// appAssetBase is where the web client's files are served (routes.go).
const appAssetBase = "/app"

// appPermissions lets the client (and nothing it might frame) use the
// microphone, for push-to-talk and the session's recording, and nothing
// else a page could ask for.
const appPermissions = "microphone=(self), camera=(), geolocation=(), payment=(), usb=()"

// appSettings is what the page tells the client about this server.
func (s *Server) appSettings() app.Settings {
	return app.Settings{
		AppName: s.cfg.AppName, AppVersion: s.cfg.AppVersion,
		AllowRegistration:            s.cfg.AllowRegistration,
		RegistrationRequiresJoinCode: s.cfg.RegistrationRequiresJoinCode,
		VoiceProvider:                s.cfg.VoiceProviderName(),
		SessionMaxDurationSeconds:    s.cfg.SessionMaxDurationSeconds,
	}
}

// appVoiceOrigins are the hosts the client's voice talks to, if any.
func (s *Server) appVoiceOrigins() []string {
	if s.cfg.VoiceProviderName() == "elevenlabs" {
		return app.VoiceOrigins(s.cfg.ElevenLabsBaseURL)
	}
	return nil
}

// appAsset serves the client's files under a name that changes with their
// contents (a year-long, immutable cache), brotli or gzip to clients that
// accept them.
func (s *Server) appAsset(ctx context.Context, in *docsAssetInput) (*docsAssetOutput, error) {
	a, ok := app.Lookup(in.Version, in.File)
	if !ok {
		return nil, errs.New(errs.NotFound, "no such file")
	}
	out := &docsAssetOutput{ContentType: a.ContentType, CacheControl: "public, max-age=31536000, immutable", Vary: "Accept-Encoding, Origin"}
	switch {
	case acceptsEncoding(in.AcceptEncoding, "br"):
		out.ContentEncoding, out.Body = "br", a.Brotli()
	case acceptsEncoding(in.AcceptEncoding, "gzip"):
		out.ContentEncoding, out.Body = "gzip", a.Gzip()
	default:
		out.Body = a.Plain
	}
	return out, nil
}

// prefersHTML reports whether an Accept header asks for HTML over JSON:
// text/html (or XHTML) named with a higher weight than JSON gets, where
// JSON's weight is its own entry's, else application/*'s, else */*'s. A
// tie goes to JSON.
func prefersHTML(accept string) bool {
	htmlQ, jsonQ := 0.0, 0.0
	jsonSpecific := 0 // 3: application/json, 2: application/*, 1: */*
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		switch mt {
		case "text/html", "application/xhtml+xml":
			htmlQ = max(htmlQ, q)
		case "application/json":
			jsonQ, jsonSpecific = q, 3
		case "application/*":
			if jsonSpecific < 2 {
				jsonQ, jsonSpecific = q, 2
			}
		case "*/*":
			if jsonSpecific < 1 {
				jsonQ, jsonSpecific = q, 1
			}
		}
	}
	return htmlQ > 0 && htmlQ > jsonQ
}

// The docs page's policy: every file from this server, nothing inline
// but styles. script-src 'self' (the page's two scripts are files; there
// is no inline script). style-src needs 'unsafe-inline' besides 'self':
// Swagger UI writes style attributes into the markup it renders, which
// CSP counts as inline style. Styles cannot run script, and with img-src,
// font-src and connect-src held to this server (img-src also data:, for
// the icons inside Swagger UI's stylesheet), an injected style cannot send
// anything elsewhere. connect-src 'self' lets the page read /openapi.json
// and "Try it out" call the API.
const docsCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"sandbox allow-same-origin allow-scripts; " +
	"connect-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"script-src 'self'; style-src 'self' 'unsafe-inline'"

// docsAssetBase is where the page's files are served (routes.go).
const docsAssetBase = "/docs/assets"

func (s *Server) docs(ctx context.Context, _ *struct{}) (*rawOutput, error) {
	page := docs.Page(docsAssetBase, "/openapi.json", s.cfg.AppName)
	return &rawOutput{ContentType: "text/html; charset=utf-8", CacheControl: "no-cache", CSP: docsCSP, Body: page}, nil
}

type docsAssetInput struct {
	Version        string `path:"version"`
	File           string `path:"file"`
	AcceptEncoding string `header:"Accept-Encoding"`
}

type docsAssetOutput struct {
	ContentType     string `header:"Content-Type"`
	ContentEncoding string `header:"Content-Encoding"`
	CacheControl    string `header:"Cache-Control"`
	Vary            string `header:"Vary"`
	Body            []byte
}

// docsAsset serves the page's files under a name that changes with their
// contents, so a browser keeps them for a year and never asks again; gzip
// (as they are stored) to every client that accepts it.
func (s *Server) docsAsset(ctx context.Context, in *docsAssetInput) (*docsAssetOutput, error) {
	a, ok := docs.Lookup(in.Version, in.File)
	if !ok {
		return nil, errs.New(errs.NotFound, "no such file")
	}
	out := &docsAssetOutput{ContentType: a.ContentType, CacheControl: "public, max-age=31536000, immutable", Vary: "Accept-Encoding, Origin"}
	if acceptsGzip(in.AcceptEncoding) {
		out.ContentEncoding, out.Body = "gzip", a.Gzip
		return out, nil
	}
	b, err := a.Plain()
	if err != nil {
		return nil, fmt.Errorf("docs asset %s: %w", a.Name, err)
	}
	out.Body = b
	return out, nil
}

// acceptsGzip reads Accept-Encoding: gzip named with a weight above zero
// (or no weight).
func acceptsGzip(h string) bool { return acceptsEncoding(h, "gzip") }

// acceptsEncoding reads Accept-Encoding: enc named with a weight above
// zero (or no weight).
func acceptsEncoding(h, enc string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		if q, ok := strings.CutPrefix(params, "q="); ok {
			f, err := strconv.ParseFloat(q, 64)
			return err == nil && f > 0
		}
		return true
	}
	return false
}
