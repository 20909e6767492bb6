package tutor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/testenv"
)

var (
	themesPDFOnce sync.Once
	themesPDF     *pdftext.Extractor
)

// ingestPassages reads a PDF the way a reading is ingested: PDFium text
// extraction, the document service's cleaning (Assemble) and its splitter
// at the default CHUNK_SIZE and CHUNK_OVERLAP; the passages, in order.
func ingestPassages(t testing.TB, path string) []string {
	t.Helper()
	themesPDFOnce.Do(func() {
		themesPDF = pdftext.New(pdftext.Options{CacheDir: testenv.WazeroCache(), Workers: 1, MemoryLimitMB: 256})
	})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	raw, err := themesPDF.Extract(ctx, data, 500, nil)
	if err != nil {
		t.Fatalf("extract %s: %v", filepath.Base(path), err)
	}
	text, starts := document.Assemble(raw)
	var out []string
	for _, c := range (document.Splitter{Size: 1000, Overlap: 200}).Split(text, starts) {
		out = append(out, c.Content)
	}
	return out
}

// corpusPDFs are the corpus's PDFs in name order, split in two: the
// offline themes were tuned looking only at the dev half (even positions);
// the test half (odd positions) was only run, and is reported.
func corpusPDFs(t testing.TB) (dev, test []string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(testenv.Corpus(), "*.pdf"))
	if err != nil || len(names) < 10 {
		t.Fatalf("corpus: %d PDFs, %v", len(names), err)
	}
	sort.Strings(names)
	for i, n := range names {
		if i%2 == 0 {
			dev = append(dev, n)
		} else {
			test = append(test, n)
		}
	}
	return dev, test
}

// TestOfflineThemesOverTheCorpus: every corpus PDF, ingested for real and
// themed as a one-week course, gets at least five themes, each of the
// shape of one (not cut short, not a bare place name), passing
// moderation's theme check, and written as the reading writes it. The
// themes of both halves are logged (go test -v) for the report.
func TestOfflineThemesOverTheCorpus(t *testing.T) {
	dev, test := corpusPDFs(t)
	for _, set := range []struct {
		name  string
		paths []string
	}{{"dev", dev}, {"test", test}} {
		for _, path := range set.paths {
			week := ingestPassages(t, path)
			themes := OfflineThemes(week, nil)
			t.Logf("%s %s: %s", set.name, filepath.Base(path), strings.Join(themes, " | "))
			if len(themes) < ThemeCount {
				t.Errorf("%s: %d themes, want %d", filepath.Base(path), len(themes), ThemeCount)
			}
			assertThemesShaped(t, filepath.Base(path), themes, week)
		}
	}
}

// assertThemesShaped: each theme passes the shape check against its week,
// moderation's theme check, and occurs in the week's text as written
// (case names may span a line break).
func assertThemesShaped(t *testing.T, name string, themes, week []string) {
	t.Helper()
	text := strings.Join(strings.Fields(strings.Join(week, " ")), " ")
	for _, th := range themes {
		if err := CheckThemeShape(th, week); err != nil {
			t.Errorf("%s: theme %q %v", name, th, err)
		}
		if len(UsableThemes([]string{th})) != 1 {
			t.Errorf("%s: theme %q fails the theme check", name, th)
		}
		if !strings.Contains(text, th) && !strings.Contains(strings.ToLower(text), th) {
			t.Errorf("%s: theme %q is not written so in the reading", name, th)
		}
	}
}

// TestOfflineThemesOfAContractsReading: the two-page contracts reading of
// issue 18 (testdata/themes, original prose), ingested through PDFium and
// the splitter, gets at least three of the doctrines it teaches, where
// the word-pair themes found only "injured party".
func TestOfflineThemesOfAContractsReading(t *testing.T) {
	week := ingestPassages(t, testenv.Path("themes", "contracts-reading.pdf"))
	themes := OfflineThemes(week, nil)
	t.Logf("contracts reading: %s", strings.Join(themes, " | "))
	if len(themes) < ThemeCount {
		t.Fatalf("%d themes: %q", len(themes), themes)
	}
	assertThemesShaped(t, "contracts reading", themes, week)
	want := map[string]bool{"mirror image rule": true, "mailbox rule": true, "consideration": true, "promissory estoppel": true,
		"expectation damages": true, "reliance damages": true, "specific performance": true, "consequential damages": true}
	found := 0
	for _, th := range themes {
		if want[strings.ToLower(th)] {
			found++
		}
	}
	if found < 3 {
		t.Errorf("%d of the reading's doctrines among its themes %q, want at least 3", found, themes)
	}
}

