package httpapi

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestGeneratedClientTypeChecks: a TypeScript client generated from the
// served /openapi.json (openapi-typescript, with the Blob transform its
// documentation gives for files, and openapi-fetch) type-checks
// testdata/tsclient/flow.ts, a professor and a student through the whole
// API, under strict settings and with no casts.
func TestGeneratedClientTypeChecks(t *testing.T) {
	for _, tool := range []string{"npm", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool, "apt-get install npm (then scripts/tsclient-for-tests)")
		}
	}
	out, err := exec.Command(filepath.Join(testenv.Root(), "scripts", "tsclient-for-tests")).Output()
	if err != nil {
		testenv.Missing(t, "openapi-typescript, openapi-fetch and typescript", "scripts/tsclient-for-tests: "+err.Error())
	}
	modules := filepath.Join(strings.TrimSpace(string(out)), "node_modules")

	src := filepath.Join("testdata", "tsclient")
	flow, err := os.ReadFile(filepath.Join(src, "flow.ts"))
	if err != nil {
		t.Fatal(err)
	}
	// The point is a client that needs no casts: none may creep in here.
	code := regexp.MustCompile(`(?m)//.*$`).ReplaceAll(flow, nil)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`\bas\s+[A-Za-z{\[(]`), regexp.MustCompile(`\bany\b`), regexp.MustCompile(`(?:[=(,:?]|\breturn)\s*<[A-Za-z]+>`),
		regexp.MustCompile(`[\w)\]]!\s*[.\[;,)]`), regexp.MustCompile(`@ts-`),
	} {
		if m := bad.Find(code); m != nil {
			t.Fatalf("flow.ts has a cast or escape hatch: %q", m)
		}
	}

	dir := t.TempDir()
	for _, name := range []string{"gen.mjs", "tsconfig.json", "flow.ts"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	spec, _ := fetchSpec(t)
	if err := os.WriteFile(filepath.Join(dir, "openapi.json"), spec, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, b)
		}
	}
	run("node", "gen.mjs", "openapi.json", "api.d.ts")
	run(filepath.Join(modules, ".bin", "tsc"), "-p", "tsconfig.json")
}
