package session

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lawtutor/socratic/internal/moderation"
)

// TestDecodeListIsJSONUnmarshal: decodeList gives what json.Unmarshal
// gives, its shortcut for "[]" (an empty, non-nil slice) included, and
// its errors for what is not an array.
func TestDecodeListIsJSONUnmarshal(t *testing.T) {
	for _, in := range []string{`[]`, `[ ]`, `["sexual","off_topic"]`, `null`, `{}`, `[`, ``} {
		var got, want []moderation.Category
		gotErr, wantErr := decodeList(in, &got), json.Unmarshal([]byte(in), &want)
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%q: decodeList %#v, %v; json.Unmarshal %#v, %v", in, got, gotErr, want, wantErr)
		}
	}
	var flags []Flag
	if err := decodeList(`[{"turn_id":3,"reply_id":4,"categories":["harassment"],"source":"rules","at":"2026-11-18T16:00:00Z"}]`, &flags); err != nil || len(flags) != 1 || flags[0].ReplyID != 4 {
		t.Errorf("a flag: %+v, %v", flags, err)
	}
}
