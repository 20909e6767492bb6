package llm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestStreamEventDecodesAsEncodingJSON: the text-delta fast path gives
// exactly what encoding/json gives, for the API's plain form and for every
// near miss (escapes, other keys, order, spacing, bad UTF-8), which fall
// back to it.
func TestStreamEventDecodesAsEncodingJSON(t *testing.T) {
	type plain streamEvent
	delta := func(index, text string) string {
		return `{"type":"content_block_delta","index":` + index + `,"delta":{"type":"text_delta","text":"` + text + `"}}`
	}
	fast := []string{
		delta("0", "Hello"), delta("12", " the court’s view, é 三 —?"), delta("0", ""), delta("3", "(t-7) worship more than comparable"),
	}
	others := []string{
		delta("0", `say \"no\"`), delta("0", `line\nbreak`), delta("0", `\u00e9\ud83d\ude00 \ud800 lone`), delta("0", `a\/b \\ c`),
		delta("0", "bad \xff\xfe utf8"), delta("-1", "x"), delta("0.5", "x"), delta("1e2", "x"), delta("01", "x"), delta("00", "x"),
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","extra":1}}`,
		`{"index":0,"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}`,
		`{"type":"content_block_delta", "index":0,"delta":{"type":"text_delta","text":"x"}}`,
		`{"TYPE":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"},"type":"other"}`,
		`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}}}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}`,
		`{"type":"message_stop"}`, `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tab\there\"}}",
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}` + "\n",
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}`,
		`[1,2]`, `"text"`, `null`,
	}
	for i, data := range append(fast, others...) {
		if _, ok := plainTextDelta([]byte(data)); ok != (i < len(fast)) {
			t.Errorf("fast path taken %v for %q", ok, data)
		}
		var got streamEvent
		var want plain
		gotErr := json.Unmarshal([]byte(data), &got)
		wantErr := json.Unmarshal([]byte(data), &want)
		if (gotErr != nil) != (wantErr != nil) || !reflect.DeepEqual(got, streamEvent(want)) {
			t.Errorf("%q:\n got %+v (%v)\nwant %+v (%v)", data, got, gotErr, want, wantErr)
		}
	}
}
