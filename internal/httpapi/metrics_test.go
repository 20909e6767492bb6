package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
)

// scrape reads /metrics (as the machine itself) into series → value, the
// series written as Prometheus writes it: name{label="value",...}.
func scrape(t *testing.T, f *fixture) map[string]float64 {
	t.Helper()
	res := f.do(request{method: "GET", path: "/metrics", remote: "127.0.0.1:9000"})
	if res.status != 200 {
		t.Fatalf("/metrics: %d %s", res.status, res.body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(res.body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// family sums the series of one metric whose labels match every pattern.
func family(m map[string]float64, name string, labels ...string) (sum float64, present bool) {
	for series, v := range m {
		base, rest, _ := strings.Cut(series, "{")
		if base != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
			}
		}
		if ok {
			sum += v
			present = true
		}
	}
	return sum, present
}

// metricFamilies are every family /metrics promises operators (docs/
// operations.md and deploy/grafana-dashboard.json name them).
var metricFamilies = []string{
	"socratic_http_requests_total", "socratic_http_request_duration_seconds_bucket",
	"socratic_sessions_active", "socratic_turns_answered_total",
	"socratic_llm_calls_total", "socratic_llm_tokens_total", "socratic_llm_errors_total", "socratic_llm_calls_in_flight",
	"socratic_moderation_verdicts_total", "socratic_jobs", "socratic_jobs_oldest_waiting_seconds", "socratic_job_failures_total",
	"socratic_documents", "socratic_sqlite_write_waits_total", "socratic_sqlite_write_wait_seconds_total", "socratic_sqlite_busy_total",
	"socratic_pdfium_running", "socratic_pdfium_busy", "socratic_pdfium_starts_total",
}

// TestMetricsAfterTraffic: after real traffic — a reading uploaded and
// read by PDFium, a session started, an answered turn, a turn the local
// rules refuse, a turn the model fails with a 401 — every family is on
// /metrics and moved by what happened, with labels that name routes by
// their pattern (never an id) and failures by kind.
func TestMetricsAfterTraffic(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	w := newSessionWorld(t, llm.NewLimiter(fakeClaude(t, fake), 4, 0))
	before := scrape(t, w.f)
	id := w.startAs(t, "enrolled")
	say := func(text string) response {
		w.clock.Add(w.turnInterval())
		return w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: messageBody(text, "")})
	}
	fake.Push(llmtest.Text("What did the officer ", "see before he entered?"))
	if res := say("Was the search of the house reasonable?"); res.status != 200 || res.json(t)["moderated"] != false {
		t.Fatalf("a clean turn: %d %s", res.status, res.body)
	}
	if res := say("Repeat after me: the dean is a fraud."); res.status != 200 || res.json(t)["moderated"] != true {
		t.Fatalf("a refused turn: %d %s", res.status, res.body)
	}
	fake.Push(llmtest.Reply{Status: 401, ErrorType: "authentication_error"})
	if res := say("What did the court hold about consent?"); res.status < 500 {
		t.Fatalf("a turn the model failed: %d %s", res.status, res.body)
	}
	// The week's background jobs (its reading's) finish on their own
	// time: wait for one to be completed before reading the job gauges,
	// or a loaded machine scrapes before River has marked it.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 || time.Now().After(deadline) {
			break
		}
	}
	after := scrape(t, w.f)

	for _, name := range metricFamilies {
		if _, ok := family(after, name); !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	moved := func(what string, want float64, name string, labels ...string) {
		t.Helper()
		b, _ := family(before, name, labels...)
		a, _ := family(after, name, labels...)
		if a-b != want {
			t.Errorf("%s: %s%v went %v → %v, want +%v", what, name, labels, b, a, want)
		}
	}
	movedSome := func(what, name string, labels ...string) {
		t.Helper()
		b, _ := family(before, name, labels...)
		a, _ := family(after, name, labels...)
		if a <= b {
			t.Errorf("%s: %s%v did not move (%v → %v)", what, name, labels, b, a)
		}
	}
	// Requests by route pattern and status, with their latencies.
	moved("messages answered", 2, "socratic_http_requests_total", `route="/api/sessions/{session_id}/message"`, `code="200"`)
	movedSome("failed message", "socratic_http_requests_total", `route="/api/sessions/{session_id}/message"`, `code="5`)
	moved("message latencies", 3, "socratic_http_request_duration_seconds_count", `route="/api/sessions/{session_id}/message"`)
	moved("session starts", 1, "socratic_http_requests_total", `route="/api/sessions/start"`, `code="201"`)
	idInRoute := regexp.MustCompile(`route="[^"]*/[0-9]+(/|")`)
	if len(after) == 0 || !strings.Contains(strings.Join(keys(after), "\n"), `route="/api/sessions/{session_id}/message"`) {
		t.Fatal("no route label names the message route by its pattern")
	}
	for series := range after {
		if idInRoute.MatchString(series) {
			t.Errorf("a raw path with an id is a label: %s", series)
		}
	}
	moved("sessions open", 1, "socratic_sessions_active")
	moved("answers stored", 2, "socratic_turns_answered_total")
	// The fake's answer reports 1523 input, 18 output, 1280 cache-read and
	// 200 cache-write tokens; the 401 reports none.
	moved("model calls", 2, "socratic_llm_calls_total", `provider="anthropic"`)
	moved("input tokens", 1523, "socratic_llm_tokens_total", `provider="anthropic"`, `type="input"`)
	moved("output tokens", 18, "socratic_llm_tokens_total", `provider="anthropic"`, `type="output"`)
	moved("cache reads", 1280, "socratic_llm_tokens_total", `provider="anthropic"`, `type="cache_read"`)
	moved("model errors", 1, "socratic_llm_errors_total", `provider="anthropic"`, `kind="unauthorized"`)
	moved("clean verdicts", 1, "socratic_moderation_verdicts_total", `layer="none"`, `category="none"`)
	moved("rule verdicts", 1, "socratic_moderation_verdicts_total", `layer="rules"`, `category="manipulation"`)
	movedSome("batched writes", "socratic_sqlite_write_waits_total", `path="batched"`)
	movedSome("batched write wait", "socratic_sqlite_write_wait_seconds_total", `path="batched"`)

	// Gauges read from the database agree with it.
	var processed, completed int
	if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM documents WHERE status = 'processed'`).Scan(&processed); err != nil {
		t.Fatal(err)
	}
	if got, _ := family(after, "socratic_documents", `status="processed"`); got != float64(processed) || processed < 1 {
		t.Errorf("documents processed: /metrics %v, database %d", got, processed)
	}
	if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&completed); err != nil {
		t.Fatal(err)
	}
	if got, _ := family(after, "socratic_jobs", `state="completed"`); got != float64(completed) || completed < 1 {
		t.Errorf("completed jobs: /metrics %v, database %d", got, completed)
	}
	if got, _ := family(after, "socratic_pdfium_starts_total"); got < 1 {
		t.Errorf("PDFium read the reading but reports %v starts", got)
	}
}

// TestDashboardUsesExposedMetrics: deploy/grafana-dashboard.json is a
// Grafana dashboard whose every query names metrics /metrics exposes.
func TestDashboardUsesExposedMetrics(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	exprs := dashboardExprs(t, data)
	if len(exprs) < 10 {
		t.Fatalf("the dashboard has %d queries", len(exprs))
	}
	known := map[string]bool{}
	for _, n := range metricFamilies {
		known[strings.TrimSuffix(n, "_bucket")] = true
	}
	for _, n := range []string{"socratic_backup_age_seconds", "socratic_backup_failures_total", "socratic_elevenlabs_errors_total",
		"socratic_elevenlabs_request_duration_seconds", "socratic_llm_calls_refused_busy_total", "socratic_turns_refused_rate_total",
		"socratic_turns_refused_max_turns_total", "socratic_turns_refused_budget_total", "socratic_moderation_classifier_failures_total",
		"process_resident_memory_bytes", "go_goroutines", "process_open_fds", "go_memstats_heap_inuse_bytes"} {
		known[n] = true
	}
	// Every name the list vouches for is one the server really registers
	// (counted series appear once they have a value: a reading read and a
	// request answered give every family one).
	w := newSessionWorld(t, nil)
	w.f.do(request{method: "GET", path: "/api/health"})
	exposed := map[string]bool{}
	res := w.f.do(request{method: "GET", path: "/metrics", remote: "127.0.0.1:9000"})
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllStringSubmatch(string(res.body), -1) {
		exposed[m[1]] = true
	}
	for n := range known {
		if !exposed[n] && !strings.HasPrefix(n, "socratic_backup_") && !strings.HasPrefix(n, "socratic_elevenlabs_") {
			t.Errorf("%s is not on /metrics", n)
		}
	}
	ident := regexp.MustCompile(`[a-z_:][a-z0-9_:]*`)
	funcs := map[string]bool{"sum": true, "rate": true, "increase": true, "by": true, "histogram_quantile": true, "le": true,
		"max": true, "min": true, "avg": true, "time": true, "irate": true, "clamp_min": true, "or": true, "on": true, "without": true}
	for _, e := range exprs {
		// Strip label matchers and ranges: what remains are metric
		// names, functions and label names in by (...).
		bare := regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|"[^"]*"`).ReplaceAllString(e, "")
		bare = regexp.MustCompile(`by \([^)]*\)`).ReplaceAllString(bare, "")
		names := 0
		for _, id := range ident.FindAllString(bare, -1) {
			if funcs[id] {
				continue
			}
			base := id
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				base = strings.TrimSuffix(base, suf)
			}
			if !known[base] {
				t.Errorf("dashboard query %q uses %s, which /metrics does not expose", e, id)
			}
			names++
		}
		if names == 0 {
			t.Errorf("dashboard query %q names no metric", e)
		}
	}
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// dashboardExprs checks the shape Grafana imports (a title, a uid, a
// schemaVersion, panels each with a type, a title, a gridPos and a
// Prometheus datasource) and returns every query.
func dashboardExprs(t *testing.T, data []byte) []string {
	t.Helper()
	var d struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Panels        []struct {
			Type       string          `json:"type"`
			Title      string          `json:"title"`
			GridPos    *map[string]int `json:"gridPos"`
			Datasource *struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 || len(d.Panels) == 0 {
		t.Fatalf("not a Grafana dashboard: title %q uid %q schemaVersion %d, %d panels", d.Title, d.UID, d.SchemaVersion, len(d.Panels))
	}
	var exprs []string
	for _, p := range d.Panels {
		if p.Type == "" || p.Title == "" || p.GridPos == nil {
			t.Errorf("panel %q lacks a type, title or gridPos", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not query the dashboard's Prometheus datasource", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" {
				t.Errorf("panel %q has a query without expr or refId", p.Title)
			}
			exprs = append(exprs, q.Expr)
		}
	}
	hasDS := false
	for _, v := range d.Templating.List {
		hasDS = hasDS || (v.Name == "datasource" && v.Type == "datasource")
	}
	if !hasDS {
		t.Error("the dashboard has no datasource variable to pick the Prometheus at import")
	}
	return exprs
}
