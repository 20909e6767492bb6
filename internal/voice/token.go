// Package voice is the voice layer: ElevenLabs (agent and pipeline modes)
// or the browser's own speech. This file holds the per-session secret the
// voice platform carries back to us.
package voice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// SessionTokenKey derives the key that signs session tokens from
// SECRET_KEY, so the token key is never the key that signs access tokens.
func SessionTokenKey(secretKey string) []byte {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte("socratic voice session token v1"))
	return m.Sum(nil)
}

// tokenPayload is the session id and expiry, 16 bytes big-endian.
func tokenPayload(sessionID int64, expires time.Time) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[:8], uint64(sessionID))
	binary.BigEndian.PutUint64(b[8:], uint64(expires.Unix()))
	return b
}

func tokenMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)
}

// SessionToken is the opaque per-session secret handed out at session
// start: the session id and its expiry, and an HMAC-SHA256 of both under
// key (SessionTokenKey). It names the session to whoever holds it, until
// expires.
func SessionToken(key []byte, sessionID int64, expires time.Time) string {
	p := tokenPayload(sessionID, expires)
	enc := base64.RawURLEncoding
	return "vst1." + enc.EncodeToString(p) + "." + enc.EncodeToString(tokenMAC(key, p))
}

// Errors of VerifySessionToken; callers answer 401 for each, in words
// that do not say which.
var (
	ErrTokenMalformed = errors.New("voice session token: malformed")
	ErrTokenForged    = errors.New("voice session token: bad signature")
	ErrTokenExpired   = errors.New("voice session token: expired")
)

// VerifySessionToken checks a token in constant time and returns the
// session it names and that session's expiry. Whether the session is still
// active is the caller's to check, against the database.
func VerifySessionToken(key []byte, token string, now time.Time) (sessionID int64, expires time.Time, err error) {
	rest, ok := strings.CutPrefix(token, "vst1.")
	if !ok || len(token) > 128 {
		return 0, time.Time{}, ErrTokenMalformed
	}
	ps, ms, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, time.Time{}, ErrTokenMalformed
	}
	enc := base64.RawURLEncoding
	p, err1 := enc.DecodeString(ps)
	mac, err2 := enc.DecodeString(ms)
	if err1 != nil || err2 != nil || len(p) != 16 || len(mac) != sha256.Size {
		return 0, time.Time{}, ErrTokenMalformed
	}
	if !hmac.Equal(mac, tokenMAC(key, p)) {
		return 0, time.Time{}, ErrTokenForged
	}
	sessionID = int64(binary.BigEndian.Uint64(p[:8]))
	expires = time.Unix(int64(binary.BigEndian.Uint64(p[8:])), 0).UTC()
	if !now.Before(expires) {
		return 0, time.Time{}, ErrTokenExpired
	}
	return sessionID, expires, nil
}
