package pdftext

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/lawtutor/socratic/internal/testenv"
)

var corpus = testenv.Corpus()

var (
	sharedOnce sync.Once
	shared     *Extractor
)

// extractor is one PDFium for the whole test binary, with its compiled code
// cached across runs in the user's cache folder (the first compile takes
// seconds).
func extractor(t testing.TB) *Extractor {
	t.Helper()
	sharedOnce.Do(func() {
		shared = New(Options{CacheDir: testenv.WazeroCache(), Workers: 2, MemoryLimitMB: 256})
	})
	return shared
}

func corpusFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpus, "*.pdf"))
	if err != nil || len(files) < 10 {
		t.Fatalf("the corpus must be at %s: %v (%d files)", corpus, err, len(files))
	}
	return files
}

// words is the case-folded bag of words of s: runs of letters and digits,
// after the cleanup Normalize does (applied to both sides alike).
func words(s string) map[string]int {
	s = strings.ToLower(ligatures.Replace(s))
	bag := map[string]int{}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		bag[w]++
	}
	return bag
}

func pdftotext(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(testenv.Pdftotext(t), "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v (install poppler-utils)", path, err)
	}
	return string(out)
}

// TestExtractionRecallAgainstPdftotext: for every corpus PDF, the words of
// our cleaned text recover at least 97% of the words pdftotext finds (bag of
// words, case-folded, counted with multiplicity).
func TestExtractionRecallAgainstPdftotext(t *testing.T) {
	testenv.Pdftotext(t)
	e := extractor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var report []string
	for _, path := range corpusFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pages, err := e.Extract(ctx, data, 500, nil)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
			continue
		}
		var ours strings.Builder
		for _, p := range pages {
			ours.WriteString(Normalize(p))
			ours.WriteString("\n\n")
		}
		got, want := words(ours.String()), words(pdftotext(t, path))
		total, found := 0, 0
		for w, n := range want {
			total += n
			found += min(n, got[w])
		}
		recall := float64(found) / float64(max(total, 1))
		report = append(report, fmt.Sprintf("%-90s pages %4d  words %6d  recall %.4f", filepath.Base(path), len(pages), total, recall))
		if recall < 0.97 {
			var missing []string
			for w, n := range want {
				if got[w] < n {
					missing = append(missing, fmt.Sprintf("%s×%d", w, n-got[w]))
				}
			}
			sort.Strings(missing)
			t.Errorf("%s: recall %.4f < 0.97; missing e.g. %v", filepath.Base(path), recall, missing[:min(30, len(missing))])
		}
	}
	t.Log("extraction recall against pdftotext:\n" + strings.Join(report, "\n"))
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"The \ufb01rst  claim\r\nis negli-\ngence.": "The first claim\nis negligence.",
		"pros\ufffeecution":                         "prosecution",
		"well-\nKnown":                              "well-\nKnown",
		"a\t b\n\n\n\nc \u00a0d":                    "a b\n\nc d",
		"  \n \n":                                   "",
		"non-\nparty claims":                        "nonparty\nclaims",
	}
	for in, want := range cases {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadFilesAreNamed(t *testing.T) {
	e := extractor(t)
	ctx := context.Background()
	good, err := os.ReadFile(filepath.Join(corpus, "us-constitution-1787.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.PageCount(ctx, good)
	if err != nil || n < 1 {
		t.Fatalf("PageCount = %d, %v", n, err)
	}
	for name, data := range map[string][]byte{
		"text":      []byte("%PDF-1.7\nthis is not really a pdf at all\n"),
		"truncated": good[:len(good)/3],
		"empty":     {},
	} {
		if _, err := e.PageCount(ctx, data); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: %v, want ErrDamaged", name, err)
		}
	}
	if _, err := e.Extract(ctx, good, 1, nil); !errors.Is(err, ErrTooMany) {
		t.Errorf("page limit: %v", err)
	}
	// A deadline that has passed: the file is not even looked at.
	dead, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-dead.Done()
	if _, err := e.Extract(dead, good, 0, nil); !errors.Is(err, ErrBusy) {
		t.Errorf("expired deadline: %v", err)
	}
	// A deadline during the work (119 pages take a few hundred ms) stops it
	// between PDFium calls, and the sandbox is replaced.
	long, err := os.ReadFile(filepath.Join(corpus, "scotus-trump-v-united-states-2024-slip-opinion.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	pages := 0
	if _, err := e.Extract(short, long, 0, func(done, _ int) { pages = done }); !errors.Is(err, ErrTimeout) {
		t.Errorf("deadline mid-document: %v after %d pages", err, pages)
	}
	if _, err := e.Extract(ctx, good, 0, nil); err != nil {
		t.Errorf("after a timeout: %v", err)
	}
}
