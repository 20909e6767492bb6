package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	tokenKey = []byte("test-signing-key-of-32-bytes-...")
	t0       = time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC)
)

const (
	tokenIss = "socratic"
	tokenAud = "socratic-api"
	tokenTTL = time.Hour
)

// clock is a settable time source for Tokens.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newTokens(c *clock) *Tokens { return NewTokens(tokenKey, tokenIss, tokenAud, tokenTTL, c.Now) }

// validClaims is a token Issue could have produced at now; each refusal case
// changes one thing about it.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "42", "ver": 7, "role": "student",
		"iss": tokenIss, "aud": []string{tokenAud},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(tokenTTL).Unix(),
		"jti": "0123456789abcdef",
	}
}

func signed(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withoutClaim(c jwt.MapClaims, k string) jwt.MapClaims { delete(c, k); return c }

func withClaim(c jwt.MapClaims, k string, v any) jwt.MapClaims { c[k] = v; return c }

// handmade assembles header.payload and, when sign is set, an HS256 MAC
// under our key whatever the header claims.
func handmade(t *testing.T, header map[string]any, c jwt.MapClaims, sign bool) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	s := enc(header) + "." + enc(c)
	var sig []byte
	if sign {
		var err error
		if sig, err = jwt.SigningMethodHS256.Sign(s, tokenKey); err != nil {
			t.Fatal(err)
		}
	}
	return s + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// aroundSizeLimit returns two valid tokens that differ by one byte of
// padding: the longest within maxTokenLen and the shortest over it.
func aroundSizeLimit(t *testing.T) (under, over string) {
	t.Helper()
	for n := 2000; ; n++ {
		s := signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "pad", strings.Repeat("x", n)))
		if len(s) > maxTokenLen {
			if under == "" {
				t.Fatal("padding started above the limit")
			}
			return under, s
		}
		under = s
	}
}

func TestIssuedTokenVerifiesToItsUserAndVersion(t *testing.T) {
	c := &clock{t0}
	tok, err := newTokens(c).Issue(User{ID: 42, TokenVersion: 7, Role: RoleProfessor})
	if err != nil {
		t.Fatal(err)
	}
	// A fresh verifier has an empty cache, so this goes through the parser.
	id, ver, err := newTokens(c).Verify(tok)
	if err != nil || id != 42 || ver != 7 {
		t.Fatalf("Verify = %d, %d, %v; want 42, 7, nil", id, ver, err)
	}
}

func TestTokenTimesAllowFiveSecondsOfSkew(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration // verification time relative to issue
		ok    bool
	}{
		{"accepted at issue", 0, true},
		{"accepted 4s before nbf", -4 * time.Second, true},
		{"refused 6s before nbf", -6 * time.Second, false},
		{"accepted 4s after exp", tokenTTL + 4*time.Second, true},
		{"refused 5s after exp", tokenTTL + 5*time.Second, false},
		{"refused a day after exp", tokenTTL + 24*time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t0}
			tok, err := newTokens(c).Issue(User{ID: 1})
			if err != nil {
				t.Fatal(err)
			}
			c.now = t0.Add(tc.after)
			_, _, err = newTokens(c).Verify(tok)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrBadToken) {
				t.Fatalf("Verify: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestForgedOrIncompleteTokensAreRefused(t *testing.T) {
	c := validClaims(t0)
	_, over := aroundSizeLimit(t)
	for _, tc := range []struct{ name, token string }{
		{"empty string", ""},
		{"garbage", "not.a.token"},
		{"signed with another key", signed(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!"), c)},
		{"alg none", handmade(t, map[string]any{"alg": "none", "typ": "JWT"}, c, false)},
		{"alg none with our MAC", handmade(t, map[string]any{"alg": "none", "typ": "JWT"}, c, true)},
		{"HS384 with our key", signed(t, jwt.SigningMethodHS384, tokenKey, c)},
		{"HS512 with our key", signed(t, jwt.SigningMethodHS512, tokenKey, c)},
		{"RS256 header over our MAC", handmade(t, map[string]any{"alg": "RS256", "typ": "JWT"}, c, true)},
		{"wrong iss", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "iss", "someone-else"))},
		{"wrong aud", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "aud", []string{"other-api"}))},
		{"missing aud", signed(t, jwt.SigningMethodHS256, tokenKey, withoutClaim(validClaims(t0), "aud"))},
		{"missing exp", signed(t, jwt.SigningMethodHS256, tokenKey, withoutClaim(validClaims(t0), "exp"))},
		{"missing nbf", signed(t, jwt.SigningMethodHS256, tokenKey, withoutClaim(validClaims(t0), "nbf"))},
		{"missing jti", signed(t, jwt.SigningMethodHS256, tokenKey, withoutClaim(validClaims(t0), "jti"))},
		{"nbf 10s ahead", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "nbf", t0.Add(10*time.Second).Unix()))},
		{"iat 10s ahead", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "iat", t0.Add(10*time.Second).Unix()))},
		{"non-numeric sub", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "sub", "alice"))},
		{"zero sub", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "sub", "0"))},
		{"negative sub", signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "sub", "-3"))},
		{"missing sub", signed(t, jwt.SigningMethodHS256, tokenKey, withoutClaim(validClaims(t0), "sub"))},
		{"one byte over 4096", over},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, _, err := newTokens(&clock{t0}).Verify(tc.token)
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("Verify = %d, %v; want ErrBadToken", id, err)
			}
		})
	}
}