// TestCheckThemeShape: what a theme may not be, with and without the
// week's text to judge a phrase cut short by.
func TestCheckThemeShape(t *testing.T) {
	week := []string{"Procedural due process asks what process is due. The procedural due process cases begin with Goldberg v. Kelly. " +
		"Substantive due process is another matter; procedural due process governs hearings, and due process of law is old. " +
		"Due process limits the States. Under the mirror image rule a reply must match; the mirror image rule is strict."}
	for _, c := range []struct {
		theme string
		ok    bool
	}{
		{"mailbox rule", true},
		{"The mailbox rule", true},
		{"Goldberg v. Kelly", true},
		{"procedural due process", true},
		{"due process", true},
		{"consideration", true},
		{"Risk of a lost letter", true},
		{"mirror image rule", true},
		{"image rule", false},        // in this week, always "mirror image rule"
		{"procedural due", false},    // cut short: "due" needs "process"
		{"procedural", false},        // in this week, always "procedural due"
		{"the rule of", false},       // ends on a function word
		{"Goldberg v.", false},       // half a case name
		{"United States", false},     // a bare place name
		{"the United States", false}, // a bare place name
		{"Virginia", false},
		{"State of Texas", false},
		{"new york", false},
		{"whether the mirror image rule should survive in an age of printed forms", false}, // a sentence
		{"", false},
	} {
		err := CheckThemeShape(c.theme, week)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok %v", c.theme, err, c.ok)
		}
	}
	if err := CheckThemeShape("procedural", nil); err != nil {
		t.Errorf("without the week's text a single word is a theme: %v", err)
	}
}

// TestThemerChecksAModelsThemesShape: a model's themes that are cut
// short, a bare place or a sentence are dropped (and logged with the
// reason), the rest kept in order, and each dropped one is replaced by
// one of the week's offline themes that overlaps none kept.
func TestThemerChecksAModelsThemesShape(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	ctx := context.Background()
	var doc int64
	if err := db.Read.QueryRow(`SELECT id FROM documents WHERE week_id = ?`, weekA).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	for i, p := range ingestPassages(t, testenv.Path("themes", "contracts-reading.pdf")) {
		if _, err := db.Write.ExecContext(ctx, `INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, ?, 1, 0, 1, ?, 200)`, doc, weekA, i+1, p); err != nil {
			t.Fatal(err)
		}
	}
	reply := `["procedural due", "United States", "Promissory estoppel", "Whether a court should order a painter to finish her portrait", "Virginia"]`
	fake := llmtest.NewAnthropic(t, llmtest.Text(reply))
	var logs bytes.Buffer
	th := NewThemer(db, claudeFor(t, fake), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err := th.Generate(ctx, weekA, false); err != nil {
		t.Fatal(err)
	}
	var stored string
	db.Read.QueryRow(`SELECT themes FROM weeks WHERE id = ?`, weekA).Scan(&stored)
	var themes []string
	if err := json.Unmarshal([]byte(stored), &themes); err != nil {
		t.Fatal(err)
	}
	t.Logf("themes: %q", themes)
	if len(themes) != ThemeCount || themes[0] != "Promissory estoppel" {
		t.Fatalf("themes %q: want the model's one good theme first, then offline ones up to %d", themes, ThemeCount)
	}
	offline := OfflineThemes(ingestPassages(t, testenv.Path("themes", "contracts-reading.pdf")), nil)
	for _, th := range themes[1:] {
		if strings.EqualFold(th, "promissory estoppel") || !slices.Contains(offline, th) {
			t.Errorf("filler %q: want an offline theme other than the model's", th)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"theme dropped"`); n != 4 {
		t.Errorf("%d dropped themes logged, want 4:\n%s", n, logs.String())
	}
	for _, why := range []string{"is cut short", "is a place name", "is too long"} {
		if !strings.Contains(logs.String(), why) {
			t.Errorf("no drop logged as %q:\n%s", why, logs.String())
		}
	}
}

// TestOfflineThemesLeaveWhatOtherWeeksShare: a doctrine the course's
// other weeks discuss throughout is less this week's own theme.
func TestOfflineThemesLeaveWhatOtherWeeksShare(t *testing.T) {
	week := ingestPassages(t, testenv.Path("themes", "contracts-reading.pdf"))
	alone := OfflineThemes(week, nil)
	if !slices.Contains(alone, "mirror image rule") || !slices.Contains(alone, "mailbox rule") {
		t.Fatalf("alone: %q", alone)
	}
	rest := make([]string, 20)
	for i := range rest {
		rest[i] = fmt.Sprintf("Week %d again turns on the mirror image rule and the mailbox rule, as the casebook says.", i)
	}
	shared := OfflineThemes(week, rest)
	t.Logf("alone %q, beside the other weeks %q", alone, shared)
	if len(shared) != ThemeCount || slices.Contains(shared, "mirror image rule") || slices.Contains(shared, "mailbox rule") {
		t.Errorf("beside weeks that all discuss them, the mirror image and mailbox rules are still themes: %q", shared)
	}
}

// BenchmarkOfflineThemes: the offline themes of the corpus's longest
// opinion (119 pages), as the themes job makes them.
func BenchmarkOfflineThemes(b *testing.B) {
	week := ingestPassages(b, testenv.CorpusPDF("scotus-trump-v-united-states-2024-slip-opinion.pdf"))
	b.ResetTimer()
	for b.Loop() {
		OfflineThemes(week, nil)
	}
}
