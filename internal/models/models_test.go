package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// serve answers each path with its bytes and counts requests.
func serve(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// leftovers lists what is in dir but the named files.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			for _, k := range keep {
				if rel == k {
					return nil
				}
			}
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestFetchChecksAndPlaces(t *testing.T) {
	body := []byte("model weights")
	srv, requests := serve(t, map[string][]byte{"/m.onnx": body})
	dir := t.TempDir()
	f := File{URL: srv.URL + "/m.onnx", SHA256: sum(body), Size: int64(len(body)), Dest: "sub/model.onnx"}
	ctx := context.Background()
	got, err := Fetch(ctx, srv.Client(), f, dir)
	if err != nil || !got {
		t.Fatalf("fetch: %v %v", got, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "model.onnx")); !bytes.Equal(b, body) {
		t.Fatalf("placed %q", b)
	}
	// Present and intact: not fetched again.
	if got, err := Fetch(ctx, srv.Client(), f, dir); err != nil || got || requests.Load() != 1 {
		t.Errorf("second fetch: %v %v, %d requests", got, err, requests.Load())
	}
	// Present but damaged: replaced.
	os.WriteFile(filepath.Join(dir, "sub", "model.onnx"), []byte("tampered"), 0o644)
	if got, err := Fetch(ctx, srv.Client(), f, dir); err != nil || !got {
		t.Errorf("damaged file: %v %v", got, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "model.onnx")); !bytes.Equal(b, body) {
		t.Errorf("damaged file not replaced: %q", b)
	}
	if l := leftovers(t, dir, filepath.Join("sub", "model.onnx")); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
}

// TestFetchRefusesWhatDoesNotMatch: a wrong hash, a wrong size, a missing
// file — each an error that names the problem, with nothing left behind
// and an earlier good file untouched.
func TestFetchRefusesWhatDoesNotMatch(t *testing.T) {
	good, evil := []byte("the real model"), []byte("the real mode!")
	srv, _ := serve(t, map[string][]byte{"/evil": evil, "/long": append(good, 'x')})
	ctx := context.Background()
	for name, c := range map[string]struct {
		f    File
		want string
	}{
		"hash":    {File{URL: srv.URL + "/evil", SHA256: sum(good), Size: int64(len(good)), Dest: "m"}, "sha256"},
		"size":    {File{URL: srv.URL + "/long", SHA256: sum(good), Size: int64(len(good)), Dest: "m"}, "expected"},
		"missing": {File{URL: srv.URL + "/nope", SHA256: sum(good), Dest: "m"}, "404"},
	} {
		dir := t.TempDir()
		_, err := Fetch(ctx, srv.Client(), c.f, dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
		if l := leftovers(t, dir); len(l) != 0 {
			t.Errorf("%s: left behind %v", name, l)
		}
	}
}

func tgz(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestFetchTakesOneMemberOfAnArchive(t *testing.T) {
	lib := []byte("\x7fELF shared library")
	archive := tgz(t, map[string][]byte{
		"onnxruntime-linux-x64-1.24.1/lib/libonnxruntime.so.1.24.1": lib,
		"onnxruntime-linux-x64-1.24.1/include/onnxruntime_c_api.h":  []byte("header"),
	})
	srv, requests := serve(t, map[string][]byte{"/v1.24.1/onnxruntime-linux-x64-1.24.1.tgz": archive})
	f, err := RuntimeFile(srv.URL, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	f.SHA256 = sum(archive) // the test archive, not the real release
	dir := t.TempDir()
	if got, err := Fetch(context.Background(), srv.Client(), f, dir); err != nil || !got {
		t.Fatalf("fetch: %v %v", got, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "libonnxruntime.so")); !bytes.Equal(b, lib) {
		t.Errorf("extracted %q", b)
	}
	if l := leftovers(t, dir, "libonnxruntime.so", "libonnxruntime.so.sha256"); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
	// Extracted and stamped: not fetched again, unless it was altered.
	if got, err := Fetch(context.Background(), srv.Client(), f, dir); err != nil || got || requests.Load() != 1 {
		t.Errorf("second fetch: %v %v, %d requests", got, err, requests.Load())
	}
	os.WriteFile(filepath.Join(dir, "libonnxruntime.so"), []byte("altered"), 0o644)
	if got, err := Fetch(context.Background(), srv.Client(), f, dir); err != nil || !got {
		t.Errorf("an altered library was kept: %v %v", got, err)
	}
	// A temporary file of an interrupted run is cleared.
	os.WriteFile(filepath.Join(dir, ".libonnxruntime.so.part-123"), []byte("half"), 0o644)
	Fetch(context.Background(), srv.Client(), f, dir)
	if l := leftovers(t, dir, "libonnxruntime.so", "libonnxruntime.so.sha256"); len(l) != 0 {
		t.Errorf("left behind: %v", l)
	}
	f.Member = "onnxruntime-linux-x64-1.24.1/lib/absent.so"
	if _, err := Fetch(context.Background(), srv.Client(), File{URL: f.URL, SHA256: f.SHA256, Member: f.Member, Dest: "other.so"}, dir); err == nil {
		t.Error("a member the archive lacks was not an error")
	}
}

// TestPinnedManifest: every real download is https, at a fixed revision
// or release, with a full sha256.
func TestPinnedManifest(t *testing.T) {
	files := ModelFiles(DefaultHub)
	for _, goos := range []string{"linux/amd64", "linux/arm64", "darwin/arm64"} {
		os, arch, _ := strings.Cut(goos, "/")
		f, err := RuntimeFile(DefaultReleases, os, arch)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for _, f := range files {
		if !strings.HasPrefix(f.URL, "https://") || !validHex(f.SHA256, 64) || f.Dest == "" {
			t.Errorf("not pinned: %+v", f)
		}
	}
	if !strings.Contains(files[0].URL, "/resolve/"+ModelRevision+"/onnx/model.onnx") || !validHex(ModelRevision, 40) {
		t.Errorf("model URL %s", files[0].URL)
	}
	if _, err := RuntimeFile(DefaultReleases, "plan9", "386"); err == nil {
		t.Error("an unsupported platform got a download")
	}
}