// The refusal table changes one claim of validClaims at a time, so it only
// means something if validClaims itself, and a token just under the size
// limit, are accepted.
func TestHandmadeValidTokenIsAccepted(t *testing.T) {
	under, _ := aroundSizeLimit(t)
	for name, tok := range map[string]string{
		"baseline":            signed(t, jwt.SigningMethodHS256, tokenKey, validClaims(t0)),
		"at the size limit":   under,
		"string aud":          signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "aud", tokenAud)),
		"nbf 4s ahead (skew)": signed(t, jwt.SigningMethodHS256, tokenKey, withClaim(validClaims(t0), "nbf", t0.Add(4*time.Second).Unix())),
	} {
		id, ver, err := newTokens(&clock{t0}).Verify(tok)
		if err != nil || id != 42 || ver != 7 {
			t.Errorf("%s (%d bytes): Verify = %d, %d, %v", name, len(tok), id, ver, err)
		}
	}
}

// A verified token is cached; the cache must not outlive the token's times.
func TestCachedTokenStillExpiresAndRespectsNotBefore(t *testing.T) {
	c := &clock{t0}
	tokens := newTokens(c)
	tok, err := tokens.Issue(User{ID: 9, TokenVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokens.Verify(tok); err != nil {
		t.Fatal(err)
	}
	if _, cached := tokens.cache.get(tok); !cached {
		t.Fatal("a verified token was not cached; this test would not exercise the cache")
	}

	c.now = t0.Add(tokenTTL - time.Second)
	if id, ver, err := tokens.Verify(tok); err != nil || id != 9 || ver != 2 {
		t.Fatalf("cached, before expiry: %d, %d, %v", id, ver, err)
	}
	c.now = t0.Add(tokenTTL + 6*time.Second)
	if _, _, err := tokens.Verify(tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("cached, past expiry: %v, want ErrBadToken", err)
	}
	c.now = t0.Add(-time.Minute)
	if _, _, err := tokens.Verify(tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("cached, before nbf: %v, want ErrBadToken", err)
	}
}

// Refused tokens must not be cached, or a later clock could make them pass.
func TestRefusedTokensAreNotCached(t *testing.T) {
	c := &clock{t0.Add(-time.Minute)}
	tokens := newTokens(c)
	early := signed(t, jwt.SigningMethodHS256, tokenKey, validClaims(t0))
	forged := signed(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!"), validClaims(t0))
	for _, tok := range []string{early, forged} {
		if _, _, err := tokens.Verify(tok); !errors.Is(err, ErrBadToken) {
			t.Fatalf("Verify: %v, want ErrBadToken", err)
		}
	}
	c.now = t0
	if _, _, err := tokens.Verify(forged); !errors.Is(err, ErrBadToken) {
		t.Fatalf("forged token accepted on second try: %v", err)
	}
	if _, _, err := tokens.Verify(early); err != nil {
		t.Fatalf("once valid, the early token should verify: %v", err)
	}
}
