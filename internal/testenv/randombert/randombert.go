// Package randombert writes a BERT encoder with random weights as an ONNX
// model: the graph a PyTorch export of a Hugging Face BertModel gives
// (opset 14, standard operators only, layer norm and GELU spelled out as
// the exporter spells them), with the interface of the usual
// all-MiniLM-L6-v2 export — int64 inputs input_ids, attention_mask and
// token_type_ids of shape [batch, sequence]; float output
// last_hidden_state [batch, sequence, hidden].
//
// Its output means nothing; it costs what the real model costs, which is
// what the embedding benchmarks measure. Nothing is downloaded: the weights
// come from a seeded generator, so a file made twice is the same file.
package randombert

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// Config is the architecture.
type Config struct {
	Layers, Hidden, Heads, Intermediate int
	Vocab, MaxPositions, TypeVocab      int
	Seed                                uint64
}

// MiniLML6 is all-MiniLM-L6-v2's architecture: 22.7 M parameters, a
// 90 MB file.
var MiniLML6 = Config{Layers: 6, Hidden: 384, Heads: 12, Intermediate: 1536, Vocab: 30522, MaxPositions: 512, TypeVocab: 2, Seed: 1}

// Parameters is the number of weights the model holds.
func (c Config) Parameters() int {
	h, i := c.Hidden, c.Intermediate
	emb := (c.Vocab+c.MaxPositions+c.TypeVocab)*h + 2*h
	layer := 4*(h*h+h) + (h*i + i) + (i*h + h) + 4*h
	return emb + c.Layers*layer
}

func (c Config) check() error {
	if c.Layers < 1 || c.Hidden < 1 || c.Heads < 1 || c.Intermediate < 1 || c.Vocab < 1 || c.MaxPositions < 1 || c.TypeVocab < 1 {
		return fmt.Errorf("randombert: every size must be at least 1: %+v", c)
	}
	if c.Hidden%c.Heads != 0 {
		return fmt.Errorf("randombert: hidden %d is not a multiple of heads %d", c.Hidden, c.Heads)
	}
	return nil
}

// WriteFile writes the model to path whole or not at all (a partial file
// is removed, and the model appears under its name only when complete).
func WriteFile(path string, c Config) error {
	b, err := Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Write writes the model to w.
func Write(w io.Writer, c Config) error {
	b, err := Marshal(c)
	if err == nil {
		_, err = w.Write(b)
	}
	return err
}

// ONNX's enums, as onnx.proto numbers them.
const (
	typeFloat = 1
	typeInt64 = 7

	attrFloat  = 1
	attrInt    = 2
	attrTensor = 4
	attrInts   = 7
)

// Marshal is the model's ONNX protobuf.
func Marshal(c Config) ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	g := &graph{rng: rand.New(rand.NewPCG(c.Seed, 0x5eed_b0a7))}
	g.build(c)

	var gb []byte
	for _, n := range g.nodes {
		gb = protowire.AppendTag(gb, 1, protowire.BytesType)
		gb = protowire.AppendBytes(gb, n)
	}
	gb = appendString(gb, 2, "main_graph")
	for _, t := range g.inits {
		gb = protowire.AppendTag(gb, 5, protowire.BytesType)
		gb = protowire.AppendBytes(gb, t)
	}
	for _, in := range []string{"input_ids", "attention_mask", "token_type_ids"} {
		gb = appendMessage(gb, 11, valueInfo(in, typeInt64, "batch", "sequence"))
	}
	gb = appendMessage(gb, 12, valueInfo("last_hidden_state", typeFloat, "batch", "sequence", c.Hidden))

	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, 7) // IR version 7, as the export
	m = appendString(m, 2, "socratic make-random-minilm")
	m = appendString(m, 3, "1")
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	m = protowire.AppendBytes(m, gb)
	var opset []byte
	opset = appendString(opset, 1, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType)
	opset = protowire.AppendVarint(opset, 14)
	m = appendMessage(m, 8, opset)
	return m, nil
}

// graph collects encoded nodes and initializers.
type graph struct {
	nodes, inits [][]byte
	rng          *rand.Rand
	n            int
}

func (g *graph) name(op string) string {
	g.n++
	return "/" + op + "_" + strconv.Itoa(g.n)
}

