package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPathRefusesAnythingButADigest(t *testing.T) {
	s := New(t.TempDir(), nil)
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63), strings.Repeat("a", 62) + "/.", strings.Repeat("g", 64)} {
		if _, err := s.Path(bad); !errors.Is(err, ErrBadSum) {
			t.Errorf("Path(%q) = %v", bad, err)
		}
	}
	sum := strings.Repeat("ab", 32)
	p, err := s.Path(sum)
	if err != nil || p != filepath.Join(s.Dir(), "ab", sum) {
		t.Errorf("Path = %q, %v", p, err)
	}
}

func TestReleaseRemovesOnlyUnusedFiles(t *testing.T) {
	used, unused, missing := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	boom := errors.New("db down")
	failing := false
	s := New(t.TempDir(), func(_ context.Context, sum string) (bool, error) {
		if failing {
			return false, boom
		}
		return sum == used, nil
	})
	for _, sum := range []string{used, unused} {
		p, _ := s.Path(sum)
		os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, []byte(sum), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Release(context.Background(), []string{used, unused, unused, missing}); err != nil || n != 1 {
		t.Fatalf("Release = %d, %v; want 1 removed", n, err)
	}
	pu, _ := s.Path(used)
	pn, _ := s.Path(unused)
	if _, err := os.Stat(pu); err != nil {
		t.Errorf("used file removed: %v", err)
	}
	if _, err := os.Stat(pn); !os.IsNotExist(err) {
		t.Errorf("unused file kept: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(pn)); !os.IsNotExist(err) {
		t.Errorf("empty fan-out directory kept: %v", err)
	}
	// A failed check keeps the file and is reported.
	failing = true
	if _, err := s.Release(context.Background(), []string{used}); !errors.Is(err, boom) {
		t.Errorf("Release = %v", err)
	}
	if _, err := os.Stat(pu); err != nil {
		t.Errorf("file removed after a failed check: %v", err)
	}
}
