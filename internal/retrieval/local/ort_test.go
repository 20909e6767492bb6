//go:build cgo

package local

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// testRuntime is ONNX Runtime's library for the tests: ONNXRUNTIME_LIB_PATH
// if set, else scripts/onnxruntime-for-tests fetches version 1.24.1 once
// into the user's cache; without either the test skips in one line (fails
// under SOCRATIC_REQUIRE_TOOLS=1).
func testRuntime(t testing.TB) string {
	t.Helper()
	return testenv.ONNXRuntime(t)
}

func TestONNXRuntimeMatchesReference(t *testing.T) {
	m := openTiny(t, Options{Backend: BackendONNXRuntime, RuntimeLibrary: testRuntime(t)})
	if m.Backend() != BackendONNXRuntime || !strings.HasPrefix(m.Detail(), "ONNX Runtime 1.") {
		t.Fatalf("backend %s (%s)", m.Backend(), m.Detail())
	}
	checkReference(t, m)
}

func TestDefaultPrefersONNXRuntime(t *testing.T) {
	m := openTiny(t, Options{RuntimeLibrary: testRuntime(t)})
	if m.Backend() != BackendONNXRuntime {
		t.Errorf("with the library present the default backend is %s (%s)", m.Backend(), m.Detail())
	}
	// Without it, the default falls back to pure Go and says why.
	m = openTiny(t, Options{RuntimeLibrary: filepath.Join(t.TempDir(), "absent")})
	if m.Backend() != BackendGo || !strings.Contains(m.Detail(), "absent") {
		t.Errorf("without the library: backend %s (%s)", m.Backend(), m.Detail())
	}
}

func BenchmarkEmbedONNXRuntime(b *testing.B) {
	benchmarkEmbed(b, Options{Backend: BackendONNXRuntime, RuntimeLibrary: testRuntime(b)})
}

func BenchmarkQueryONNXRuntime(b *testing.B) {
	benchmarkQuery(b, Options{Backend: BackendONNXRuntime, RuntimeLibrary: testRuntime(b)})
}