// node adds an operator with one output and returns the output's name
// (out, if given).
func (g *graph) node(op string, inputs []string, attrs [][]byte, out ...string) string {
	name := g.name(op)
	o := name + "_output_0"
	if len(out) > 0 {
		o = out[0]
	}
	var b []byte
	for _, in := range inputs {
		b = appendString(b, 1, in)
	}
	b = appendString(b, 2, o)
	b = appendString(b, 3, name)
	b = appendString(b, 4, op)
	for _, a := range attrs {
		b = appendMessage(b, 5, a)
	}
	g.nodes = append(g.nodes, b)
	return o
}

// constI adds a Constant node holding an int64 tensor, or a scalar when
// scalar is set; constF one holding a float scalar.
func (g *graph) constI(scalar bool, vals ...int64) string {
	var dims []int64
	if !scalar {
		dims = []int64{int64(len(vals))}
	}
	raw := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	return g.node("Constant", nil, [][]byte{attrT("value", tensor("", typeInt64, dims, raw))})
}

func (g *graph) constF(v float32) string {
	raw := binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))
	return g.node("Constant", nil, [][]byte{attrT("value", tensor("", typeFloat, nil, raw))})
}

// param adds a float initializer: normal(0, std) when std > 0, else every
// value fill.
func (g *graph) param(name string, std, fill float32, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	raw := make([]byte, 4*n)
	for i := int64(0); i < n; i++ {
		v := fill
		if std > 0 {
			v = float32(g.rng.NormFloat64()) * std
		}
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	g.inits = append(g.inits, tensor(name, typeFloat, dims, raw))
	return name
}

// layerNorm is LayerNorm over the last axis (epsilon 1e-12), spelled out
// as the exporter spells it at opset 14.
func (g *graph) layerNorm(x, prefix string, hidden int64, out ...string) string {
	w := g.param(prefix+".weight", 0, 1, hidden)
	b := g.param(prefix+".bias", 0, 0, hidden)
	mean := g.node("ReduceMean", []string{x}, [][]byte{attrIs("axes", -1)})
	d := g.node("Sub", []string{x, mean}, nil)
	sq := g.node("Pow", []string{d, g.constF(2)}, nil)
	v := g.node("ReduceMean", []string{sq}, [][]byte{attrIs("axes", -1)})
	v = g.node("Add", []string{v, g.constF(1e-12)}, nil)
	s := g.node("Sqrt", []string{v}, nil)
	n := g.node("Div", []string{d, s}, nil)
	n = g.node("Mul", []string{n, w}, nil)
	return g.node("Add", []string{n, b}, nil, out...)
}

// dense is x·W + b, W stored [in, out] as the export stores it.
func (g *graph) dense(x, prefix string, in, out int64) string {
	w := g.param(prefix+".weight", 0.02, 0, in, out)
	b := g.param(prefix+".bias", 0, 0, out)
	return g.node("Add", []string{b, g.node("MatMul", []string{x, w}, nil)}, nil)
}

// batchSeq is [batch, sequence, tail...] of x, computed at run time.
func (g *graph) batchSeq(x string, tail ...int64) string {
	shape := g.node("Shape", []string{x}, nil)
	parts := []string{}
	for _, axis := range []int64{0, 1} {
		d := g.node("Gather", []string{shape, g.constI(true, axis)}, [][]byte{attrI("axis", 0)})
		parts = append(parts, g.node("Unsqueeze", []string{d, g.constI(false, 0)}, nil))
	}
	for _, t := range tail {
		parts = append(parts, g.constI(false, t))
	}
	return g.node("Concat", parts, [][]byte{attrI("axis", 0)})
}

func (g *graph) build(c Config) {
	h, heads := int64(c.Hidden), int64(c.Heads)
	head := h / heads

	// Embeddings: word + position (0..seq-1) + token type, then LayerNorm.
	word := g.param("embeddings.word_embeddings.weight", 0.02, 0, int64(c.Vocab), h)
	pos := g.param("embeddings.position_embeddings.weight", 0.02, 0, int64(c.MaxPositions), h)
	typ := g.param("embeddings.token_type_embeddings.weight", 0.02, 0, int64(c.TypeVocab), h)
	seq := g.node("Gather", []string{g.node("Shape", []string{"input_ids"}, nil), g.constI(true, 1)}, [][]byte{attrI("axis", 0)})
	seq = g.node("Cast", []string{seq}, [][]byte{attrI("to", typeInt64)})
	ids := g.node("Range", []string{g.constI(true, 0), seq, g.constI(true, 1)}, nil)
	ids = g.node("Unsqueeze", []string{ids, g.constI(false, 0)}, nil)
	x := g.node("Add", []string{g.node("Gather", []string{word, "input_ids"}, nil), g.node("Gather", []string{pos, ids}, nil)}, nil)
	x = g.node("Add", []string{x, g.node("Gather", []string{typ, "token_type_ids"}, nil)}, nil)
	x = g.layerNorm(x, "embeddings.LayerNorm", h)

	// The attention mask as an additive bias: 0 where attended, -10000
	// where padded, [batch, 1, 1, sequence].
	m := g.node("Unsqueeze", []string{"attention_mask", g.constI(false, 1)}, nil)
	m = g.node("Unsqueeze", []string{m, g.constI(false, 2)}, nil)
	m = g.node("Cast", []string{m}, [][]byte{attrI("to", typeFloat)})
	m = g.node("Sub", []string{g.constF(1), m}, nil)
	mask := g.node("Mul", []string{m, g.constF(-10000)}, nil)

	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		split := func(t string, perm ...int64) string {
			r := g.node("Reshape", []string{t, g.batchSeq(t, heads, head)}, [][]byte{attrI("allowzero", 0)})
			return g.node("Transpose", []string{r}, [][]byte{attrIs("perm", perm...)})
		}
		q := split(g.dense(x, p+"attention.self.query", h, h), 0, 2, 1, 3)
		k := split(g.dense(x, p+"attention.self.key", h, h), 0, 2, 3, 1)
		v := split(g.dense(x, p+"attention.self.value", h, h), 0, 2, 1, 3)
		s := g.node("MatMul", []string{q, k}, nil)
		s = g.node("Div", []string{s, g.constF(float32(math.Sqrt(float64(head))))}, nil)
		s = g.node("Add", []string{s, mask}, nil)
		s = g.node("Softmax", []string{s}, [][]byte{attrI("axis", -1)})
		a := g.node("MatMul", []string{s, v}, nil)
		a = g.node("Transpose", []string{a}, [][]byte{attrIs("perm", 0, 2, 1, 3)})
		a = g.node("Reshape", []string{a, g.batchSeq(a, h)}, [][]byte{attrI("allowzero", 0)})
		a = g.dense(a, p+"attention.output.dense", h, h)
		x1 := g.layerNorm(g.node("Add", []string{a, x}, nil), p+"attention.output.LayerNorm", h)

		// GELU, exactly: x · ½(1 + erf(x/√2)).
		i := g.dense(x1, p+"intermediate.dense", h, int64(c.Intermediate))
		e := g.node("Erf", []string{g.node("Div", []string{i, g.constF(math.Sqrt2)}, nil)}, nil)
		e = g.node("Add", []string{e, g.constF(1)}, nil)
		i = g.node("Mul", []string{g.node("Mul", []string{i, e}, nil), g.constF(0.5)}, nil)

		o := g.dense(i, p+"output.dense", int64(c.Intermediate), h)
		var out []string
		if l == c.Layers-1 {
			out = []string{"last_hidden_state"}
		}
		x = g.layerNorm(g.node("Add", []string{o, x1}, nil), p+"output.LayerNorm", h, out...)
	}
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, field protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// tensor is a TensorProto with its values as raw little-endian bytes.
func tensor(name string, dtype int, dims []int64, raw []byte) []byte {
	var b []byte
	if len(dims) > 0 {
		var packed []byte
		for _, d := range dims {
			packed = protowire.AppendVarint(packed, uint64(d))
		}
		b = appendMessage(b, 1, packed)
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(dtype))
	if name != "" {
		b = appendString(b, 8, name)
	}
	return appendMessage(b, 9, raw)
}

func attrI(name string, v int64) []byte {
	b := appendString(nil, 1, name)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(v))
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, attrInt)
}

func attrIs(name string, vs ...int64) []byte {
	b := appendString(nil, 1, name)
	var packed []byte
	for _, v := range vs {
		packed = protowire.AppendVarint(packed, uint64(v))
	}
	b = appendMessage(b, 8, packed)
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, attrInts)
}

func attrT(name string, t []byte) []byte {
	b := appendString(nil, 1, name)
	b = appendMessage(b, 5, t)
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, attrTensor)
}

// valueInfo is a graph input or output: a tensor of elem whose dimensions
// are names (string) or sizes (int).
func valueInfo(name string, elem int, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch d := d.(type) {
		case string:
			dim = appendString(dim, 2, d)
		case int:
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = appendMessage(shape, 1, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(elem))
	tt = appendMessage(tt, 2, shape)
	typ := appendMessage(nil, 1, tt)
	b := appendString(nil, 1, name)
	return appendMessage(b, 2, typ)
}
