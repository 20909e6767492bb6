// Package deploy holds the files that run socratic in production (the
// systemd unit, Caddy's configuration) and the tests that lint them and
// the repository's Dockerfile and compose.yaml: Docker cannot run here, so
// the rules are checked by reading the files.
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper-case: FROM, RUN...
	args string
}

func parseDockerfile(src string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{start, strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

var pinnedTag = regexp.MustCompile(`^[^:@\s]+(:[^@\s]*\d[^@\s]*)?(@sha256:[0-9a-f]{64})?$`)

// checkDockerfile returns every rule the Dockerfile breaks: several
// stages; base images pinned to a version (or digest), never latest; no
// ADD of a URL; a static build (CGO_ENABLED=0); a final stage that runs
// as a non-root user, declares the /data volume, warms PDFium's compile
// cache, and whose HEALTHCHECK runs socratic healthcheck.
func checkDockerfile(src string) []string {
	var problems []string
	ins := parseDockerfile(src)
	stages := map[string]bool{}
	var froms []int
	for i, in := range ins {
		if in.cmd != "FROM" {
			continue
		}
		froms = append(froms, i)
		fields := strings.Fields(in.args)
		var image string
		for _, f := range fields {
			if !strings.HasPrefix(f, "--") {
				image = f
				break
			}
		}
		switch {
		case image == "scratch" || stages[strings.ToLower(image)]:
		case strings.Contains(image, "$"):
			problems = append(problems, "line "+strconv.Itoa(in.line)+": base image "+image+" comes from a build argument; pin it in the file")
		case strings.HasSuffix(image, ":latest") || !strings.ContainsAny(image, ":@") || !pinnedTag.MatchString(image):
			problems = append(problems, "line "+strconv.Itoa(in.line)+": base image "+image+" is not pinned to a version tag or digest")
		}
		// Stage names count from the next FROM on.
		if n := len(fields); n >= 3 && strings.EqualFold(fields[n-2], "AS") {
			stages[strings.ToLower(fields[n-1])] = true
		}
	}
	if len(froms) < 2 {
		problems = append(problems, "not a multi-stage build: the image must not carry the Go toolchain")
	}
	if len(froms) == 0 {
		return problems
	}
	final := ins[froms[len(froms)-1]:]
	cgoOff := false
	for _, in := range ins {
		if in.cmd == "ADD" && regexp.MustCompile(`(?i)(^|\s)(https?://|git@|git://)`).MatchString(in.args) {
			problems = append(problems, "line "+strconv.Itoa(in.line)+": ADD of a URL (unverified download); fetch in a build stage with a checksum, or COPY")
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build") {
			cgoOff = true
		}
	}
	if !cgoOff {
		problems = append(problems, "no RUN builds the binary with CGO_ENABLED=0 (a static binary)")
	}
	user, volume, health, warm, copied := "", false, false, false, false
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "VOLUME":
			for _, f := range strings.FieldsFunc(in.args, func(r rune) bool { return strings.ContainsRune(` []",`, r) }) {
				if f == "/data" {
					volume = true
				}
			}
		case "HEALTHCHECK":
			_, cmd, _ := strings.Cut(in.args, "CMD")
			health = strings.Contains(cmd, "socratic") && strings.Contains(cmd, "healthcheck") && !strings.Contains(in.args, "NONE")
		case "RUN":
			if strings.Contains(in.args, "warm-cache") {
				warm = true
			}
		case "COPY":
			if strings.Contains(in.args, "--from=") {
				copied = true
			}
		}
	}
	if user == "" {
		problems = append(problems, "the final stage sets no USER: it would run as root")
	} else if u, _, _ := strings.Cut(user, ":"); u == "root" || u == "0" {
		problems = append(problems, "the final stage runs as "+user+": use an unprivileged user")
	}
	if !volume {
		problems = append(problems, "the final stage declares no VOLUME /data")
	}
	if !health {
		problems = append(problems, "the final stage has no HEALTHCHECK running socratic healthcheck")
	}
	if !warm {
		problems = append(problems, "the final stage does not warm PDFium's compile cache (RUN socratic warm-cache)")
	}
	if !copied {
		problems = append(problems, "the final stage copies nothing from the build stage")
	}
	return problems
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDockerfileFollowsTheRules(t *testing.T) {
	if problems := checkDockerfile(read(t, "Dockerfile")); len(problems) > 0 {
		t.Errorf("Dockerfile:\n  %s", strings.Join(problems, "\n  "))
	}
}

// TestDockerfileRulesCatchBreakage shows each rule refusing a Dockerfile
// that breaks it, so TestDockerfileFollowsTheRules can fail.
func TestDockerfileRulesCatchBreakage(t *testing.T) {
	good := read(t, "Dockerfile")
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"one-stage", "FROM scratch\n", "", "multi-stage"},
		{"latest", "FROM golang:1.26.8-bookworm AS build", "FROM golang:latest AS build", "not pinned"},
		{"untagged", "FROM golang:1.26.8-bookworm AS build", "FROM golang AS build", "not pinned"},
		{"moving-tag", "FROM golang:1.26.8-bookworm AS build", "FROM golang:bookworm AS build", "not pinned"},
		{"root", "USER 65532:65532", "USER root", "unprivileged"},
		{"no-user", "USER 65532:65532\n", "", "no USER"},
		{"no-volume", `VOLUME ["/data"]`, `VOLUME ["/srv"]`, "VOLUME /data"},
		{"healthcheck-curl", `CMD ["/usr/local/bin/socratic", "healthcheck"]`, `CMD curl -f http://localhost:8000/`, "HEALTHCHECK"},
		{"add-url", "COPY go.mod go.sum ./", "ADD https://example.com/go.tgz /tmp/", "ADD of a URL"},
		{"cgo", "CGO_ENABLED=0 go build", "go build", "CGO_ENABLED=0"},
		{"cold-cache", `RUN ["/usr/local/bin/socratic", "warm-cache"]`, "", "warm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bad string
			if tc.name == "one-stage" {
				// Drop the build stage.
				bad = good[strings.Index(good, "FROM scratch"):]
			} else {
				if !strings.Contains(good, tc.from) {
					t.Fatalf("the Dockerfile no longer has %q; update this case", tc.from)
				}
				bad = strings.Replace(good, tc.from, tc.to, 1)
			}
			problems := strings.Join(checkDockerfile(bad), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("want a problem naming %q, got:\n%s", tc.want, problems)
			}
		})
	}
}

