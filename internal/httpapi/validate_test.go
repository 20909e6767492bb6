package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
)

// Every answer a test receives through fixture.do is checked against
// /openapi.json: its status is documented for the operation, its media
// type is documented for that status, its body matches the schema (formats
// asserted too), and its documented required headers are there. A
// mismatch fails the test that received it, so the description cannot
// drift from what the server sends.
var (
	specValidatorOnce sync.Once
	specValidator     validator.Validator
	specValidatorErr  error
	// The validator keeps caches; one answer at a time keeps them sound.
	specValidatorMu sync.Mutex
)

func responseValidator(s *Server) (validator.Validator, error) {
	return responseValidatorOf(func() ([]byte, error) {
		out, err := s.openapi(context.Background(), nil)
		if err != nil {
			return nil, err
		}
		return out.Body, nil
	})
}

// responseValidatorOf builds the validator, once, from the description
// spec returns (every test server describes the same routes).
func responseValidatorOf(spec func() ([]byte, error)) (validator.Validator, error) {
	specValidatorOnce.Do(func() {
		b, err := spec()
		if err != nil {
			specValidatorErr = err
			return
		}
		doc, err := libopenapi.NewDocument(b)
		if err != nil {
			specValidatorErr = err
			return
		}
		v, errs := validator.NewValidator(doc, config.WithFormatAssertions(),
			config.WithBodyDecoder("text/event-stream", content.DecoderFunc(decodeEventStream)))
		if len(errs) > 0 {
			specValidatorErr = fmt.Errorf("build validator: %v", errs)
			return
		}
		specValidator = v
	})
	return specValidator, specValidatorErr
}

// decodeEventStream reads a server-sent event stream as the description
// documents it: an array of {"event", "data"}, data parsed as JSON.
func decodeEventStream(in *content.DecodeInput) (any, error) {
	events := []any{}
	if in == nil || in.Body == nil {
		return events, nil
	}
	sc := bufio.NewScanner(in.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var name, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if name == "" && data == "" {
				continue
			}
			var d any = data // OpenAI's stream ends in data: [DONE], not JSON
			if err := json.Unmarshal([]byte(data), &d); err != nil && data != "[DONE]" {
				return nil, fmt.Errorf("event %q: data is not JSON: %w", name, err)
			}
			events = append(events, map[string]any{"event": name, "data": d})
			name, data = "", ""
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data += strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, ":"):
		default:
			return nil, fmt.Errorf("not a server-sent event line: %q", line)
		}
	}
	if name != "" || data != "" {
		return nil, fmt.Errorf("stream ends inside an event")
	}
	return events, sc.Err()
}

// checkResponse validates one answer to method path against the
// description, failing t on a mismatch. Paths the router does not know
// (404 from problemsForUnrouted), methods a path does not have (405) and
// CORS preflights (OPTIONS, answered by the cors middleware) are answered
// outside any operation, and the docs page's and the web client's files are deliberately not
// described (a hidden route), so there is nothing to compare.
func checkResponse(t testing.TB, s *Server, method, path string, res *http.Response) {
	t.Helper()
	for _, v := range responseViolations(t, s, method, path, res) {
		t.Errorf("answer not as /openapi.json describes it: %s %s → %d %s: %s", method, path, res.StatusCode, res.Header.Get("Content-Type"), v)
	}
}

func responseViolations(t testing.TB, s *Server, method, path string, res *http.Response) []string {
	t.Helper()
	v, err := responseValidator(s)
	return violations(t, v, err, method, path, res)
}

func violations(t testing.TB, v validator.Validator, err error, method, path string, res *http.Response) []string {
	t.Helper()
	if err != nil {
		t.Fatalf("response validator: %v", err)
	}
	req := httptest.NewRequest(method, path, nil)
	specValidatorMu.Lock()
	ok, errs := v.ValidateHttpResponse(req, res)
	specValidatorMu.Unlock()
	if ok {
		return nil
	}
	var out []string
	for _, e := range errs {
		if outsideOperations(e) && (res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed || method == http.MethodOptions || strings.HasPrefix(path, docsAssetBase+"/") || strings.HasPrefix(path, appAssetBase+"/")) {
			continue
		}
		msg := e.Message
		if e.Reason != "" {
			msg += ": " + e.Reason
		}
		for _, se := range e.SchemaValidationErrors {
			msg += fmt.Sprintf(" [%s: %s]", se.FieldPath, se.Reason)
		}
		out = append(out, msg)
	}
	return out
}

