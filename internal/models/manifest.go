package models

import (
	"fmt"
	"strings"
)

// The embedding model: sentence-transformers/all-MiniLM-L6-v2 at a fixed
// revision of its Hugging Face repository, the files pinned by sha256.
// The sums are those of the hub's files at that revision (model.onnx's is
// its Git LFS object id) as several independent public projects pin them;
// the machine this was written on cannot reach the hub to fetch them
// itself. A file that does not match is refused, so a wrong pin fails
// loudly, never silently.
const (
	ModelRepo     = "sentence-transformers/all-MiniLM-L6-v2"
	ModelRevision = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
)

// DefaultHub is the Hugging Face hub; HF_ENDPOINT names a mirror.
const DefaultHub = "https://huggingface.co"

// ModelFiles are the model's files as served by hub.
func ModelFiles(hub string) []File {
	base := strings.TrimSuffix(hub, "/") + "/" + ModelRepo + "/resolve/" + ModelRevision + "/"
	return []File{
		{URL: base + "onnx/model.onnx", Dest: "model.onnx", Size: 90405214,
			SHA256: "6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452"},
		{URL: base + "tokenizer.json", Dest: "tokenizer.json", Size: 466247,
			SHA256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"},
	}
}

// RuntimeVersion is the ONNX Runtime release fetched: onnxruntime_go
// v1.27 needs 1.24 or later.
const RuntimeVersion = "1.24.1"

// DefaultReleases is where ONNX Runtime's official releases are.
const DefaultReleases = "https://github.com/microsoft/onnxruntime/releases/download"

// runtimes are the official release archives by GOOS/GOARCH, and the
// shared library inside each; the sums are the archives' as public build
// scripts pin them (GitHub's release downloads are not reachable from the
// machine this was written on).
var runtimes = map[string]struct{ archive, sha256, member, dest string }{
	"linux/amd64": {"onnxruntime-linux-x64-" + RuntimeVersion + ".tgz",
		"9142552248b735920f9390027e4512a2cacf8946a1ffcbe9071a5c210531026f",
		"lib/libonnxruntime.so." + RuntimeVersion, "libonnxruntime.so"},
	"linux/arm64": {"onnxruntime-linux-aarch64-" + RuntimeVersion + ".tgz",
		"0f56edd68f7602df790b68b874a46b115add037e88385c6c842bb763b39b9f89",
		"lib/libonnxruntime.so." + RuntimeVersion, "libonnxruntime.so"},
	"darwin/arm64": {"onnxruntime-osx-arm64-" + RuntimeVersion + ".tgz",
		"c2969315cd9ce0f5fa04f6b53ff72cb92f87f7dcf38e88cacfa40c8f983fbba9",
		"lib/libonnxruntime." + RuntimeVersion + ".dylib", "libonnxruntime.dylib"},
}

// RuntimeFile is ONNX Runtime's library for the platform, taken from the
// official release archive at releases.
func RuntimeFile(releases, goos, goarch string) (File, error) {
	r, ok := runtimes[goos+"/"+goarch]
	if !ok {
		return File{}, fmt.Errorf("no ONNX Runtime %s download is pinned for %s/%s: install it yourself and set ONNXRUNTIME_LIB_PATH (the pure-Go runtime works without it, slower)", RuntimeVersion, goos, goarch)
	}
	top := strings.TrimSuffix(r.archive, ".tgz")
	return File{
		URL:    strings.TrimSuffix(releases, "/") + "/v" + RuntimeVersion + "/" + r.archive,
		SHA256: r.sha256,
		Member: top + "/" + r.member,
		Dest:   r.dest,
	}, nil
}
