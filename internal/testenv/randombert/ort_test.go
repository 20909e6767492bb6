//go:build cgo

package randombert_test

import (
	"math"
	"testing"

	"github.com/lawtutor/socratic/internal/retrieval/local"
	"github.com/lawtutor/socratic/internal/testenv"
)

// TestRuntimesAgree: ONNX Runtime and the pure-Go runtime, two independent
// readings of the graph, give the same vectors.
func TestRuntimesAgree(t *testing.T) {
	lib := testenv.ONNXRuntime(t)
	model := writeTiny(t)
	ort := embed(t, model, local.Options{Backend: local.BackendONNXRuntime, RuntimeLibrary: lib})
	gomlx := embed(t, model, local.Options{Backend: local.BackendGo})
	var worst float64
	for i := range ort {
		for j := range ort[i] {
			worst = math.Max(worst, math.Abs(float64(ort[i][j]-gomlx[i][j])))
		}
	}
	if worst > 1e-4 {
		t.Errorf("the runtimes differ by up to %g", worst)
	}
}
