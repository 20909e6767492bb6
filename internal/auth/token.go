package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lawtutor/socratic/internal/errs"
)

// ErrBadToken is every token failure, deliberately alike: a client learns only
// that it must sign in again.
var ErrBadToken = errs.New(errs.Unauthorized, "invalid or expired token")

// maxTokenLen bounds what is parsed; our tokens are ~300 bytes.
const maxTokenLen = 4096

type claims struct {
	Role    string `json:"role"`
	Version int64  `json:"ver"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	cache    verifiedCache
	key      []byte
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

// NewTokens returns a token issuer/verifier. now may be nil (time.Now).
func NewTokens(key []byte, issuer, audience string, ttl time.Duration, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{
		key: key, issuer: issuer, audience: audience, ttl: ttl, now: now,
		// The algorithm is pinned: "none", RS256 (with our key as a "public
		// key") and every other alg is refused before the key is consulted.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		),
	}
}

// TTL is how long an issued token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs a token for u under its current token version.
func (t *Tokens) Issue(u User) (string, error) {
	now := t.now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	c := claims{
		Role:    string(u.Role),
		Version: u.TokenVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(u.ID, 10),
			Issuer:    t.issuer,
			Audience:  jwt.ClaimStrings{t.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        hex.EncodeToString(jti),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return s, nil
}

// Verify checks the signature, algorithm, issuer, audience and times, and
// returns the user id and token version the token was issued under. Whether
// that version is still current is the caller's check against the database.
func (t *Tokens) Verify(token string) (userID, version int64, err error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return 0, 0, ErrBadToken
	}
	now := t.now()
	if v, ok := t.cache.get(token); ok {
		if !v.validAt(now) {
			return 0, 0, ErrBadToken
		}
		return v.userID, v.version, nil
	}
	var c claims
	_, err = t.parser.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		if tok.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("unexpected signing method")
		}
		return t.key, nil
	})
	if err != nil || c.NotBefore == nil || c.ID == "" {
		return 0, 0, ErrBadToken
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, 0, ErrBadToken
	}
	v := verified{userID: id, version: c.Version, exp: c.ExpiresAt.Time, nbf: c.NotBefore.Time}
	if c.IssuedAt != nil {
		v.iat = c.IssuedAt.Time
	}
	t.cache.put(token, v)
	return id, c.Version, nil
}

// leeway is the clock skew tolerated on exp, nbf and iat.
const leeway = 5 * time.Second

// verified is what a checked token proved. Only tokens whose signature
// verified are cached, and only we can sign, so the cache holds tokens we
// issued; the times are re-checked on every use.
type verified struct {
	userID, version int64
	exp, nbf, iat   time.Time
}

func (v verified) validAt(now time.Time) bool {
	return now.Before(v.exp.Add(leeway)) && !now.Add(leeway).Before(v.nbf) && !now.Add(leeway).Before(v.iat)
}

// verifiedCache skips re-parsing a token's JSON on every request (a quarter
// of the cost of an authenticated request). The version and account checks
// against the database still run every time.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]verified
}

const maxCachedTokens = 50_000

func (c *verifiedCache) get(token string) (verified, bool) {
	c.mu.RLock()
	v, ok := c.m[token]
	c.mu.RUnlock()
	return v, ok
}

func (c *verifiedCache) put(token string, v verified) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = make(map[string]verified)
	}
	c.m[token] = v
	c.mu.Unlock()
}
