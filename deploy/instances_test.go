package deploy

import (
	"regexp"
	"strings"
	"testing"
)

// topLevel splits a YAML mapping's text into its keys' blocks at one
// indentation (the lines under "key:" up to the next key at that depth).
func topLevel(src, indent string) map[string]string {
	out := map[string]string{}
	key := ""
	var cur strings.Builder
	flush := func() {
		if key != "" {
			out[key] = cur.String()
		}
		cur.Reset()
	}
	keyLine := regexp.MustCompile(`^` + indent + `([A-Za-z0-9_.-]+):`)
	for _, line := range strings.Split(src, "\n") {
		if m := keyLine.FindStringSubmatch(line); m != nil {
			flush()
			key = m[1]
		} else if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, indent+" ") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			flush()
			key = "" // a shallower line ends the block
		}
		if key != "" {
			cur.WriteString(line + "\n")
		}
	}
	flush()
	return out
}

// checkInstances returns every rule deploy/compose.instances.yaml and
// deploy/Caddyfile.instances break: PostgreSQL, a one-shot migrate service
// the instances wait for, two instances sharing the database, the bucket
// and SECRET_KEY but each with its own data volume, Caddy alone publishing
// ports at the address the instances trust, pinned images; and Caddy
// balancing over both instances with /api/health/ready as health check
// and the streamed answers unbuffered, the request bodies buffered.
func checkInstances(compose, caddy string) []string {
	var problems []string
	top := topLevel(compose, "")
	services := topLevel(top["services"], "  ")
	shared := top["x-socratic"]
	for _, name := range []string{"postgres", "migrate", "socratic-a", "socratic-b", "caddy"} {
		if services[name] == "" {
			problems = append(problems, "no service "+name)
		}
	}
	for _, w := range []string{
		"DATABASE_URL: postgres://",
		"BLOB_URL: ${BLOB_URL:?",
		"AWS_ACCESS_KEY_ID: ${AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY: ${AWS_SECRET_ACCESS_KEY",
		"SECRET_KEY: ${SECRET_KEY:?",
		"ENV: production",
		"condition: service_completed_successfully",
	} {
		if !regexp.MustCompile(`(?m)^[ \t]+` + regexp.QuoteMeta(w)).MatchString(shared) {
			problems = append(problems, "the instances' shared settings (x-socratic) lack "+w)
		}
	}
	var caddyIP string
	if m := regexp.MustCompile(`ipv4_address:\s*(\S+)`).FindStringSubmatch(services["caddy"]); m != nil {
		caddyIP = m[1]
	}
	if caddyIP == "" || !regexp.MustCompile(`(?m)^[ \t]+TRUSTED_PROXIES: `+regexp.QuoteMeta(caddyIP)+`\s*$`).MatchString(shared) {
		problems = append(problems, "the instances do not trust Caddy's fixed address (TRUSTED_PROXIES = caddy's ipv4_address)")
	}
	if m := services["migrate"]; !strings.Contains(m, `command: ["migrate", "up"]`) || !strings.Contains(m, "<<: *socratic-env") {
		problems = append(problems, `the migrate service does not run ["migrate", "up"] with the instances' settings`)
	}
	volumes := map[string]string{}
	for _, name := range []string{"socratic-a", "socratic-b"} {
		s := services[name]
		if !strings.Contains(s, "<<: *socratic") {
			problems = append(problems, name+" does not take the shared settings (<<: *socratic)")
		}
		m := regexp.MustCompile(`-\s*(\S+):/data\b`).FindStringSubmatch(s)
		if m == nil {
			problems = append(problems, name+" has no data volume of its own at /data")
			continue
		}
		if other, ok := volumes[m[1]]; ok {
			problems = append(problems, name+" shares the data volume "+m[1]+" with "+other+": serve locks DATA_DIR, each instance needs its own")
		}
		volumes[m[1]] = name
	}
	for name, s := range services {
		if name != "caddy" && strings.Contains(s, "ports:") {
			problems = append(problems, name+" publishes a port past the proxy")
		}
	}
	if !strings.Contains(services["caddy"], "./Caddyfile.instances:/etc/caddy/Caddyfile:ro") {
		problems = append(problems, "caddy does not mount ./Caddyfile.instances")
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+image:\s*(\S+)`).FindAllStringSubmatch(compose, -1) {
		if m[1] == "socratic:local" {
			continue
		}
		if !pinnedTag.MatchString(m[1]) || !strings.ContainsAny(m[1], ":@") || strings.HasSuffix(m[1], ":latest") {
			problems = append(problems, "image "+m[1]+" is not pinned")
		}
	}

	if !strings.Contains(caddy, "{$SOCRATIC_DOMAIN}") {
		problems = append(problems, "the Caddyfile does not serve {$SOCRATIC_DOMAIN}")
	}
	loc := regexp.MustCompile(`(?m)^[ \t]*reverse_proxy\s`).FindStringIndex(caddy)
	if loc == nil {
		return append(problems, "the Caddyfile has no reverse_proxy")
	}
	line, block, _ := strings.Cut(caddy[loc[0]:], "\n")
	block, _, _ = strings.Cut(block, "\n\t}")
	for _, up := range []string{"socratic-a:8000", "socratic-b:8000"} {
		if !strings.Contains(line, " "+up) {
			problems = append(problems, "reverse_proxy does not list the upstream "+up)
		}
	}
	for _, w := range []string{"health_uri /api/health/ready", "flush_interval -1", "request_buffers 1MiB", "lb_policy "} {
		if !regexp.MustCompile(`(?m)^[ \t]*` + regexp.QuoteMeta(w)).MatchString(block) {
			problems = append(problems, "reverse_proxy lacks "+strings.TrimSpace(w))
		}
	}
	return problems
}

// TestInstancesComposeFile: the two-instance example docs/operations.md
// ("Several instances") describes follows the rules.
func TestInstancesComposeFile(t *testing.T) {
	if problems := checkInstances(read(t, "deploy/compose.instances.yaml"), read(t, "deploy/Caddyfile.instances")); len(problems) > 0 {
		t.Errorf("deploy/compose.instances.yaml, deploy/Caddyfile.instances:\n  %s", strings.Join(problems, "\n  "))
	}
}

// TestInstancesRulesCatchBreakage shows each rule refusing files that
// break it, so TestInstancesComposeFile can fail.
func TestInstancesRulesCatchBreakage(t *testing.T) {
	compose, caddy := read(t, "deploy/compose.instances.yaml"), read(t, "deploy/Caddyfile.instances")
	for _, tc := range []struct {
		name, file, from, to, want string
	}{
		{"no-database", "compose", "DATABASE_URL: postgres://", "DATABASE_URL: sqlite:///", "DATABASE_URL"},
		{"no-bucket", "compose", "BLOB_URL: ${BLOB_URL:?", "# BLOB_URL: ${BLOB_URL:?", "BLOB_URL"},
		{"own-secret", "compose", "SECRET_KEY: ${SECRET_KEY:?", "XSECRET_KEY: ${SECRET_KEY:?", "SECRET_KEY"},
		{"no-migrate-wait", "compose", "condition: service_completed_successfully", "condition: service_started", "service_completed_successfully"},
		{"shared-data", "compose", "- data-b:/data", "- data-a:/data", "shares the data volume"},
		{"untrusted-proxy", "compose", "TRUSTED_PROXIES: 172.30.58.10", "TRUSTED_PROXIES: 172.30.58.99", "TRUSTED_PROXIES"},
		{"published", "compose", "      - data-a:/data\n", "      - data-a:/data\n    ports:\n      - \"8000:8000\"\n", "socratic-a publishes a port"},
		{"latest", "compose", "image: postgres:17.6-bookworm", "image: postgres:latest", "not pinned"},
		{"one-upstream", "caddy", "reverse_proxy socratic-a:8000 socratic-b:8000", "reverse_proxy socratic-a:8000", "socratic-b:8000"},
		{"no-health", "caddy", "health_uri /api/health/ready", "health_uri /", "health_uri"},
		{"buffered", "caddy", "flush_interval -1", "flush_interval 1s", "flush_interval"},
		{"no-policy", "caddy", "lb_policy round_robin", "", "lb_policy"},
		{"streamed-bodies", "caddy", "request_buffers 1MiB", "", "request_buffers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, f := compose, caddy
			src := &c
			if tc.file == "caddy" {
				src = &f
			}
			if !strings.Contains(*src, tc.from) {
				t.Fatalf("the %s file no longer has %q; update this case", tc.file, tc.from)
			}
			*src = strings.Replace(*src, tc.from, tc.to, 1)
			problems := strings.Join(checkInstances(c, f), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("want a problem naming %q, got:\n%s", tc.want, problems)
			}
		})
	}
}
