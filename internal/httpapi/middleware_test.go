package httpapi

import (
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
