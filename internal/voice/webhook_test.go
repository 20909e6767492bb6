package voice

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWebhookSignature(t *testing.T) {
	const secret = "wsec_0123456789abcdef"
	body := []byte(`{"type":"post_call_transcription","data":{"conversation_id":"c1"}}`)
	now := time.Unix(1739537297, 0)
	verify := func(header string, body []byte, at time.Time) error {
		sig, err := ParseWebhookSignature(header, at)
		if err != nil {
			return err
		}
		m := sig.Hash(secret)
		m.Write(body)
		return sig.Verify(m)
	}
	good := SignWebhook(secret, body, now)
	if err := verify(good, body, now.Add(29*time.Minute)); err != nil {
		t.Fatalf("a valid signature 29 minutes on: %v", err)
	}
	// The header's parts in another order, with spaces, and a second
	// (rotated) v0 beside the right one.
	parts := strings.Split(good, ",")
	if err := verify(parts[1]+" , "+parts[0]+",v0="+strings.Repeat("ab", 32), body, now); err != nil {
		t.Errorf("reordered with a second v0: %v", err)
	}
	for _, c := range []struct {
		name, header string
		body         []byte
		at           time.Time
		want         error
	}{
		{"missing", "", body, now, ErrSignatureMissing},
		{"no v0", "t=1739537297", body, now, ErrSignatureMissing},
		{"no t", parts[1], body, now, ErrSignatureMissing},
		{"v0 not hex", "t=1739537297,v0=zz", body, now, ErrSignatureMissing},
		{"stale", good, body, now.Add(31 * time.Minute), ErrSignatureStale},
		{"from the future", good, body, now.Add(-31 * time.Minute), ErrSignatureStale},
		{"body changed", good, append([]byte(nil), append(body, ' ')...), now, ErrSignatureBad},
		{"other secret", SignWebhook("another", body, now), body, now, ErrSignatureBad},
		{"timestamp changed", strings.Replace(good, "t=1739537297", "t=1739537298", 1), body, now, ErrSignatureBad},
	} {
		if err := verify(c.header, c.body, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
