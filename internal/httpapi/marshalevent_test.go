package httpapi

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestMarshalEventBytes: an SSE event is exactly "event: NAME\ndata:
// JSON\n\n", as API.md has it (and as fmt made it before).
func TestMarshalEventBytes(t *testing.T) {
	for _, c := range []struct {
		event string
		data  any
	}{
		{"delta", deltaEvent{Text: "Why would <the> court & \"its\" opinion matter?\n é 😀 \u2028"}},
		{"delta", deltaEvent{}},
		{"error", errorEvent{Detail: "the tutor could not answer"}},
	} {
		raw, err := json.Marshal(c.data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalEvent(c.event, c.data)
		if want := fmt.Sprintf("event: %s\ndata: %s\n\n", c.event, raw); err != nil || string(got) != want {
			t.Errorf("marshalEvent(%q) = %q, %v; want %q", c.event, got, err, want)
		}
	}
	if _, err := marshalEvent("delta", func() {}); err == nil {
		t.Errorf("an unencodable event encoded")
	}
}
