package httpapi

import (
	"encoding/json"
	"net/http/httptest"
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
// API, under strict settings and with no casts; then the flow runs, on
// Node, against a real server over HTTP and gets through to the end.
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
	for _, name := range []string{"gen.mjs", "tsconfig.json", "flow.ts", "run.mjs", "package.json"} {
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
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	run("node", "gen.mjs", "openapi.json", "api.d.ts")
	run(filepath.Join(modules, ".bin", "tsc"), "-p", "tsconfig.json")

	// The same flow, compiled and run against a real server.
	run(filepath.Join(modules, ".bin", "tsc"), "-p", "tsconfig.json", "--noEmit", "false", "--outDir", "out")
	f := newIngestingFixture(t)
	srv := httptest.NewServer(validating(t, f.srv))
	defer srv.Close()
	reading := filepath.Join(dir, "reading.pdf")
	if err := os.WriteFile(reading, textPDF("Terry v. Ohio. An officer who reasonably suspects that a person is armed may stop and frisk him for weapons."), 0o600); err != nil {
		t.Fatal(err)
	}
	var log []string
	if err := json.Unmarshal([]byte(run("node", "run.mjs", srv.URL, reading, testPassword)), &log); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(log, "\n")
	for _, want := range []string{"Socratic Law Tutor API", "reading.pdf: processed", "enrolled in LAW 101", "search: reading.pdf p.1", "tutor: ", "ended after", "user: The officer saw two men flee the car.", "newstudent <new.student@law.example.edu> student"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the flow's log lacks %q:\n%s", want, joined)
		}
	}
}
