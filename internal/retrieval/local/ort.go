//go:build cgo

package local

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime has one environment per process, made on first use and
// kept for the life of the process.
var (
	ortOnce    sync.Once
	ortErr     error
	ortVersion string
)

func initORT(lib string) error {
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			ortErr = fmt.Errorf("ONNX Runtime at %s: %w", lib, err)
			return
		}
		ortVersion = ort.GetVersion()
	})
	return ortErr
}

// ortRunner runs the model on ONNX Runtime. Its session may run several
// batches at once.
type ortRunner struct {
	s *ort.DynamicAdvancedSession
}

func openORT(onnxPath string, o Options) (runner, string, error) {
	lib, err := FindRuntime(o.RuntimeLibrary, o.SearchDirs)
	if err != nil {
		return nil, "", err
	}
	if err := initORT(lib); err != nil {
		return nil, "", err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, "", err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(runtime.NumCPU()); err != nil {
		return nil, "", err
	}
	s, err := ort.NewDynamicAdvancedSession(onnxPath,
		[]string{"input_ids", "attention_mask", "token_type_ids"}, []string{"last_hidden_state"}, opts)
	if err != nil {
		return nil, "", fmt.Errorf("ONNX Runtime cannot load %s: %w", onnxPath, err)
	}
	return &ortRunner{s: s}, ortVersion, nil
}

func (r *ortRunner) run(ids, mask, types []int64, batch, seq int) ([]float32, error) {
	shape := ort.NewShape(int64(batch), int64(seq))
	var inputs []ort.Value
	defer func() {
		for _, v := range inputs {
			v.Destroy()
		}
	}()
	for _, data := range [][]int64{ids, mask, types} {
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, t)
	}
	outputs := []ort.Value{nil}
	if err := r.s.Run(inputs, outputs); err != nil {
		return nil, fmt.Errorf("ONNX Runtime: %w", err)
	}
	defer outputs[0].Destroy()
	t, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, errors.New("ONNX Runtime: last_hidden_state is not float32")
	}
	return append([]float32(nil), t.GetData()...), nil
}

func (r *ortRunner) close() error { return r.s.Destroy() }
