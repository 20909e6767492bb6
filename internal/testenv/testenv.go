// Package testenv tells tests where the files they need are, and what to do
// when a tool they need is missing. Only tests import it.
//
// Everything the tests read lives in the repository's testdata/ folder, so a
// clone with nothing beside it passes `go test ./...`. A test that needs a
// program the machine lacks (pdftotext, qpdf, ONNX Runtime, npm) skips with
// one line naming the command that installs it — unless
// SOCRATIC_REQUIRE_TOOLS=1 (set by .ci/run), where the same line fails the
// test, so CI can never pass by skipping.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv/randombert"
)

// Root is the repository's root folder: the nearest folder above the
// working directory (a test's package folder) whose go.mod is this
// module's, else the one this file was compiled in.
func Root() string {
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/lawtutor/socratic\n") {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testenv: no caller information")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Path joins elem onto the repository's testdata folder.
func Path(elem ...string) string {
	return filepath.Join(append([]string{Root(), "testdata"}, elem...)...)
}

// Shared is ../shared beside the repository (the contract, corpus and
// models this repository copies), and whether it is there.
func Shared() (string, bool) {
	dir := filepath.Join(Root(), "..", "shared")
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

// RequireTools reports whether a missing tool fails tests instead of
// skipping them (SOCRATIC_REQUIRE_TOOLS=1, as in .ci/run).
func RequireTools() bool { return os.Getenv("SOCRATIC_REQUIRE_TOOLS") == "1" }

// Missing skips t (or, when tools are required, fails it) in one line:
// "needs <what>: <install>".
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if RequireTools() {
		t.Fatalf("needs %s: %s (SOCRATIC_REQUIRE_TOOLS=1, so this is a failure, not a skip)", what, install)
	}
	t.Skipf("needs %s: %s", what, install)
}

// Tool returns the path of the program name, or calls Missing with install.
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install)
	}
	return p
}

// Corpus is the folder of the corpus PDFs (a copy of ../shared/corpus/pdfs).
func Corpus() string { return Path("corpus", "pdfs") }

// CorpusPDF is the path of one corpus PDF.
func CorpusPDF(name string) string { return filepath.Join(Corpus(), name) }

// QA is the corpus's question-and-answer file (a copy of
// ../shared/corpus/qa.jsonl); its PDFs are in pdfs/ beside it.
func QA() string { return Path("corpus", "qa.jsonl") }

// Models is the folder of the test models: the tiny BERT, its reference
// vectors and the all-MiniLM-L6-v2 tokenizer (copies of ../shared/models).
func Models() string { return Path("models") }

// Cache is a folder under the user's cache folder
// (os.UserCacheDir()/socratic/elem...), created on demand: for what tests
// keep between runs, so that nothing is left in the temp folder. It is ""
// when the machine has no cache folder (no HOME); callers then go without.
func Cache(elem ...string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	dir := filepath.Join(append([]string{base, "socratic"}, elem...)...)
	if os.MkdirAll(dir, 0o750) != nil {
		return ""
	}
	return dir
}

// WazeroCache is PDFium's compile cache for the tests (compiling it takes
// seconds; the compiled code is kept across runs). The bench commands use
// the same folder.
func WazeroCache() string { return Cache("wazero-scratch") }

// onnxRuntimeInstall says how to get ONNX Runtime for the tests.
const onnxRuntimeInstall = "export ONNXRUNTIME_LIB_PATH=$(scripts/onnxruntime-for-tests) (the script fetches it with npm: apt-get install npm)"

var (
	ortOnce sync.Once
	ortPath string
)

// ONNXRuntime is the path of ONNX Runtime's library for the tests:
// ONNXRUNTIME_LIB_PATH if set, else what scripts/onnxruntime-for-tests
// prints (it fetches version 1.24.1 once with npm into the user's cache).
// Without either it calls Missing.
func ONNXRuntime(t testing.TB) string {
	t.Helper()
	ortOnce.Do(func() {
		if p := os.Getenv("ONNXRUNTIME_LIB_PATH"); p != "" {
			ortPath = p
			return
		}
		out, err := exec.Command(filepath.Join(Root(), "scripts", "onnxruntime-for-tests")).Output()
		if err == nil {
			ortPath = strings.TrimSpace(string(out))
		}
	})
	if ortPath == "" {
		Missing(t, "ONNX Runtime", onnxRuntimeInstall)
	}
	return ortPath
}

// Pdftotext is poppler's pdftotext, which tests compare our PDF text with.
func Pdftotext(t testing.TB) string {
	t.Helper()
	return Tool(t, "pdftotext", "apt-get install poppler-utils")
}

// QPDF is qpdf, which tests use to encrypt and repack PDFs.
func QPDF(t testing.TB) string {
	t.Helper()
	return Tool(t, "qpdf", "apt-get install qpdf")
}

// SharedFile is the path of a file of ../shared (elem below it), for a test
// that compares the repository with its source. When ../shared is not
// beside the repository it skips t in one line — a missing source is not a
// missing tool — unless SOCRATIC_REQUIRE_SHARED=1 (set by .ci/run, which
// runs beside ../shared), where the same line fails t.
func SharedFile(t testing.TB, elem ...string) string {
	t.Helper()
	dir, ok := Shared()
	rel := filepath.Join(append([]string{"..", "shared"}, elem...)...)
	if !ok {
		if os.Getenv("SOCRATIC_REQUIRE_SHARED") == "1" {
			t.Fatalf("compares with %s, and ../shared is not beside the repository (SOCRATIC_REQUIRE_SHARED=1, so this is a failure, not a skip)", rel)
		}
		t.Skipf("compares with %s, and ../shared is not beside the repository", rel)
	}
	return filepath.Join(append([]string{dir}, elem...)...)
}

// RandomMiniLM is the full all-MiniLM-L6-v2 architecture with random
// weights (90 MB, for speed and memory measurements), made once into the
// user's cache folder by the same code as
// `go run ./scripts/make-random-minilm -o FILE`.
func RandomMiniLM(t testing.TB) string {
	t.Helper()
	dir := Cache("models")
	if dir == "" {
		Missing(t, "a cache folder for the 90 MB random model", "set HOME or XDG_CACHE_HOME, or make it with go run ./scripts/make-random-minilm -o FILE")
	}
	path := filepath.Join(dir, fmt.Sprintf("minilm-l6-random-seed%d.onnx", randombert.MiniLML6.Seed))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := randombert.WriteFile(path, randombert.MiniLML6); err != nil {
		t.Fatalf("making the random model: %v", err)
	}
	return path
}
