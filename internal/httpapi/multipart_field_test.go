package httpapi

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
)

// multipartRaw builds a multipart body with one part named field: a file
// part when filename is given, else a plain form field.
func multipartRaw(field, filename string, data []byte) (string, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	var part interface{ Write([]byte) (int, error) }
	if filename != "" {
		part, _ = w.CreateFormFile(field, filename)
	} else {
		part, _ = w.CreateFormField(field)
	}
	part.Write(data)
	w.Close()
	return buf.String(), w.FormDataContentType()
}

// wantFieldProblem checks a 422 that names where the file belongs.
func wantFieldProblem(t *testing.T, res response, location, sentAs string) {
	t.Helper()
	if res.status != 422 {
		t.Fatalf("status %d, want 422: %s", res.status, res.body)
	}
	assertProblem(t, res)
	m := res.json(t)
	list, _ := m["errors"].([]any)
	if len(list) != 1 {
		t.Fatalf("errors %v", m["errors"])
	}
	e, _ := list[0].(map[string]any)
	if e["location"] != location || !strings.Contains(e["message"].(string), `"`+sentAs+`"`) {
		t.Errorf("error %v: want location %s and the field %q named", e, location, sentAs)
	}
}

// TestUploadInAnotherFieldNamesTheField: a PDF sent as "pdf" (or any name
// but "file") is refused with 422 at body.file naming what was sent — not
// 413, not a silent "no file" — and nothing is stored.
func TestUploadInAnotherFieldNamesTheField(t *testing.T) {
	w := newWorld(t)
	pdf := blankPDF(1)
	big := append(append([]byte{}, pdf...), bytes.Repeat([]byte(" "), 100<<10)...)
	for _, tc := range []struct {
		name, field, filename string
		data                  []byte
	}{
		{"upload-422-file-part-named-pdf", "pdf", "reading.pdf", pdf},
		{"upload-422-large-file-part-named-document", "document", "reading.pdf", big},
		{"upload-422-large-plain-field-named-upload", "upload", "", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartRaw(tc.field, tc.filename, tc.data)
			res := w.f.do(request{method: "POST", path: "/api/documents/upload?week_id=" + itoa(w.week.ID), token: w.persona["teaching"], body: body, contentType: ct})
			wantFieldProblem(t, res, "body.file", tc.field)
			if files := w.f.uploadsOnDisk(t); len(files) != 0 {
				t.Errorf("files stored: %v", files)
			}
			w.assertCount(t, "documents", 0)
		})
	}
}

// TestRecordingInAnotherFieldNamesTheField: a recording sent as anything
// but "audio" used to be dropped (the session ended without it) or refused
// as too large; it is 422 at body.audio, and the session stays as it was.
func TestRecordingInAnotherFieldNamesTheField(t *testing.T) {
	w := newSessionWorld(t, nil, func(c *cfgT) {
		c.RateLimitConversationsPerWeek = 100
		c.MaxAudioSize = 1 << 20
	})
	for _, tc := range []struct {
		name, field, filename string
		data                  []byte
	}{
		{"end-422-file-part-named-recording", "recording", "talk.wav", wav(4000)},
		{"end-422-large-file-part-named-file", "file", "talk.wav", wav(200 << 10)},
		{"end-422-large-plain-field-named-blob", "blob", "", wav(200 << 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := w.startAs(t, "enrolled")
			before := w.f.sessionState()
			body, ct := multipartRaw(tc.field, tc.filename, tc.data)
			res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: body, contentType: ct})
			wantFieldProblem(t, res, "body.audio", tc.field)
			if after := w.f.sessionState(); after != before {
				t.Error("a refused end changed the session")
			}
		})
	}
}

// End has no body limit (a recording streams to disk), so the fields it
// reads past are bounded in number and in total size: an owner cannot
// keep the request open with endless small fields.
func TestEndBoundsTheFieldsItSkips(t *testing.T) {
	w := newSessionWorld(t, nil, func(c *cfgT) {
		c.RateLimitConversationsPerWeek = 100
		c.MaxAudioSize = 1 << 20
	})
	for _, tc := range []struct {
		name   string
		fields int
		size   int
	}{
		{"many-small-fields", 40, 10},
		{"large-total", 4, 30 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := w.startAs(t, "enrolled")
			before := w.f.sessionState()
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for i := 0; i < tc.fields; i++ {
				mw.WriteField("note"+itoa(int64(i)), strings.Repeat("x", tc.size))
			}
			mw.Close()
			res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: buf.String(), contentType: mw.FormDataContentType()})
			if res.status != 422 {
				t.Fatalf("status %d, want 422: %s", res.status, res.body)
			}
			assertProblem(t, res)
			if after := w.f.sessionState(); after != before {
				t.Error("a refused end changed the session")
			}
		})
	}
	// A few small fields beside no recording still end the session.
	id := w.startAs(t, "enrolled")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "hello")
	mw.Close()
	if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: buf.String(), contentType: mw.FormDataContentType()}); res.status != 200 {
		t.Fatalf("end with one small field: %d %s", res.status, res.body)
	}
}
