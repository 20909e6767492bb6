package httpapi

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// specDoc is the part of /openapi.json these tests read.
type specDoc struct {
	Info struct {
		License *struct {
			Name string `json:"name"`
		} `json:"license"`
	} `json:"info"`
	Servers    []map[string]any                     `json:"servers"`
	Security   []map[string][]string                `json:"security"`
	Tags       []struct{ Name, Description string } `json:"tags"`
	Paths      map[string]map[string]specOp         `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]map[string]any  `json:"securitySchemes"`
	} `json:"components"`
}

type specOp struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Tags        []string               `json:"tags"`
	Security    *[]map[string][]string `json:"security"`
	RequestBody *struct {
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Headers map[string]struct {
			Required bool `json:"required"`
		} `json:"headers"`
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

func fetchSpec(t *testing.T) ([]byte, specDoc) {
	t.Helper()
	f := newFixture(t)
	res := f.do(get("/openapi.json", ""))
	if res.status != 200 {
		t.Fatalf("/openapi.json: %d", res.status)
	}
	var d specDoc
	if err := json.Unmarshal(res.body, &d); err != nil {
		t.Fatal(err)
	}
	return res.body, d
}

// TestEveryOperationReadsLikeDocs: every operation has a summary, a
// description of who may call it, and one of the reference's sections;
// every section is described at the top.
func TestEveryOperationReadsLikeDocs(t *testing.T) {
	_, d := fetchSpec(t)
	known := map[string]bool{}
	for _, tag := range d.Tags {
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
		known[tag.Name] = true
	}
	for _, want := range []string{"Service", "Auth", "Admin", "Courses", "Weeks", "Documents", "Sessions", "Voice"} {
		if !known[want] {
			t.Errorf("tag %s is not declared", want)
		}
	}
	n := 0
	for path, ops := range d.Paths {
		for method, op := range ops {
			n++
			where := strings.ToUpper(method) + " " + path
			if strings.TrimSpace(op.Summary) == "" || len(op.Description) < 20 {
				t.Errorf("%s: summary %q, description %q", where, op.Summary, op.Description)
			}
			if len(op.Tags) != 1 || !known[op.Tags[0]] {
				t.Errorf("%s: tags %v, want one of the declared sections", where, op.Tags)
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d operations", n)
	}
}

// TestOpenAPIIsExact checks the description against what the server sends,
// rule by rule (the response validator checks the answers themselves).
func TestOpenAPIIsExact(t *testing.T) {
	raw, d := fetchSpec(t)
	if d.Info.License == nil || d.Info.License.Name == "" {
		t.Error("no info.license")
	}
	if len(d.Servers) == 0 {
		t.Error("no servers entry")
	}
	if s := d.Components.SecuritySchemes["bearer"]; s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("bearer scheme = %v", s)
	}
	for path, ops := range d.Paths {
		for method, op := range ops {
			where := strings.ToUpper(method) + " " + path
			public := opDocs[op.OperationID].desc != "" && !strings.Contains(opDocs[op.OperationID].desc, signedInNote)
			switch {
			case op.Security == nil:
				t.Errorf("%s: no security (public operations say [])", where)
			case public && len(*op.Security) != 0:
				t.Errorf("%s: public, but security %v", where, *op.Security)
			case !public && (len(*op.Security) != 1 || (*op.Security)[0]["bearer"] == nil):
				t.Errorf("%s: signed in, but security %v", where, *op.Security)
			}
			if r, ok := op.Responses["401"]; ok && !r.Headers["WWW-Authenticate"].Required {
				t.Errorf("%s: 401 without WWW-Authenticate", where)
			}
			if r, ok := op.Responses["429"]; ok && !r.Headers["Retry-After"].Required {
				t.Errorf("%s: 429 without Retry-After", where)
			}
			if op.RequestBody != nil && op.RequestBody.Content["application/json"].Schema != nil {
				if _, ok := op.Responses["400"]; !ok {
					t.Errorf("%s: a JSON body, but no 400 for malformed JSON", where)
				}
			}
			if op.RequestBody != nil {
				if mp, ok := op.RequestBody.Content["multipart/form-data"]; ok {
					for name, p := range mp.Schema["properties"].(map[string]any) {
						if p.(map[string]any)["format"] != "binary" {
							t.Errorf("%s: multipart field %s is not format: binary", where, name)
						}
					}
				}
			}
			for code, r := range op.Responses {
				if code[0] == '2' && code != "204" && len(r.Content) == 0 {
					t.Errorf("%s: %s documents no media type", where, code)
				}
				for ct := range r.Content {
					if code[0] == '2' && ct == "application/json" && r.Content[ct].Schema["contentEncoding"] != nil {
						t.Errorf("%s: %s is raw bytes described as JSON", where, code)
					}
				}
			}
		}
	}
	wantTypes := map[string]map[string]bool{
		"/docs":                                     {"text/html": true},
		"/openapi.json":                             {"application/json": true},
		"/metrics":                                  {"text/plain": true, "application/openmetrics-text": true},
		"/api/documents/{document_id}/file":         {"application/pdf": true},
		"/api/sessions/{session_id}/audio":          {"audio/webm": true, "audio/ogg": true, "audio/wav": true, "audio/mpeg": true, "audio/mp4": true},
		"/api/courses/{course_id}/sessions.csv":     {"text/csv": true},
		"/api/sessions/{session_id}/message/stream": {"text/event-stream": true},
		"/": {"application/json": true, "text/html": true},
	}
	for path, want := range wantTypes {
		for _, op := range d.Paths[path] {
			got := map[string]bool{}
			for ct := range op.Responses["200"].Content {
				got[ct] = true
			}
			for ct := range want {
				if !got[ct] {
					t.Errorf("%s: 200 does not document %s (has %v)", path, ct, got)
				}
			}
		}
	}

	// The problem shape as sent.
	var problem struct {
		Required   []string       `json:"required"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(d.Components.Schemas["ErrorModel"], &problem); err != nil {
		t.Fatal(err)
	}
	if strings.Join(problem.Required, ",") != "title,status,detail" || problem.Properties["type"] != nil || problem.Properties["instance"] != nil {
		t.Errorf("ErrorModel: required %v, properties %v", problem.Required, problem.Properties)
	}
	// Lists are arrays, never null; k is optional and has no default.
	if strings.Contains(string(raw), `"type":["array","null"]`) {
		t.Error("a list is described as nullable")
	}
	var search struct {
		Required   []string                  `json:"required"`
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(d.Components.Schemas["SearchInputBody"], &search); err != nil {
		t.Fatal(err)
	}
	if _, hasDefault := search.Properties["k"]["default"]; hasDefault || strings.Contains(strings.Join(search.Required, ","), "k") {
		t.Errorf("search's k: %v, required %v", search.Properties["k"], search.Required)
	}
	// Every health component documents its status.
	var comps struct {
		Properties map[string]struct {
			Ref string `json:"$ref"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(d.Components.Schemas["HealthBodyComponentsStruct"], &comps); err != nil {
		t.Fatal(err)
	}
	for name, p := range comps.Properties {
		var c struct {
			Required []string `json:"required"`
		}
		_ = json.Unmarshal(d.Components.Schemas[strings.TrimPrefix(p.Ref, "#/components/schemas/")], &c)
		if !strings.Contains(","+strings.Join(c.Required, ",")+",", ",status,") {
			t.Errorf("health component %s does not document status", name)
		}
	}
	if len(comps.Properties) != 5 {
		t.Errorf("health components: %v", comps.Properties)
	}
	// Each event of the stream has its data's schema.
	stream := d.Paths["/api/sessions/{session_id}/message/stream"]["post"].Responses["200"].Content["text/event-stream"].Schema
	b, _ := json.Marshal(stream)
	for _, ev := range []string{"delta", "sources", "done", "error"} {
		if !strings.Contains(string(b), `"enum":["`+ev+`"]`) {
			t.Errorf("the stream does not document the %s event: %s", ev, b)
		}
	}
}

// TestOpenAPILintsClean: @redocly/cli's recommended rules find no error in
// the served description.
func TestOpenAPILintsClean(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		testenv.Missing(t, "redocly", "scripts/redocly-for-tests (needs npm: apt-get install npm)")
	}
	out, err := exec.Command(filepath.Join(testenv.Root(), "scripts", "redocly-for-tests")).Output()
	if err != nil {
		testenv.Missing(t, "redocly", "scripts/redocly-for-tests: "+err.Error())
	}
	redocly := strings.TrimSpace(string(out))
	raw, _ := fetchSpec(t)
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redocly, "lint", "--extends=recommended", "--format=stylish", file)
	cmd.Dir = filepath.Dir(file)
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redocly lint (recommended) fails: %v\n%s", err, res)
	}
	t.Logf("redocly lint: %s", lastLine(string(res)))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
