package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// reqInfo travels with a request so the outer middleware can log what inner
// layers learned (the matched route, the signed-in user).
type reqInfo struct {
	id     string
	ip     string
	route  string
	userID int64
	// local: the TCP peer is loopback and the request names no client it
	// was relayed for. Only this opens /metrics without a token: a
	// forwarded address never does, nor does a same-host proxy's relay.
	local bool
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	if ri, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func requestID(ctx context.Context) string { return infoFrom(ctx).id }

// statusWriter records what was written for the access log and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets streamed answers (server-sent events) through the wrapper.
func (w *statusWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush with the connection's error, for
// http.ResponseController (which prefers it to Flush): a stream learns at
// its next flush that the client has gone, not only from a later write. A
// writer underneath that cannot flush is not an error, as before: the
// stream arrives in larger pieces rather than stopping at its first flush.
func (w *statusWriter) FlushError() error {
	if err := http.NewResponseController(w.ResponseWriter).Flush(); !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// validRequestID accepts a caller's id only if it is short and plain, so it
// can be echoed and logged without injection.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// observe is the outermost layer: it assigns the request id, works out the
// client address, and writes the access log line and metrics when the
// request is done.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: r.Header.Get("X-Request-ID"), ip: s.clientIP(r), local: peerAddr(r).IsLoopback() && !forwarded(r)}
		if !validRequestID(ri.id) {
			ri.id = newRequestID()
		}
		w.Header()["X-Request-Id"] = []string{ri.id}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))

		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := ri.route
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(r.Method, route, sw.status, elapsed)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		// The query string is not logged: later routes carry student text in it.
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", ri.id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Float64("ms", float64(elapsed.Microseconds())/1000),
			slog.String("ip", ri.ip),
			slog.Int64("user_id", ri.userID),
		)
	})
}

// recoverPanics turns a panic in a handler into a logged 500, so one bad
// request never takes the process down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", "panic", v, "request_id", requestID(r.Context()), "stack", string(debug.Stack()))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				return // headers already sent; the client sees a cut-off answer
			}
			writeProblem(w, http.StatusInternalServerError, "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// Header values are shared slices: assigning them directly skips an
// allocation per header per request.
var (
	hNosniff  = []string{"nosniff"}
	hNoRef    = []string{"no-referrer"}
	hDeny     = []string{"DENY"}
	hAPICSP   = []string{"default-src 'none'; frame-ancestors 'none'"}
	hHSTS     = []string{"max-age=63072000; includeSubDomains"}
	hVaryOrig = []string{"Origin"}
)

// securityHeaders sets headers every answer carries. API answers get a CSP
// that forbids everything; the docs page replaces it with its own.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = hNosniff
		h["Referrer-Policy"] = hNoRef
		h["X-Frame-Options"] = hDeny
		h["Content-Security-Policy"] = hAPICSP
		if r.TLS != nil || (s.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
			h["Strict-Transport-Security"] = hHSTS
		}
		next.ServeHTTP(w, r)
	})
}

// cors answers preflights and marks answers readable by the configured
// origins. Tokens travel in the Authorization header, never in cookies, so
// credentials mode is not needed.
func (s *Server) cors(next http.Handler) http.Handler {
	allowAll := false
	allowed := map[string]bool{}
	for _, o := range s.cfg.Origins {
		if o == "*" {
			allowAll = true
		}
		allowed[strings.TrimRight(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h["Vary"] = hVaryOrig
		ok := allowAll || allowed[origin]
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !ok {
			if preflight {
				writeProblem(w, http.StatusForbidden, "origin not allowed")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if allowAll {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, WWW-Authenticate, Content-Disposition")
		if preflight {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps every request body; routes set tighter limits of their own.
func limitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeProblem(w, http.StatusRequestEntityTooLarge, "request body is too large")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// formLogin lets the login route take the OAuth2 password flow's
// application/x-www-form-urlencoded body (what FastAPI's OAuth2 form took)
// by rewriting it into the JSON body the route validates. Only username and
// password are carried over; OAuth2 extras such as grant_type are dropped.
func formLogin(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != path {
			next.ServeHTTP(w, r)
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, authBodyLimit+1))
		if err != nil || len(raw) > authBodyLimit {
			writeProblem(w, http.StatusRequestEntityTooLarge, "request body is too large")
			return
		}
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "malformed form body")
			return
		}
		body := map[string]string{}
		for _, k := range []string{"username", "password"} {
			if vs, ok := vals[k]; ok && len(vs) > 0 {
				body[k] = vs[0]
			}
		}
		b, _ := json.Marshal(body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Set("Content-Type", "application/json")
		next.ServeHTTP(w, r)
	})
}

// problemsForUnrouted answers unknown paths (404) and wrong methods (405)
// with problem+json instead of the mux's plain text.
func problemsForUnrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := mux.Handler(r); pattern == "" {
			rec := &headerRecorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			status := rec.status
			if status == 0 || status == http.StatusOK {
				status = http.StatusNotFound
			}
			detail := "no such route"
			if status == http.StatusMethodNotAllowed {
				detail = "method not allowed on this route"
			}
			writeProblem(w, status, detail)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.status = code }

// clientIP is the peer address, or, when the peer is a trusted reverse proxy,
// the nearest untrusted entry of X-Forwarded-For (all its headers, read right
// to left). A client cannot spoof its address by sending the header itself
// unless it is one of our proxies. Entries may carry a port ("1.2.3.4:5678",
// "[2001:db8::1]:443"), as some proxies write them. An entry that is no
// address at all ends the walk as an untrusted client named by that entry:
// it never falls back to the proxy's own address, which would put every
// client behind the proxy in one throttle bucket (and a same-host proxy on
// loopback).
func (s *Server) clientIP(r *http.Request) string {
	peer := peerAddr(r)
	if !s.trusted(peer) {
		return addrString(peer, r.RemoteAddr)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	if len(hops) == 1 && strings.TrimSpace(hops[0]) == "" {
		return addrString(peer, r.RemoteAddr) // no header: the proxy itself asked
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			return opaqueClient(hops[i])
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return addrString(peer, r.RemoteAddr)
}

// parseHop reads one X-Forwarded-For entry: an address, bare or with a
// port, IPv6 with or without brackets, maybe quoted.
func parseHop(h string) (netip.Addr, bool) {
	h = strings.Trim(strings.TrimSpace(h), `"`)
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		if a, err := netip.ParseAddr(h[1 : len(h)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// opaqueClient names a client whose proxy wrote something that is not an
// address ("unknown", an obfuscated "_id", junk): by what was written,
// cut short and made printable, so it can be a throttle key and be logged,
// and can never read as an address.
func opaqueClient(h string) string {
	h = strings.TrimSpace(h)
	var sb strings.Builder
	sb.WriteString("unknown:")
	for i := 0; i < len(h) && i < 40; i++ {
		c := h[i]
		if c < 0x21 || c > 0x7e {
			c = '?'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// forwarded reports whether a request says it was relayed for someone else.
func forwarded(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if len(r.Header.Values(h)) > 0 {
			return true
		}
	}
	return false
}

func (s *Server) fromTrustedProxy(r *http.Request) bool { return s.trusted(peerAddr(r)) }

func (s *Server) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range s.cfg.Proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func addrString(a netip.Addr, fallback string) string {
	if a.IsValid() {
		return a.String()
	}
	return fallback
}
