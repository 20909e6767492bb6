package voice

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"
	"time"
)

// WebhookTolerance is how far a post-call webhook's signed timestamp may
// be from now (ElevenLabs' own SDKs use 30 minutes).
const WebhookTolerance = 30 * time.Minute

// Errors of a webhook signature; callers answer 401 for each, in words
// that do not say which.
var (
	ErrSignatureMissing = errors.New("webhook signature: missing or malformed header")
	ErrSignatureStale   = errors.New("webhook signature: timestamp outside the tolerance")
	ErrSignatureBad     = errors.New("webhook signature: does not match the body")
)

// WebhookSignature is a parsed ElevenLabs-Signature header,
// "t=<unix seconds>,v0=<hex HMAC-SHA256>": the header is checked (Parse)
// before the body is read, and the body's MAC (Verify) after it has
// streamed through Hash.
type WebhookSignature struct {
	ts  string
	v0s [][]byte
}

// ParseWebhookSignature reads the header and checks its timestamp against
// now within WebhookTolerance, either side. Several v0 values (a secret
// being rotated) are each accepted.
func ParseWebhookSignature(header string, now time.Time) (WebhookSignature, error) {
	var sig WebhookSignature
	if len(header) > 1024 {
		return sig, ErrSignatureMissing
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			sig.ts = v
		case "v0":
			if mac, err := hex.DecodeString(v); err == nil && len(mac) == sha256.Size {
				sig.v0s = append(sig.v0s, mac)
			}
		}
	}
	t, err := strconv.ParseInt(sig.ts, 10, 64)
	if err != nil || len(sig.v0s) == 0 {
		return WebhookSignature{}, ErrSignatureMissing
	}
	if d := now.Sub(time.Unix(t, 0)); d > WebhookTolerance || d < -WebhookTolerance {
		return WebhookSignature{}, ErrSignatureStale
	}
	return sig, nil
}

// Hash starts the MAC of a body under secret: write the raw body to it as
// it arrives, then Verify.
func (sig WebhookSignature) Hash(secret string) hash.Hash {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(sig.ts + "."))
	return m
}

// Verify compares the body's MAC with the header's, in constant time.
func (sig WebhookSignature) Verify(m hash.Hash) error {
	sum := m.Sum(nil)
	ok := 0
	for _, v := range sig.v0s {
		ok |= boolInt(hmac.Equal(sum, v))
	}
	if ok == 0 {
		return ErrSignatureBad
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SignWebhook is the ElevenLabs-Signature header the platform would send
// for body at t under secret: for tests and the fake server.
func SignWebhook(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v0=" + hex.EncodeToString(m.Sum(nil))
}
