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
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the repository's root folder.
func Root() string {
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