// TestDockerfileLint runs dockerfile-utils (the Docker language server's
// linter, from npm) over the Dockerfile: any diagnostic fails.
func TestDockerfileLint(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		testenv.Missing(t, "npm", "apt-get install npm (then scripts/dockerfile-utils-for-tests installs the linter)")
	}
	out, err := exec.Command(filepath.Join(testenv.Root(), "scripts", "dockerfile-utils-for-tests")).Output()
	if err != nil {
		t.Fatalf("scripts/dockerfile-utils-for-tests: %v", err)
	}
	lint := exec.Command(strings.TrimSpace(string(out)), "lint", filepath.Join(testenv.Root(), "Dockerfile"))
	var o bytes.Buffer
	lint.Stdout, lint.Stderr = &o, &o
	if err := lint.Run(); err != nil || strings.TrimSpace(o.String()) != "" {
		t.Errorf("dockerfile-utils lint: %v\n%s", err, o.String())
	}
	// The linter speaks up on a known fault, so silence means something.
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(bad, []byte("FROM scratch\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\n"), 0o600)
	o.Reset()
	lint = exec.Command(strings.TrimSpace(string(out)), "lint", bad)
	lint.Stdout, lint.Stderr = &o, &o
	lint.Run()
	if !strings.Contains(o.String(), "HEALTHCHECK") {
		t.Errorf("dockerfile-utils said nothing of two HEALTHCHECKs: %q", o.String())
	}
}

