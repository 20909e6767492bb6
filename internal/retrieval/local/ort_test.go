//go:build cgo

package local

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	runtimeOnce sync.Once
	runtimePath string
	runtimeErr  error
)

// testRuntime is ONNX Runtime's library for the tests: ONNXRUNTIME_LIB_PATH
// if set, else scripts/onnxruntime-for-tests fetches version 1.24.1 once
// into the user's cache.
func testRuntime(t testing.TB) string {
	t.Helper()
	runtimeOnce.Do(func() {
		if p := os.Getenv("ONNXRUNTIME_LIB_PATH"); p != "" {
			runtimePath = p
			return
		}
		out, err := exec.Command(filepath.Join("..", "..", "..", "scripts", "onnxruntime-for-tests")).Output()
		runtimePath, runtimeErr = strings.TrimSpace(string(out)), err
	})
	if runtimeErr != nil {
		t.Fatalf("no ONNX Runtime library for the tests (set ONNXRUNTIME_LIB_PATH, or let scripts/onnxruntime-for-tests fetch it with npm): %v", runtimeErr)
	}
	return runtimePath
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
