package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeNamesTheGoVersionGoModNeeds: the README's "Go X or later" must
// be the go line of go.mod (the least toolchain that builds the module): a
// lower number sends a newcomer with that Go into a toolchain download, or
// a refusal under GOTOOLCHAIN=local.
func TestReadmeNamesTheGoVersionGoModNeeds(t *testing.T) {
	root := filepath.Join("..", "..")
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	need := string(m[1])
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	said := regexp.MustCompile(`Go \(?(1\.\d+(?:\.\d+)?) or later`).FindAllSubmatch(readme, -1)
	if len(said) == 0 {
		t.Fatal(`README says no "Go X or later"`)
	}
	// "1.26" and "1.26.0" are the same release.
	norm := func(v string) string {
		if strings.Count(v, ".") == 2 {
			return strings.TrimSuffix(v, ".0")
		}
		return v
	}
	for _, s := range said {
		if got := string(s[1]); norm(got) != norm(need) {
			t.Errorf("README says Go %s or later; go.mod's go line is %s", got, need)
		}
	}
}
