package e2e

import (
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// NewServerOn prepares (does not start) a server whose DATA_DIR is dir,
// a folder the test made (a small filesystem). PDFium's compile cache is
// linked from the shared one, so it stays off dir.
func NewServerOn(t testing.TB, dir string, env ...string) *Server {
	t.Helper()
	ShareCompileCache(t, dir)
	return &Server{t: t, Bin: Binary(t), Dir: dir, Env: withEngine(t, dir, env)}
}

// Count runs a count(*) query and returns its number.
func Count(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// StoredFiles lists every regular file under the upload store (temporary
// uploads in .incoming included), relative to it.
func StoredFiles(t testing.TB, dataDir string) []string {
	t.Helper()
	root := filepath.Join(dataDir, "uploads")
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Problem is an RFC 9457 answer's fields.
type Problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// MustProblem fails t unless r is a problem+json answer with status want
// whose detail contains each of words; it returns the problem.
func MustProblem(t testing.TB, what string, r Response, want int, words ...string) Problem {
	t.Helper()
	var p Problem
	if r.Status != want {
		t.Fatalf("%s: %d, want %d: %s", what, r.Status, want, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s: Content-Type %q, want application/problem+json: %s", what, ct, r.Body)
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Status != want || p.Detail == "" {
		t.Fatalf("%s: not a problem with status %d and a detail: %v %s", what, want, err, r.Body)
	}
	for _, w := range words {
		if !strings.Contains(p.Detail, w) {
			t.Fatalf("%s: detail %q does not say %q", what, p.Detail, w)
		}
	}
	return p
}
