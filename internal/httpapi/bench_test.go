package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkAuthenticatedGet is GET /api/auth/me through the full stack:
// request id, access log (JSON, formatted then discarded), metrics, security
// headers, CORS, token verification, the user re-read from SQLite, and the
// JSON answer.
func BenchmarkAuthenticatedGet(b *testing.B) {
	f := newFixture(b)
	f.srv = New(Deps{Config: f.cfg, DB: f.db, Auth: f.auth, Courses: f.courses, Documents: f.docs, PDF: sharedPDF(), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	h := f.srv.Handler()
	token := f.tokenOf["student"]
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "/api/auth/me", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
