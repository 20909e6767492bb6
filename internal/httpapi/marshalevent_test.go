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

// TestDeltaEventBytes: appendDeltaEvent writes marshalEvent's bytes for
// every text — plain words (its copy), each byte that JSON escapes or
// encoding/json's HTML escaping changes, non-ASCII and invalid UTF-8 (its
// fallback) — and appends to what the buffer held.
func TestDeltaEventBytes(t *testing.T) {
	texts := []string{"", " the", "Why would the court's opinion matter? (p. 4)", "a~b{c}[d]|e^f`g",
		"<", ">", "&", `"`, `\`, "\x00", "\x1f", "\x7f", "\t", "\n", "\r", "é", "\u2028", "\u2029", "😀", "\xff", "\xc3", "word \xe2\x80"}
	for c := 0; c < 256; c++ {
		texts = append(texts, "x"+string(rune(c))+"y", "x"+string([]byte{byte(c)})+"y")
	}
	for _, text := range texts {
		want, err := marshalEvent("delta", deltaEvent{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendDeltaEvent([]byte("held"), text)
		if err != nil || string(got) != "held"+string(want) {
			t.Errorf("appendDeltaEvent(%q) = %q, %v; want %q", text, got, err, "held"+string(want))
		}
	}
}
