package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPanicBecomesProblem500AndServerLives(t *testing.T) {
	var logs strings.Builder
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics()}
	h := s.observe(s.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom: secret internal detail")
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if strings.Contains(w.Body.String(), "secret internal detail") {
		t.Errorf("panic text reached the client: %s", w.Body)
	}
	if !strings.Contains(logs.String(), "secret internal detail") || !strings.Contains(logs.String(), "status=500") {
		t.Errorf("panic not logged with its request:\n%s", logs.String())
	}
	// The next request is served as usual.
	w = httptest.NewRecorder()
	s.observe(s.recoverPanics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))).ServeHTTP(w, httptest.NewRequest("GET", "/y", nil))
	if w.Code != 200 {
		t.Errorf("after panic: %d", w.Code)
	}
}

func TestValidationErrorsNeverEchoSubmittedValues(t *testing.T) {
	f := newFixture(t)
	secret := strings.Repeat("SECRETVALUE", 20)
	for _, body := range []string{
		`{"email":"e@law.example.edu","username":"eve","password":"` + secret + `"}`,
		`{"email":"e@law.example.edu","username":"eve","password":"` + secret + `","extra":"` + secret + `"}`,
		`{"email":"` + secret + `","username":"eve","password":"a fine long password"}`,
	} {
		res := f.do(post("/api/auth/register", "", body))
		if res.status != 422 {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
		if strings.Contains(string(res.body), "SECRETVALUE") {
			t.Errorf("error echoes the submitted value: %s", res.body)
		}
	}
}

func TestAccessLogHasNoQueryStringOrToken(t *testing.T) {
	f := newFixture(t)
	var logs strings.Builder
	f.srv = New(Deps{Config: f.cfg, DB: f.db, Auth: f.auth, Courses: f.courses, Documents: f.docs, PDF: sharedPDF(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	f.do(get("/api/admin/users?q=private-search-text", f.tokenOf["admin"]))
	f.do(post("/api/auth/login", "", `{"username":"student","password":"`+testPassword+`"}`))
	out := logs.String()
	for _, leak := range []string{"private-search-text", f.tokenOf["admin"], testPassword} {
		if strings.Contains(out, leak) {
			t.Errorf("access log holds %q", leak)
		}
	}
	if !strings.Contains(out, `"route":"/api/admin/users"`) || !strings.Contains(out, `"user_id":`+itoa(f.users["admin"].ID)) {
		t.Errorf("access log lacks route or user:\n%s", out)
	}
}

// loggedClient sends r through the real router and returns the client
// address the access log recorded for it.
func loggedClient(t *testing.T, f *fixture, r *http.Request) string {
	t.Helper()
	var logs strings.Builder
	srv := New(Deps{Config: f.cfg, DB: f.db, Auth: f.auth, Courses: f.courses, Documents: f.docs, PDF: sharedPDF(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	srv.Handler().ServeHTTP(httptest.NewRecorder(), r)
	for line := range strings.Lines(logs.String()) {
		var entry struct {
			Msg, IP string
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request" {
			return entry.IP
		}
	}
	t.Fatalf("no access log line:\n%s", logs.String())
	return ""
}

// TestForwardedForForms: behind a trusted proxy, the client is the nearest
// untrusted X-Forwarded-For entry in whatever form the proxy wrote it; an
// entry that is no address is an untrusted client by that name, never the
// proxy's own address.
func TestForwardedForForms(t *testing.T) {
	f := newFixture(t, func(c *cfgT) { c.Proxies = mustPrefixes("10.0.0.0/8", "127.0.0.1/32", "::1/128") })
	const proxy = "10.0.0.2:40000"
	cases := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"bare-v4", proxy, []string{"203.0.113.7"}, "203.0.113.7"},
		{"v4-with-port", proxy, []string{"203.0.113.7:5678"}, "203.0.113.7"},
		{"v6-bracketed-with-port", proxy, []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"bare-v6", proxy, []string{"2001:db8::1"}, "2001:db8::1"},
		{"v6-bracketed", proxy, []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"v4-mapped-v6", proxy, []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"quoted", proxy, []string{`"203.0.113.7"`}, "203.0.113.7"},
		{"spaces-and-a-trusted-hop", proxy, []string{" 198.51.100.4 ,  203.0.113.7 , 10.0.0.5:8080 "}, "203.0.113.7"},
		{"trusted-hop-with-port", proxy, []string{"203.0.113.7:1, 10.0.0.5:8080"}, "203.0.113.7"},
		{"several-headers", proxy, []string{"198.51.100.4", "203.0.113.7:9, 10.0.0.5"}, "203.0.113.7"},
		{"spoofed-left-of-real", proxy, []string{"127.0.0.1, 203.0.113.7:5678"}, "203.0.113.7"},
		{"untrusted-peer-ignored", "192.0.2.9:1", []string{"203.0.113.7"}, "192.0.2.9"},
		{"no-header", proxy, nil, "10.0.0.2"},
		{"junk", proxy, []string{"not-an-address"}, "unknown:not-an-address"},
		{"junk-right-of-loopback", proxy, []string{"127.0.0.1, garbage:port"}, "unknown:garbage:port"},
		{"empty-entry", proxy, []string{"203.0.113.7, "}, "unknown:"},
		{"same-host-proxy-with-port", "127.0.0.1:40000", []string{"203.0.113.7:5678"}, "203.0.113.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/health/live", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := loggedClient(t, f, r); got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMetricsLoopbackRuleUsesThePeerOnly: /metrics opens without a token only
// to a loopback TCP peer that relays for nobody; a forwarded 127.0.0.1, or a
// same-host proxy relaying an outside client, is refused.
func TestMetricsLoopbackRuleUsesThePeerOnly(t *testing.T) {
	for _, proxies := range []string{"10.0.0.0/8", "10.0.0.0/8,127.0.0.1/32"} {
		f := newFixture(t, func(c *cfgT) { c.Proxies = mustPrefixes(strings.Split(proxies, ",")...) })
		for _, tc := range []struct {
			remote, xff string
			want        int
		}{
			{"10.0.0.2:1", "127.0.0.1", 403},
			{"10.0.0.2:1", "127.0.0.1:9090", 403},
			{"10.0.0.2:1", "[::1]:9090", 403},
			{"10.0.0.2:1", "::1", 403},
			{"192.0.2.9:1", "127.0.0.1", 403},
			{"127.0.0.1:1", "203.0.113.7:5678", 403},
			{"127.0.0.1:1", "junk", 403},
			{"127.0.0.1:1", "", 200},
		} {
			h := map[string]string{}
			if tc.xff != "" {
				h["X-Forwarded-For"] = tc.xff
			}
			res := f.do(request{method: "GET", path: "/metrics", remote: tc.remote, header: h})
			if res.status != tc.want {
				t.Errorf("proxies %s, peer %s, X-Forwarded-For %q: %d, want %d", proxies, tc.remote, tc.xff, res.status, tc.want)
			}
		}
	}
}

// TestSignInThrottleSeesTheForwardedClient: behind a proxy that writes
// client ports, one client's failures throttle that client, not a bystander
// who comes through the same proxy.
func TestSignInThrottleSeesTheForwardedClient(t *testing.T) {
	f := newFixture(t, func(c *cfgT) {
		c.Proxies = mustPrefixes("10.0.0.0/8")
		c.LoginMaxFailures = 3
	})
	login := func(xff, user, password string) int {
		return f.do(request{method: "POST", path: "/api/auth/login", remote: "10.0.0.2:40000",
			header: map[string]string{"X-Forwarded-For": xff},
			body:   `{"username":` + jsonString(user) + `,"password":` + jsonString(password) + `}`}).status
	}
	for i := range 6 {
		login("203.0.113.7:"+itoa(int64(5000+i)), "student", "wrong password here")
	}
	if st := login("203.0.113.7:6000", "student", testPassword); st != 429 {
		t.Errorf("the guessing client itself: %d, want 429", st)
	}
	if st := login("198.51.100.4:6000", "professor", testPassword); st != 200 {
		t.Errorf("a bystander behind the same proxy: %d, want 200", st)
	}
}

// flushFails is a connection's writer whose flush fails: the client has
// gone.
type flushFails struct {
	http.ResponseWriter
	flushed int
}

var errClientGone = errors.New("write: broken pipe")

func (f *flushFails) FlushError() error { f.flushed++; return errClientGone }

// TestStatusWriterPassesFlushErrorsOn: through the access log's wrapper, a
// stream's http.ResponseController.Flush reports the connection's error
// (the client has gone) rather than nil; Flush alone still flushes.
func TestStatusWriterPassesFlushErrorsOn(t *testing.T) {
	conn := &flushFails{ResponseWriter: httptest.NewRecorder()}
	sw := &statusWriter{ResponseWriter: conn}
	if err := http.NewResponseController(sw).Flush(); !errors.Is(err, errClientGone) {
		t.Errorf("ResponseController.Flush through statusWriter: %v, want the connection's error", err)
	}
	sw.Flush()
	if conn.flushed != 2 {
		t.Errorf("the connection was flushed %d times, want 2", conn.flushed)
	}
	rec := httptest.NewRecorder()
	if err := http.NewResponseController(&statusWriter{ResponseWriter: rec}).Flush(); err != nil || !rec.Flushed {
		t.Errorf("a writer that flushes: err %v, flushed %v", err, rec.Flushed)
	}
	// A writer underneath that cannot flush (a wrapper without Flush or
	// Unwrap) is not a gone client: the stream goes on, unflushed.
	if err := http.NewResponseController(&statusWriter{ResponseWriter: noFlush{rec}}).Flush(); err != nil {
		t.Errorf("a writer that cannot flush: %v, want nil", err)
	}
}

// noFlush hides its writer's Flush.
type noFlush struct{ w http.ResponseWriter }

func (n noFlush) Header() http.Header         { return n.w.Header() }
func (n noFlush) Write(b []byte) (int, error) { return n.w.Write(b) }
func (n noFlush) WriteHeader(code int)        { n.w.WriteHeader(code) }