// TestComposeFile: the proxy is Caddy (automatic TLS) at a fixed address
// that TRUSTED_PROXIES names, images are pinned, the server is not
// published past the proxy, and production needs a SECRET_KEY.
func TestComposeFile(t *testing.T) {
	c := read(t, "compose.yaml")
	want := []string{
		"ENV: production",
		"SECRET_KEY: ${SECRET_KEY:?",
		"TRUSTED_PROXIES: 172.30.57.10",
		"ipv4_address: 172.30.57.10",
		"./deploy/Caddyfile:/etc/caddy/Caddyfile:ro",
		"BACKUP_DIR: /backups",
		"data:/data",
	}
	for _, w := range want {
		if !strings.Contains(c, w) {
			t.Errorf("compose.yaml lacks %q", w)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+image:\s*(\S+)`).FindAllStringSubmatch(c, -1) {
		if m[1] == "socratic:local" { // built from the Dockerfile beside it
			continue
		}
		if !pinnedTag.MatchString(m[1]) || !strings.ContainsAny(m[1], ":@") || strings.HasSuffix(m[1], ":latest") {
			t.Errorf("compose.yaml: image %s is not pinned", m[1])
		}
	}
	// Only Caddy publishes ports.
	socratic := c[strings.Index(c, "  socratic:"):strings.Index(c, "  caddy:")]
	if strings.Contains(socratic, "ports:") {
		t.Error("compose.yaml publishes the server's port past the proxy")
	}
	caddy := read(t, "deploy/Caddyfile")
	if !strings.Contains(caddy, "{$SOCRATIC_DOMAIN}") || !strings.Contains(caddy, "reverse_proxy socratic:8000") {
		t.Errorf("deploy/Caddyfile does not proxy SOCRATIC_DOMAIN to socratic:8000:\n%s", caddy)
	}
	// Streamed answers go out as they come, and request bodies are read
	// whole first, or Caddy can cut a streamed answer (docs/operations.md).
	for _, w := range []string{"flush_interval -1", "request_buffers 1MiB"} {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(w) + `$`).MatchString(caddy) {
			t.Errorf("deploy/Caddyfile lacks %q", w)
		}
	}
}

// TestSystemdUnit: the hardening the issue names, and nothing that breaks
// the server (wazero needs memory it writes and then executes).
func TestSystemdUnit(t *testing.T) {
	unit := read(t, "deploy/socratic.service")
	keys := map[string][]string{}
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	for k, v := range map[string]string{
		"DynamicUser":     "yes",
		"ProtectSystem":   "strict",
		"NoNewPrivileges": "yes",
		"PrivateTmp":      "yes",
		"ProtectHome":     "yes",
		"ExecStart":       "/usr/local/bin/socratic serve",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s=%v, want %s", k, got, v)
		}
	}
	for _, k := range []string{"ReadWritePaths", "StateDirectory", "CapabilityBoundingSet", "SystemCallFilter", "RestrictAddressFamilies"} {
		if len(keys[k]) == 0 {
			t.Errorf("no %s", k)
		}
	}
	if v := keys["MemoryDenyWriteExecute"]; len(v) > 0 && v[len(v)-1] != "no" {
		t.Error("MemoryDenyWriteExecute=yes stops PDFium (wazero compiles WebAssembly to machine code at run time)")
	}
	if !strings.Contains(strings.Join(keys["Environment"], " "), "BACKUP_DIR=") {
		t.Error("the unit sets no BACKUP_DIR")
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		testenv.Missing(t, "systemd-analyze", "apt-get install systemd")
	}
	// verify wants ExecStart's program to exist: point it at this test.
	self, _ := os.Executable()
	tmp := filepath.Join(t.TempDir(), "socratic.service")
	os.WriteFile(tmp, []byte(strings.ReplaceAll(unit, "/usr/local/bin/socratic", self)), 0o600)
	out, err := exec.Command(analyze, "verify", tmp).CombinedOutput()
	if err != nil || strings.Contains(string(out), "socratic.service") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
