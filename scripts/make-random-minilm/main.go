// Command make-random-minilm writes the full all-MiniLM-L6-v2 architecture
// (6 layers, hidden 384, 12 heads, intermediate 1536, vocabulary 30,522,
// 512 positions; 22.7 M parameters, about 90 MB) with random weights as an
// ONNX model, for speed and memory measurements only:
//
//	go run ./scripts/make-random-minilm -o DIR/minilm-l6-random.onnx
//
// The embedding benchmarks (internal/retrieval/local, BenchmarkEmbed* and
// BenchmarkQuery*) make it themselves, once, in the user's cache folder.
// The same seed gives the same file.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/lawtutor/socratic/internal/testenv/randombert"
)

func main() {
	out := flag.String("o", "minilm-l6-random.onnx", "file to write")
	seed := flag.Uint64("seed", randombert.MiniLML6.Seed, "seed of the random weights")
	flag.Parse()
	c := randombert.MiniLML6
	c.Seed = *seed
	if err := randombert.WriteFile(*out, c); err != nil {
		fmt.Fprintln(os.Stderr, "make-random-minilm:", err)
		os.Exit(1)
	}
	st, _ := os.Stat(*out)
	fmt.Printf("%s: all-MiniLM-L6-v2 architecture, random weights, %d parameters, %.1f MB\n", *out, c.Parameters(), float64(st.Size())/1e6)
}
