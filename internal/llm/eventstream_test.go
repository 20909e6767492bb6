package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/packages/ssestream"
)

// TestEventStreamIsTheSDKs: over real HTTP responses, eventStream yields
// the same events and ends with the same error as the SDK's
// ssestream.Stream[streamEvent] (which once used): plain and escaped text
// deltas, every other event, pings, comments, empty and multi-line data,
// error events (an *anthropic.Error of the same type and text), invalid
// JSON, a stream cut mid-event, and a body that is not an event stream.
func TestEventStreamIsTheSDKs(t *testing.T) {
	ev := func(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }
	delta := func(text string) string {
		return ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`+text+`"}}`)
	}
	start := ev("message_start", `{"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":7}}}`) +
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`) + ev("ping", `{"type": "ping"}`)
	end := ev("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}`) + ev("message_stop", `{"type":"message_stop"}`)
	bodies := map[string]string{
		"plain":        start + delta("Hello") + delta(", the court’s") + delta(" view?") + end,
		"escaped":      start + delta(`say \"no\"`) + delta(`line\nbreak`) + delta("bad \xff utf8") + delta("") + end,
		"leading zero": start + ev("content_block_delta", `{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"x"}}`) + end,
		"crlf and comments": strings.ReplaceAll(start+": a comment\n\n"+delta("one")+"data:\n\n"+"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n"+
			"data: \"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"two\"}}\n\n"+end, "\n", "\r\n"),
		"multi-line data":      start + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\ndata: \"delta\":{\"type\":\"text_delta\",\"text\":\"two\"}}\n\n" + end,
		"no event names":       strings.ReplaceAll(start+delta("x")+end, "event: ", "x-event: "),
		"trailing space":       start + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}} \n\n" + end,
		"overloaded":           start + delta("Hel") + ev("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`) + delta("lo"),
		"error not json":       start + ev("error", `overloaded, sorry`),
		"invalid json":         start + delta("a") + ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"b"}`) + delta("c"),
		"cut mid-event":        start + delta("a") + "event: content_block_delta\ndata: {\"type\":\"content_block_de",
		"empty":                "",
		"stops of other forms": start + delta("a") + ev("content_block_stop", `{"type":"content_block_stop","index":00}`) + delta("b"),
		"stops with more": start + delta("a") + ev("content_block_stop", `{"type":"content_block_stop","index":1,"x":2}`) +
			ev("content_block_stop", `{"type":"content_block_stop","index":}`) + delta("b"),
		"stop spaced":               start + delta("a") + ev("content_block_stop", `{"type": "content_block_stop", "index": 12}`) + ev("message_stop", `{"type": "message_stop"}`),
		"type errors":               start + ev("message_start", `{"type":5}`),
		"type error after spaces":   start + ev("message_start", `  {"type":"message_start","message":{"usage":{"input_tokens":"x"}}}`),
		"syntax error after spaces": start + ev("message_delta", `  {"type":"message_delta",}`),
		"stop misnamed":             start + delta("a") + ev("content_block_stop", `{"type":"message_stop"}`) + ev("message_stop", `{"type":"content_block_stop","index":3}`),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("b")
		w.Header().Set("content-type", "text/event-stream")
		if name == "json" {
			w.Header().Set("content-type", "application/json")
			io.WriteString(w, `{"type":"message"}`)
			return
		}
		w.Header().Set("request-id", "req_1")
		io.WriteString(w, bodies[name])
	}))
	defer srv.Close()
	get := func(name string) *http.Response {
		res, err := http.Get(srv.URL + "/?b=" + strings.ReplaceAll(name, " ", "+"))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	type result struct {
		events []streamEvent
		err    string
		typ    string
	}
	describe := func(err error) (string, string) {
		if err == nil {
			return "", ""
		}
		var aerr *anthropic.Error
		if errors.As(err, &aerr) {
			return err.Error(), fmt.Sprintf("api %d %s %s", aerr.StatusCode, aerr.Type(), aerr.RequestID)
		}
		// A JSON error's fields, which a caller could inspect.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return err.Error(), fmt.Sprintf("%T offset %d struct %s field %s", err, te.Offset, te.Struct, te.Field)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return err.Error(), fmt.Sprintf("%T offset %d", err, se.Offset)
		}
		return err.Error(), fmt.Sprintf("%T", err)
	}
	for name := range bodies {
		for _, n := range []string{name, "json"} {
			var mine, sdks result
			s := newEventStream(get(n), nil)
			for s.Next() {
				mine.events = append(mine.events, s.cur)
			}
			mine.err, mine.typ = describe(s.Err())
			s.Close()
			ref := ssestream.NewStream[streamEvent](ssestream.NewDecoder(get(n)), nil)
			for ref.Next() {
				sdks.events = append(sdks.events, ref.Current())
			}
			sdks.err, sdks.typ = describe(ref.Err())
			ref.Close()
			if !reflect.DeepEqual(mine, sdks) {
				t.Errorf("%s:\n ours %+v\n SDK's %+v", n, mine, sdks)
			}
			if n == "plain" && len(mine.events) != 8 {
				t.Errorf("plain: %d events", len(mine.events))
			}
			if n == "overloaded" && !strings.Contains(mine.typ, "overloaded_error") {
				t.Errorf("overloaded: %s", mine.typ)
			}
		}
	}
	// A request that failed before any response: its error, and nothing read.
	failed := errors.New("connection refused")
	if s := newEventStream(nil, failed); s.Next() || s.Err() != failed || s.Close() != nil {
		t.Error("a failed request is not its error")
	}
}
