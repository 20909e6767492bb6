package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkAuthenticatedGet is GET /api/auth/me through the full stack:
// request id, access log (JSON, formatted then discarded), metrics, security
// headers, CORS, token verification, the user re-read from the database
// (the run's engine: SOCRATIC_TEST_ENGINE=postgres measures PostgreSQL),
// and the JSON answer.
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

// BenchmarkUpload10MB is POST /api/documents/upload of a 10 MB PDF through
// the router: streamed to disk with its sha256, opened by PDFium to count
// its pages, renamed into the store, the row and its job committed. The
// processing happens after the answer (nothing works the queue here).
func BenchmarkUpload10MB(b *testing.B) {
	w := buildWorld(b, newFixture(b))
	line := "BT /F1 12 Tf 72 720 Td (The duty of care runs to the foreseeable plaintiff.) Tj ET\n"
	content := strings.Repeat(line, (10<<20)/len(line))
	pdf := makePDF(1, "", []byte(content))
	if len(pdf) < 10<<20 {
		b.Fatalf("PDF is %d bytes", len(pdf))
	}
	if _, err := sharedPDF().PageCount(context.Background(), pdf[:1024]); err == nil {
		b.Fatal("warm-up: a 1 KB prefix should not open")
	}
	b.SetBytes(int64(len(pdf)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Distinct bytes every time (a comment after the end), so each
		// upload is stored, not found as a duplicate.
		body, ct := multipartBody("file", "big.pdf", append(pdf[:len(pdf):len(pdf)], fmt.Sprintf("%% %d\n", i)...))
		res := w.f.do(request{method: "POST", path: "/api/documents/upload?week_id=" + itoa(w.week.ID), token: w.persona["teaching"], body: body, contentType: ct})
		if res.status != 202 {
			b.Fatalf("upload: %d %s", res.status, res.body)
		}
	}
}

// BenchmarkUpload119PageOpinion uploads the longest corpus opinion (531 KB,
// 119 pages): small enough to be read whole before the answer.
func BenchmarkUpload119PageOpinion(b *testing.B) {
	w := buildWorld(b, newFixture(b))
	pdf, err := os.ReadFile(filepath.Join(corpusDir, "scotus-trump-v-united-states-2024-slip-opinion.pdf"))
	if err != nil {
		b.Fatal(err)
	}
	if err := sharedPDF().WaitReady(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pdf)))
	for i := 0; b.Loop(); i++ {
		body, ct := multipartBody("file", "opinion.pdf", append(pdf[:len(pdf):len(pdf)], fmt.Sprintf("%% %d\n", i)...))
		res := w.f.do(request{method: "POST", path: "/api/documents/upload?week_id=" + itoa(w.week.ID), token: w.persona["teaching"], body: body, contentType: ct})
		if res.status != 202 {
			b.Fatalf("upload: %d %s", res.status, res.body)
		}
	}
}
