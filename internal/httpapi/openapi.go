package httpapi

import (
	"reflect"
	"sort"

	"github.com/danielgtaylor/huma/v2"
)

func init() {
	// A nil slice in a response is a bug we fix where it is made (every
	// list is sent as [], never null), so the description says arrays are
	// arrays: a generated client then needs no `| null` checks.
	huma.DefaultArrayNullable = false
}

// problemResponse documents an error answer in the problem+json shape.
func problemResponse(desc string) *huma.Response {
	return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{
		"application/problem+json": {Schema: &huma.Schema{Ref: "#/components/schemas/ErrorModel"}},
	}}
}

// binary is the schema of a file in a body or an answer.
func fileSchema(desc string) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "binary", Description: desc}
}

// describeAPI completes the description huma generated from the routes with
// what it cannot know: the sections, the server, the license, the default
// security, the problem shape as we send it, and the headers our refusals
// carry.
func (s *Server) describeAPI() {
	o := s.api.OpenAPI()
	for _, t := range apiTags {
		o.Tags = append(o.Tags, &huma.Tag{Name: t.name, Description: t.desc})
	}
	// Relative: the description is right wherever the server is reached.
	o.Servers = []*huma.Server{{URL: "/", Description: "This server"}}
	// The repository carries no LICENSE file yet: until its owners choose
	// one, nothing is granted, and the description says so rather than
	// inventing a licence.
	o.Info.License = &huma.License{Name: "Proprietary: all rights reserved (no licence has been granted yet)"}
	o.Security = []map[string][]string{{"bearer": {}}}

	// The problem shape we send: huma.NewError (errors.go) always fills
	// title, status and detail, and never type or instance.
	if em := o.Components.Schemas.Map()["ErrorModel"]; em != nil {
		delete(em.Properties, "type")
		delete(em.Properties, "instance")
		em.Required = []string{"title", "status", "detail"}
		em.Description = "An RFC 9457 problem: application/problem+json. `detail` says what to do about it; `errors` lists the fields at fault, when there are any."
	}

	for _, p := range o.Paths {
		for _, op := range []*huma.Operation{p.Get, p.Post, p.Put, p.Patch, p.Delete} {
			if op == nil {
				continue
			}
			for code, r := range op.Responses {
				// Content-Type is the media type's job, not a header's.
				delete(r.Headers, "Content-Type")
				switch code {
				case "401":
					setHeader(r, "WWW-Authenticate", true, huma.TypeString, "Always `Bearer realm=\"socratic\"`: send an access token from POST /api/auth/login.")
				case "429":
					setHeader(r, "Retry-After", true, huma.TypeInteger, "Seconds to wait before trying again.")
				case "503":
					setHeader(r, "Retry-After", false, huma.TypeInteger, "Seconds to wait before trying again, when the server can tell.")
				}
			}
		}
	}
}

func setHeader(r *huma.Response, name string, required bool, typ, desc string) {
	if r.Headers == nil {
		r.Headers = map[string]*huma.Header{}
	}
	r.Headers[name] = &huma.Header{Description: desc, Required: required, Schema: &huma.Schema{Type: typ}}
}

// media documents the success answer of a route whose body huma cannot
// see (raw bytes or a stream): one schema per media type it is sent in.
func media(desc string, content map[string]*huma.Schema) option {
	return option{after: func(o *huma.Operation) {
		code := "200"
		for c := range o.Responses {
			if c[0] == '2' {
				code = c
			}
		}
		r := &huma.Response{Description: desc, Content: map[string]*huma.MediaType{}}
		if old := o.Responses[code]; old != nil {
			r.Headers = old.Headers
		}
		for ct, sch := range content {
			r.Content[ct] = &huma.MediaType{Schema: sch}
		}
		o.Responses[code] = r
	}}
}

// schemaOf registers t's schema under the API's components and returns a
// reference to it.
func (s *Server) schemaOf(v any, hint string) *huma.Schema {
	return s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(v), true, hint)
}

// eventStream documents a text/event-stream answer the way huma's sse
// package does: an array of the events that may come, each an object of
// its event name and its JSON data, so every event's data has a schema.
func (s *Server) eventStream(desc string, events map[string]any) option {
	return option{after: func(o *huma.Operation) {
		names := make([]string, 0, len(events))
		for name := range events {
			names = append(names, name)
		}
		sort.Strings(names)
		item := &huma.Schema{}
		for _, name := range names {
			item.OneOf = append(item.OneOf, &huma.Schema{
				Type:  huma.TypeObject,
				Title: "Event " + name,
				Properties: map[string]*huma.Schema{
					"event": {Type: huma.TypeString, Enum: []any{name}, Description: "The event's name"},
					"data":  s.schemaOf(events[name], name+"Event"),
				},
				Required: []string{"event", "data"},
			})
		}
		o.Responses["200"] = &huma.Response{Description: desc, Content: map[string]*huma.MediaType{
			"text/event-stream": {Schema: &huma.Schema{Type: huma.TypeArray, Items: item}},
		}}
	}}
}
