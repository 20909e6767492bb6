package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// FindRuntime returns the path of ONNX Runtime's shared library: lib
// itself (a file, or a folder holding it), else the first found in dirs,
// then in the usual library folders.
func FindRuntime(lib string, dirs []string) (string, error) {
	names := []string{"libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.dylib"}
	if lib != "" {
		if fi, err := os.Stat(lib); err != nil {
			return "", fmt.Errorf("ONNXRUNTIME_LIB_PATH %s: %w", lib, err)
		} else if !fi.IsDir() {
			return lib, nil
		}
		dirs = []string{lib}
	} else {
		dirs = append(slices.Clone(dirs), "/usr/local/lib", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/opt/onnxruntime/lib")
	}
	for _, d := range dirs {
		for _, n := range names {
			if p := filepath.Join(d, n); fileExists(p) {
				return p, nil
			}
		}
	}
	return "", errors.New("ONNX Runtime's shared library was not found (set ONNXRUNTIME_LIB_PATH, or run socratic models download)")
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