func outsideOperations(e *verrors.ValidationError) bool {
	return e.ValidationType == helpers.PathValidation && e.ValidationSubType == helpers.ValidationMissing ||
		e.ValidationSubType == helpers.ValidationMissingOperation
}

// The validator itself must catch what it is here to catch: an
// undocumented status, an undocumented media type, a body off its schema,
// and a missing required header.
func TestResponseValidatorCatchesMismatches(t *testing.T) {
	f := newFixture(t)
	answer := func(status int, ct, body string, h ...string) *http.Response {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", ct)
		for i := 0; i+1 < len(h); i += 2 {
			rec.Header().Set(h[i], h[i+1])
		}
		rec.WriteHeader(status)
		rec.WriteString(body)
		return rec.Result()
	}
	good := answer(200, "application/json", `{"status":"ok"}`)
	if v := responseViolations(t, f.srv, "GET", "/api/health/live", good); len(v) != 0 {
		t.Fatalf("a right answer fails: %v", v)
	}
	bad := map[string]*http.Response{
		"status":      answer(418, "application/json", `{"status":"ok"}`),
		"media type":  answer(200, "text/plain", `ok`),
		"schema":      answer(200, "application/json", `{"status":1}`),
		"missing key": answer(200, "application/json", `{}`),
	}
	for name, res := range bad {
		if v := responseViolations(t, f.srv, "GET", "/api/health/live", res); len(v) == 0 {
			t.Errorf("%s: a wrong answer passes", name)
		}
	}
	unauth := answer(401, "application/problem+json", `{"title":"Unauthorized","status":401,"detail":"invalid or expired token"}`)
	if v := responseViolations(t, f.srv, "GET", "/api/auth/me", unauth); len(v) == 0 {
		t.Errorf("a 401 without WWW-Authenticate passes")
	}
	noDetail := answer(404, "application/problem+json", `{"title":"Not Found","status":404}`, "WWW-Authenticate", "Bearer")
	if v := responseViolations(t, f.srv, "GET", "/api/courses/1", noDetail); len(v) == 0 {
		t.Errorf("a problem without detail passes")
	}
	stream := answer(200, "text/event-stream", "event: delta\ndata: {\"text\":\"a\"}\n\nevent: done\ndata: {\"response\":\"a\"}\n\n")
	if v := responseViolations(t, f.srv, "POST", "/api/sessions/1/message/stream", stream); len(v) == 0 {
		t.Errorf("a done event without moderated and remaining_seconds passes")
	}
}

// checkStreamedResponse validates, when the test is over, an answer a test
// read from a real connection (base is the test server's URL): its body is
// recorded as the test reads it, and checked if the test read it to the
// end (a stream the test cut off is not a whole answer).
func checkStreamedResponse(t testing.TB, base, method, path string, res *http.Response) {
	t.Helper()
	rec := &recordingBody{r: res.Body}
	res.Body = rec
	t.Cleanup(func() {
		if !rec.eof {
			return
		}
		v, err := responseValidatorOf(func() ([]byte, error) {
			r, err := http.Get(base + "/openapi.json")
			if err != nil {
				return nil, err
			}
			defer r.Body.Close()
			return io.ReadAll(r.Body)
		})
		whole := &http.Response{StatusCode: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(rec.buf.Bytes()))}
		for _, msg := range violations(t, v, err, method, path, whole) {
			t.Errorf("answer not as /openapi.json describes it: %s %s → %d %s: %s", method, path, res.StatusCode, res.Header.Get("Content-Type"), msg)
		}
	})
}

type recordingBody struct {
	r   io.ReadCloser
	buf bytes.Buffer
	eof bool
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.buf.Write(p[:n])
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *recordingBody) Close() error { return b.r.Close() }

// validating serves s's handler, checking each answer against the
// description as fixture.do does, for clients that are not Go (answers
// are buffered, so not for streams).
func validating(t testing.TB, s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		checkResponse(t, s, r.Method, r.URL.RequestURI(), rec.Result())
	})
}
