package tutor

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/document"
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
