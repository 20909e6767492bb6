package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// TestSearchNeverCrossesWeeks: two courses, three weeks, the same passage in
// every week with a different marker. Each week's search returns only that
// week's passages, and never a deleted document's — with BM25 alone, and
// hybrid, where the passages' vectors are near-identical across weeks.
func TestSearchNeverCrossesWeeks(t *testing.T) {
	t.Run("bm25", func(t *testing.T) { checkSearchNeverCrossesWeeks(t, newIngestingFixture(t)) })
	t.Run("hybrid", func(t *testing.T) { checkSearchNeverCrossesWeeks(t, newEmbeddingFixture(t)) })
}

func checkSearchNeverCrossesWeeks(t *testing.T, f *fixture) {
	w := newWorldWith(t, f)
	ctx := context.Background()
	prof := w.f.users["professor"]
	other, err := w.f.courses.Create(ctx, prof, course.NewCourse{Code: "LAW 102", Name: "Torts II"})
	if err != nil {
		t.Fatal(err)
	}
	week2, err := w.f.courses.CreateWeek(ctx, prof, w.course.ID, course.NewWeek{Number: 2})
	if err != nil {
		t.Fatal(err)
	}
	otherWeek, err := w.f.courses.CreateWeek(ctx, prof, other.ID, course.NewWeek{Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	weeks := []int64{w.week.ID, week2.ID, otherWeek.ID}
	docWeek := map[int64]int64{}
	for i, wk := range weeks {
		for j := range 3 {
			text := fmt.Sprintf("The battery claim requires intent to cause harmful contact marker%d copy%d", i, j)
			res := w.upload("teaching", wk, "battery.pdf", textPDF(text))
			if res.status != 202 {
				t.Fatalf("upload: %d %s", res.status, res.body)
			}
			docWeek[int64(res.json(t)["document_id"].(float64))] = wk
		}
	}
	w.f.waitDocuments(t, time.Minute)
	if w.f.emb != nil {
		w.f.waitEmbedded(t, time.Minute)
	}
	search := func(weekID int64) []Source {
		t.Helper()
		res := w.f.do(post("/api/weeks/"+itoa(weekID)+"/search", w.persona["teaching"], `{"query":"battery claim intent harmful contact","k":20}`))
		if res.status != 200 {
			t.Fatalf("search: %d %s", res.status, res.body)
		}
		return decode[struct {
			Items []Source `json:"items"`
		}](t, res).Items
	}
	for _, wk := range weeks {
		got := search(wk)
		if len(got) != 3 {
			t.Errorf("week %d: %d passages, want its own 3", wk, len(got))
		}
		for _, s := range got {
			if docWeek[s.DocumentID] != wk {
				t.Errorf("week %d's search returned document %d of week %d", wk, s.DocumentID, docWeek[s.DocumentID])
			}
		}
	}
	// Delete one document of the first week: it is never returned again.
	var gone int64
	for id, wk := range docWeek {
		if wk == w.week.ID {
			gone = id
			break
		}
	}
	if res := w.f.do(request{method: "DELETE", path: "/api/documents/" + itoa(gone), token: w.persona["teaching"]}); res.status != 204 {
		t.Fatalf("delete: %d", res.status)
	}
	got := search(w.week.ID)
	if len(got) != 2 {
		t.Errorf("after delete: %d passages, want 2", len(got))
	}
	for _, s := range got {
		if s.DocumentID == gone {
			t.Errorf("a deleted document's passage was returned")
		}
	}
	// Without k, five at most (API.md's default): all three of the week's.
	res0 := w.f.do(post("/api/weeks/"+itoa(week2.ID)+"/search", w.persona["enrolled"], `{"query":"battery"}`))
	if n := len(decode[struct {
		Items []Source `json:"items"`
	}](t, res0).Items); res0.status != 200 || n != 3 {
		t.Errorf("search without k: %d, %d passages", res0.status, n)
	}
	// Words the search language would read as syntax are only words.
	res := w.f.do(post("/api/weeks/"+itoa(w.week.ID)+"/search", w.persona["enrolled"], `{"query":"\"battery\" OR NEAR(intent, *) AND -contact:"}`))
	if res.status != 200 {
		t.Errorf("query with FTS syntax: %d %s", res.status, res.body)
	}
	if res := w.f.do(post("/api/weeks/"+itoa(w.week.ID)+"/search", w.persona["enrolled"], `{"query":"battery","k":21}`)); res.status != 422 {
		t.Errorf("k over 20: %d", res.status)
	}
}

// TestHealthReportsEmbeddings: with a model, health says which provider,
// model and runtime embed; the overall status stays ok.
func TestHealthReportsEmbeddings(t *testing.T) {
	f := newEmbeddingFixture(t)
	res := f.do(get("/api/health", ""))
	if res.status != 200 {
		t.Fatalf("health: %d", res.status)
	}
	m := res.json(t)
	e := m["components"].(map[string]any)["embeddings"].(map[string]any)
	if m["status"] != "ok" || e["status"] != "ok" || e["provider"] != "local" || e["model"] != "tiny-bert" || e["backend"] != "go" {
		t.Errorf("health = %s", res.body)
	}
}

// TestHealthDegradedWhenEmbeddingsFail: a configured model that does not
// load makes the server degraded, not down, and health names no path.
func TestHealthDegradedWhenEmbeddingsFail(t *testing.T) {
	f := newFixture(t)
	f.srv = New(Deps{Config: f.cfg, DB: f.db, Auth: f.auth, Courses: f.courses, Documents: f.docs,
		Logger:     slog.New(slog.DiscardHandler),
		Embeddings: retrieval.Status{Status: "error", Provider: "local", Model: "sentence-transformers/all-MiniLM-L6-v2"}})
	res := f.do(get("/api/health", ""))
	m := res.json(t)
	e := m["components"].(map[string]any)["embeddings"].(map[string]any)
	if res.status != 200 || m["status"] != "degraded" || e["status"] != "error" {
		t.Errorf("health = %d %s", res.status, res.body)
	}
	if strings.Contains(string(res.body), f.cfg.DataDir) || strings.Contains(string(res.body), "/models") {
		t.Errorf("health names a path: %s", res.body)
	}
}

// TestThemesAppearAndCanBeRegenerated: when a week's last reading is
// processed and the week has no themes, themes appear (here offline: key
// phrases of the reading); a professor's edit is kept until they ask for
// new ones.
func TestThemesAppearAndCanBeRegenerated(t *testing.T) {
	w := newWorldWith(t, newIngestingFixture(t))
	data, err := os.ReadFile(filepath.Join(corpusDir, "ca7-lopez-v-thurmer-2010.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if res := w.upload("teaching", w.week.ID, "lopez.pdf", data); res.status != 202 {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	w.f.waitDocuments(t, time.Minute)
	themes := func() []any {
		res := w.f.do(get("/api/weeks/"+itoa(w.week.ID), w.persona["teaching"]))
		return res.json(t)["themes"].([]any)
	}
	waitFor := func(what string, ok func([]any) bool) []any {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if th := themes(); ok(th) {
				return th
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: themes %v", what, th)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	auto := waitFor("automatic themes", func(th []any) bool { return len(th) == 5 })
	if res := w.f.do(request{method: "PATCH", path: "/api/weeks/" + itoa(w.week.ID), token: w.persona["teaching"], body: `{"themes":["habeas corpus"]}`}); res.status != 200 {
		t.Fatalf("edit: %d %s", res.status, res.body)
	}
	res := w.f.do(post("/api/weeks/"+itoa(w.week.ID)+"/themes/generate", w.persona["teaching"], ""))
	if res.status != 202 || res.json(t)["job_id"].(float64) <= 0 {
		t.Fatalf("generate: %d %s", res.status, res.body)
	}
	again := waitFor("regenerated themes", func(th []any) bool { return len(th) == 5 })
	if fmt.Sprint(again) != fmt.Sprint(auto) {
		t.Errorf("offline themes are deterministic: %v then %v", auto, again)
	}
}
