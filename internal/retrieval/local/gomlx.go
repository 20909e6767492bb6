package local

import (
	"fmt"
	"sync"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // the pure-Go backend
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/onnx-gomlx/onnx"
)

// goRunner runs the model in pure Go: GoMLX's "go" backend executing the
// ONNX graph through onnx-gomlx, the runtime hugot's Go backend uses. We
// drive it with our own tokenizer's ids rather than through hugot's text
// pipeline so that both runtimes see exactly the ids sentence-transformers
// would (truncation at 256, no padding in the mean).
type goRunner struct {
	mu      sync.Mutex // one batch at a time: the backend uses every core
	backend backends.Backend
	ctx     *context.Context
	exec    *context.Exec
}

func openGo(onnxPath string) (r runner, err error) {
	defer func() { // GoMLX reports some failures by panicking
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("pure-Go runtime cannot load %s: %v", onnxPath, p)
		}
	}()
	model, err := onnx.ReadFile(onnxPath)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", onnxPath, err)
	}
	ctx := context.New()
	if err := model.VariablesToContext(ctx); err != nil {
		return nil, fmt.Errorf("load %s: %w", onnxPath, err)
	}
	ctx = ctx.Reuse()
	// Ops run one after another: the parallel scheduler of GoMLX v0.26
	// races on its own bookkeeping (go test -race shows it); matrix
	// products still use every core.
	backend, err := backends.NewWithConfig("go:ops_sequential")
	if err != nil {
		return nil, err
	}
	exec, err := context.NewExec(backend, ctx, func(ctx *context.Context, ids, mask, types *graph.Node) *graph.Node {
		return model.CallGraph(ctx, ids.Graph(), map[string]*graph.Node{
			"input_ids": ids, "attention_mask": mask, "token_type_ids": types,
		}, "last_hidden_state")[0]
	})
	if err != nil {
		backend.Finalize()
		return nil, err
	}
	return &goRunner{backend: backend, ctx: ctx, exec: exec}, nil
}

// GoMLX compiles the graph once per input shape, which costs far more
// than running it: batches are padded up to a few shapes (padding is
// masked out, so it changes no vector) and the padding cut off again.
var (
	batchBuckets = []int{1, 8, BatchSize}
	seqBuckets   = []int{16, 32, 64, 128, MaxTokens}
)

func bucket(n int, sizes []int) int {
	for _, s := range sizes {
		if n <= s {
			return s
		}
	}
	return n
}

func (r *goRunner) run(ids, mask, types []int64, batch, seq int) (out []float32, err error) {
	pb, ps := bucket(batch, batchBuckets), bucket(seq, seqBuckets)
	pad := func(x []int64) []int64 {
		p := make([]int64, pb*ps)
		for i := range batch {
			copy(p[i*ps:i*ps+seq], x[i*seq:(i+1)*seq])
		}
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("pure-Go runtime: %v", p)
		}
	}()
	res, err := r.exec.Exec(
		tensors.FromFlatDataAndDimensions(pad(ids), pb, ps),
		tensors.FromFlatDataAndDimensions(pad(mask), pb, ps),
		tensors.FromFlatDataAndDimensions(pad(types), pb, ps))
	if err != nil {
		return nil, fmt.Errorf("pure-Go runtime: %w", err)
	}
	defer res[0].FinalizeAll()
	full, err := tensors.CopyFlatData[float32](res[0])
	if err != nil {
		return nil, fmt.Errorf("pure-Go runtime: %w", err)
	}
	if len(full)%(pb*ps) != 0 {
		return nil, fmt.Errorf("pure-Go runtime: output of %d values for %d×%d inputs", len(full), pb, ps)
	}
	hidden := len(full) / (pb * ps)
	out = make([]float32, 0, batch*seq*hidden)
	for i := range batch {
		out = append(out, full[i*ps*hidden:(i*ps+seq)*hidden]...)
	}
	return out, nil
}

func (r *goRunner) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exec.Finalize()
	r.ctx.Finalize()
	r.backend.Finalize()
	return nil
}
