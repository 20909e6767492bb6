package httpapi

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator/schema_validation"

	"github.com/lawtutor/socratic/internal/testenv"
)

// contractRoutes returns "METHOD /path" for every route in the named
// sections of API.md, with the section's path prefix applied and query
// strings dropped. The contract is read from the repository's copy,
// testdata/contract/API.md, which testenv's tests keep identical to
// ../shared/API.md whenever ../shared is beside the repository.
func contractRoutes(t *testing.T, sections ...string) []string {
	t.Helper()
	apiContract := testenv.Path("contract", "API.md")
	b, err := os.ReadFile(apiContract)
	if err != nil {
		t.Fatalf("the API contract must be readable at %s: %v", apiContract, err)
	}
	want := map[string]bool{}
	for _, s := range sections {
		want[s] = true
	}
	heading := regexp.MustCompile("^## (\\w+)(?:.*?`(/[^`]*)`)?")
	route := regexp.MustCompile("`(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)[^`]*`")
	var out []string
	in, prefix := false, ""
	for _, line := range strings.Split(string(b), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			in, prefix = want[m[1]], m[2]
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		firstCell := strings.SplitN(line[1:], "|", 2)[0]
		for _, m := range route.FindAllStringSubmatch(firstCell, -1) {
			// A row may give a whole path outside its section's prefix
			// (the Tutoring section's course CSV).
			p := prefix + m[2]
			if strings.HasPrefix(m[2], "/api/") {
				p = m[2]
			}
			p = strings.TrimSuffix(p, "/")
			if p == "" {
				p = "/"
			}
			out = append(out, m[1]+" "+p)
		}
	}
	return out
}

func TestOpenAPIIsValid31AndListsEveryContractRoute(t *testing.T) {
	f := newFixture(t)
	res := f.do(get("/openapi.json", ""))
	if res.status != 200 {
		t.Fatalf("openapi: %d", res.status)
	}
	doc, err := libopenapi.NewDocument(res.body)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("version %q, want 3.1.0", v)
	}
	if ok, verrs := validator.ValidateOpenAPIDocument(doc); !ok {
		for _, e := range verrs {
			t.Errorf("invalid OpenAPI: %s: %s", e.Message, e.Reason)
		}
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build model: %v", err)
	}

	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(res.body, &spec); err != nil {
		t.Fatal(err)
	}
	// Every route of the contract (the repository's copy of API.md) is
	// described and really served.
	t.Run("API.md", func(t *testing.T) {
		var routes []string
		for _, r := range contractRoutes(t, "Service", "Auth", "Admin", "Courses", "Documents", "Tutoring") {
			if !laterRoutes[r] {
				routes = append(routes, r)
			}
		}
		if len(routes) < 46 {
			t.Fatalf("read only %d routes from API.md: %v", len(routes), routes)
		}
		for _, r := range routes {
			method, path, _ := strings.Cut(r, " ")
			if _, ok := spec.Paths[path][strings.ToLower(method)]; !ok {
				t.Errorf("API.md route %s is not in /openapi.json", r)
			}
		}
		// Every listed route is really served, not just described.
		for _, r := range routes {
			method, path, _ := strings.Cut(r, " ")
			hasID := strings.Contains(path, "{")
			path = regexp.MustCompile(`\{\w+\}`).ReplaceAllString(path, "1")
			if got := f.do(request{method: method, path: path}); got.status == 404 && !hasID || got.status == 405 {
				t.Errorf("%s %s is not routed: %d", method, path, got.status)
			}
		}
	})
	// The upload documents its multipart body and both of its answers.
	var upload struct {
		RequestBody struct {
			Content map[string]any `json:"content"`
		} `json:"requestBody"`
		Responses map[string]any `json:"responses"`
	}
	if err := json.Unmarshal(spec.Paths["/api/documents/upload"]["post"], &upload); err != nil {
		t.Fatal(err)
	}
	if upload.RequestBody.Content["multipart/form-data"] == nil || upload.Responses["200"] == nil || upload.Responses["202"] == nil || upload.Responses["415"] == nil {
		t.Errorf("upload is not fully described: %s", spec.Paths["/api/documents/upload"]["post"])
	}
	// A message may be refused for its pace or the student's day (429) and
	// for a model at its cap (503), on either route.
	for _, path := range []string{"/api/sessions/{session_id}/message", "/api/sessions/{session_id}/message/stream"} {
		var op struct {
			Responses map[string]any `json:"responses"`
		}
		if err := json.Unmarshal(spec.Paths[path]["post"], &op); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"403", "404", "409", "429", "503"} {
			if op.Responses[code] == nil {
				t.Errorf("POST %s does not document %s", path, code)
			}
		}
	}
	// The login form body is documented beside the JSON one.
	var login struct {
		RequestBody struct {
			Content map[string]any `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(spec.Paths["/api/auth/login"]["post"], &login); err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		if _, ok := login.RequestBody.Content[ct]; !ok {
			t.Errorf("login does not document %s", ct)
		}
	}
}
