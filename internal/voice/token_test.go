package voice

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSessionToken(t *testing.T) {
	key := SessionTokenKey("a secret key of at least thirty-two bytes")
	exp := time.Date(2026, 12, 4, 17, 5, 0, 0, time.UTC)
	tok := SessionToken(key, 42, exp)
	id, gotExp, err := VerifySessionToken(key, tok, exp.Add(-time.Minute))
	if err != nil || id != 42 || !gotExp.Equal(exp) {
		t.Fatalf("verify: %d %v %v", id, gotExp, err)
	}
	if _, _, err := VerifySessionToken(key, tok, exp); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("at expiry: %v, want expired", err)
	}
	other := SessionTokenKey("another secret key of at least thirty-two")
	if _, _, err := VerifySessionToken(other, tok, exp.Add(-time.Minute)); !errors.Is(err, ErrTokenForged) {
		t.Errorf("other key: %v, want forged", err)
	}
	// Another session's token does not name this one, and a token edited
	// to name another session fails its signature.
	tok43 := SessionToken(key, 43, exp)
	mixed := tok43[:strings.LastIndex(tok43, ".")] + tok[strings.LastIndex(tok, "."):]
	if _, _, err := VerifySessionToken(key, mixed, exp.Add(-time.Minute)); !errors.Is(err, ErrTokenForged) {
		t.Errorf("spliced: %v, want forged", err)
	}
	for _, bad := range []string{"", "vst1.", "vst1.a.b", "Bearer " + tok, tok + "x", strings.Repeat("a", 200)} {
		if _, _, err := VerifySessionToken(key, bad, exp.Add(-time.Minute)); err == nil {
			t.Errorf("%q verified", bad)
		}
	}
}
