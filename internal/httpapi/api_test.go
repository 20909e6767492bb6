package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/config"
)

// apiCase is one call through the real router, named by its outcome.
// setup may change the fixture first; check looks at the answer. For every
// answer of 400 or more the test also asserts that no account changed and,
// unless audits is set, that nothing was written to the audit log.
type apiCase struct {
	name   string
	setup  func(f *fixture) request
	want   int
	audits bool
	check  func(t *testing.T, f *fixture, res response)
}

// claimsFor builds token claims for u that a test then bends.
func claimsFor(u auth.User, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub": strconv.FormatInt(u.ID, 10), "role": string(u.Role), "ver": u.TokenVersion,
		"iss": "socratic", "aud": []string{"socratic-api"},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "test-jti",
	}
}

func sign(t testing.TB, c jwt.MapClaims, key []byte) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// unsignedToken is what an attacker sends with alg "none".
func unsignedToken(c jwt.MapClaims) string {
	p, _ := json.Marshal(c)
	return b64(`{"alg":"none","typ":"JWT"}`) + "." + b64(string(p)) + "."
}

func get(path, token string) request { return request{method: "GET", path: path, token: token} }

func post(path, token, body string) request {
	return request{method: "POST", path: path, token: token, body: body}
}

func patch(path, token, body string) request {
	return request{method: "PATCH", path: path, token: token, body: body}
}

func static(r request) func(*fixture) request { return func(*fixture) request { return r } }

func as(role string, build func(tok string) request) func(*fixture) request {
	return func(f *fixture) request { return build(f.tokenOf[role]) }
}

func wantDetail(detail string) func(t *testing.T, f *fixture, res response) {
	return func(t *testing.T, f *fixture, res response) {
		if got := res.json(t)["detail"]; got != detail {
			t.Errorf("detail = %q, want %q", got, detail)
		}
	}
}

func wantFieldError(location string) func(t *testing.T, f *fixture, res response) {
	return func(t *testing.T, f *fixture, res response) {
		if !strings.Contains(string(res.body), `"location":"`+location+`"`) {
			t.Errorf("no error at %s: %s", location, res.body)
		}
	}
}

// wantRevoked checks that the token the request used is now refused.
func wantTokenRefused(role string) func(t *testing.T, f *fixture, res response) {
	return func(t *testing.T, f *fixture, res response) {
		if got := f.do(get("/api/auth/me", f.tokenOf[role])); got.status != 401 {
			t.Errorf("old %s token after change: %d, want 401", role, got.status)
		}
	}
}

func noUser(username string) func(t *testing.T, f *fixture, res response) {
	return func(t *testing.T, f *fixture, res response) {
		var n int
		f.db.Read.QueryRow(`SELECT count(*) FROM users WHERE username = ?`, username).Scan(&n)
		if n != 0 {
			t.Errorf("user %s exists", username)
		}
	}
}

const badCreds = `{"title":"Unauthorized","status":401,"detail":"incorrect username or password"}`

var apiCases = []apiCase{
	// Service
	{name: "root-200", setup: static(get("/", "")), want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		if m["message"] != "Socratic Law Tutor API" || m["version"] != "0.1.0" {
			t.Errorf("root = %v", m)
		}
	}},
	{name: "health-200-no-secrets", setup: static(get("/api/health", "")), want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		comps := m["components"].(map[string]any)
		if m["status"] != "ok" || comps["database"].(map[string]any)["status"] != "ok" {
			t.Errorf("health = %s", res.body)
		}
		for _, c := range []string{"database", "jobs", "llm", "embeddings", "voice"} {
			if _, ok := comps[c]; !ok {
				t.Errorf("health lacks component %s", c)
			}
		}
		if comps["llm"].(map[string]any)["provider"] != "anthropic" {
			t.Errorf("llm provider = %v", comps["llm"])
		}
		// No model in this fixture: embeddings disabled, search BM25 alone.
		if e := comps["embeddings"].(map[string]any); e["status"] != "disabled" || e["provider"] != "none" {
			t.Errorf("embeddings = %v", e)
		}
		for _, secret := range []string{"sk-ant-must-never-show", "scrape-token-123", string(testKey)} {
			if strings.Contains(string(res.body), secret) {
				t.Errorf("health shows a secret: %s", res.body)
			}
		}
	}},
	{name: "health-live-200", setup: static(get("/api/health/live", "")), want: 200},
	{name: "health-ready-200", setup: static(get("/api/health/ready", "")), want: 200},
	{name: "health-ready-503-pending-migration", setup: func(f *fixture) request {
		p, err := f.db.Migrator()
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := p.Down(context.Background()); err != nil {
			f.t.Fatal(err)
		}
		return get("/api/health/ready", "")
	}, want: 503},
	{name: "openapi-200", setup: static(get("/openapi.json", "")), want: 200, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["openapi"] != "3.1.0" {
			t.Errorf("not OpenAPI 3.1")
		}
	}},
	{name: "docs-200-own-csp", setup: static(get("/docs", "")), want: 200, check: func(t *testing.T, f *fixture, res response) {
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "http") {
			t.Errorf("docs CSP = %q", csp)
		}
		if !strings.Contains(string(res.body), `data-spec-url="/openapi.json"`) {
			t.Errorf("docs page does not load /openapi.json")
		}
	}},
	{name: "metrics-200-loopback", setup: static(request{method: "GET", path: "/metrics", remote: "127.0.0.1:5000"}), want: 200, check: func(t *testing.T, f *fixture, res response) {
		if !strings.Contains(string(res.body), "go_goroutines") {
			t.Errorf("metrics body: %.200s", res.body)
		}
	}},
	{name: "metrics-200-token", setup: static(request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer scrape-token-123"}}), want: 200},
	{name: "metrics-403-remote", setup: static(get("/metrics", "")), want: 403},
	{name: "metrics-403-wrong-token", setup: static(request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer scrape-token-12"}}), want: 403},
	{name: "unknown-route-404", setup: static(get("/api/nope", "")), want: 404},
	{name: "wrong-method-405", setup: static(request{method: "DELETE", path: "/api/auth/me"}), want: 405, check: func(t *testing.T, f *fixture, res response) {
		if res.header.Get("Allow") == "" {
			t.Error("405 without Allow")
		}
	}},

	// Register
	{name: "register-201-student", setup: static(post("/api/auth/register", "", `{"email":"New@Law.example.edu","username":"newbie","password":"a fine long password","full_name":"New Student"}`)), want: 201, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		if m["role"] != "student" || m["email"] != "new@law.example.edu" || m["is_active"] != true || m["full_name"] != "New Student" {
			t.Errorf("registered = %v", m)
		}
		for _, k := range []string{"password", "password_hash", "token_version"} {
			if _, ok := m[k]; ok {
				t.Errorf("user carries %s", k)
			}
		}
		f.login("newbie", "a fine long password")
	}},
	{name: "register-422-role-admin-refused", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"a fine long password","role":"admin"}`)), want: 422, check: noUser("eve")},
	{name: "register-422-unknown-field", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"a fine long password","is_admin":true}`)), want: 422, check: noUser("eve")},
	{name: "register-409-duplicate-email", setup: static(post("/api/auth/register", "", `{"email":"STUDENT@law.example.edu","username":"other","password":"a fine long password"}`)), want: 409, check: wantDetail("that email is already registered")},
	{name: "register-409-duplicate-username", setup: static(post("/api/auth/register", "", `{"email":"other@law.example.edu","username":"Student","password":"a fine long password"}`)), want: 409, check: wantDetail("that username is taken")},
	{name: "register-422-short-password", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"short"}`)), want: 422, check: wantFieldError("body.password")},
	{name: "register-422-password-is-username", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"evelyn12345","password":"Evelyn12345"}`)), want: 422, check: wantFieldError("body.password")},
	{name: "register-422-password-is-email", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"eve@law.example.edu"}`)), want: 422, check: wantFieldError("body.password")},
	{name: "register-422-common-password", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"password123"}`)), want: 422, check: wantFieldError("body.password")},
	{name: "register-422-bad-email", setup: static(post("/api/auth/register", "", `{"email":"Eve <eve@law.example.edu>","username":"eve","password":"a fine long password"}`)), want: 422, check: wantFieldError("body.email")},
	{name: "register-422-unicode-username", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"еve","password":"a fine long password"}`)), want: 422, check: wantFieldError("body.username")},
	{name: "register-422-long-username", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"`+strings.Repeat("e", 300)+`","password":"a fine long password"}`)), want: 422},
	{name: "register-422-sql-looking-username", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"x'); DROP TABLE users;--","password":"a fine long password"}`)), want: 422, check: wantFieldError("body.username")},
	{name: "register-201-sql-looking-name-stored-verbatim", setup: static(post("/api/auth/register", "", `{"email":"bobby@law.example.edu","username":"bobby","password":"a fine long password","full_name":"Robert'); DROP TABLE users;--"}`)), want: 201, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["full_name"] != "Robert'); DROP TABLE users;--" {
			t.Errorf("name = %v", res.json(t)["full_name"])
		}
		f.login("admin", testPassword) // the users table is still there
	}},
	{name: "register-422-control-chars-in-name", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"a fine long password","full_name":"Eve\u202eadmin"}`)), want: 422, check: wantFieldError("body.full_name")},
	{name: "register-400-malformed-json", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu",`)), want: 400},
	{name: "register-422-wrong-types", setup: static(post("/api/auth/register", "", `{"email":5,"username":["eve"],"password":true}`)), want: 422, check: wantFieldError("body.email")},
	{name: "register-422-missing-fields", setup: static(post("/api/auth/register", "", `{}`)), want: 422},
	{name: "register-413-1mb-body", setup: static(post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"a fine long password","full_name":"`+strings.Repeat("x", 1<<20)+`"}`)), want: 413},
	{name: "register-415-not-json", setup: static(request{method: "POST", path: "/api/auth/register", body: "email=eve", contentType: "text/plain"}), want: 415},
	{name: "register-403-closed", setup: func(f *fixture) request {
		// the table runner builds this case's fixture with registration off
		return post("/api/auth/register", "", `{"email":"eve@law.example.edu","username":"eve","password":"a fine long password"}`)
	}, want: 403},

	// Login
	{name: "login-200-json-username", setup: static(post("/api/auth/login", "", `{"username":"student","password":"`+testPassword+`"}`)), want: 200, audits: true, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		if m["token_type"] != "bearer" || m["expires_in"] != float64(3600) || m["access_token"] == "" {
			t.Errorf("login = %v", m)
		}
		if res.header.Get("Cache-Control") != "no-store" {
			t.Error("token answer may be cached")
		}
		if got := f.do(get("/api/auth/me", m["access_token"].(string))); got.status != 200 || got.json(t)["username"] != "student" {
			t.Errorf("me with new token: %d %s", got.status, got.body)
		}
	}},
	{name: "login-200-json-email-any-case", setup: static(post("/api/auth/login", "", `{"username":"Student@LAW.example.edu","password":"`+testPassword+`"}`)), want: 200},
	{name: "login-200-form", setup: static(request{method: "POST", path: "/api/auth/login", contentType: "application/x-www-form-urlencoded", body: "grant_type=password&username=student&password=" + strings.ReplaceAll(testPassword, " ", "+")}), want: 200},
	{name: "login-200-form-by-email", setup: static(request{method: "POST", path: "/api/auth/login", contentType: "application/x-www-form-urlencoded", body: "username=student%40law.example.edu&password=" + strings.ReplaceAll(testPassword, " ", "+")}), want: 200},
	{name: "login-401-wrong-password", setup: static(post("/api/auth/login", "", `{"username":"student","password":"not the password"}`)), want: 401, audits: true, check: func(t *testing.T, f *fixture, res response) {
		if string(res.body) != badCreds+"\n" && string(res.body) != badCreds {
			t.Errorf("body = %s", res.body)
		}
		if res.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}},
	{name: "login-401-unknown-user-same-body", setup: static(post("/api/auth/login", "", `{"username":"nobody","password":"not the password"}`)), want: 401, audits: true, check: func(t *testing.T, f *fixture, res response) {
		if string(res.body) != badCreds+"\n" && string(res.body) != badCreds {
			t.Errorf("body = %s", res.body)
		}
	}},
	{name: "login-401-inactive-user-same-body", setup: static(post("/api/auth/login", "", `{"username":"inactive","password":"`+testPassword+`"}`)), want: 401, audits: true, check: func(t *testing.T, f *fixture, res response) {
		if string(res.body) != badCreds+"\n" && string(res.body) != badCreds {
			t.Errorf("body = %s", res.body)
		}
	}},
	{name: "login-401-sql-looking-username", setup: static(post("/api/auth/login", "", `{"username":"' OR '1'='1","password":"' OR '1'='1"}`)), want: 401, audits: true},
	{name: "login-422-missing-password", setup: static(post("/api/auth/login", "", `{"username":"student"}`)), want: 422, check: wantFieldError("body")},
	{name: "login-413-huge-form", setup: static(request{method: "POST", path: "/api/auth/login", contentType: "application/x-www-form-urlencoded", body: "username=student&password=" + strings.Repeat("x", 1<<20)}), want: 413},
	{name: "login-413-huge-json", setup: static(post("/api/auth/login", "", `{"username":"student","password":"`+strings.Repeat("x", 1<<20)+`"}`)), want: 413},

	// Me and tokens
	{name: "me-200", setup: as("professor", func(tok string) request { return get("/api/auth/me", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		want := []string{"id", "email", "username", "full_name", "role", "is_active", "created_at"}
		if len(m) != len(want) {
			t.Errorf("user fields = %v", m)
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("user lacks %s", k)
			}
		}
		if m["role"] != "professor" {
			t.Errorf("role = %v", m["role"])
		}
	}},
	{name: "me-401-no-token", setup: static(get("/api/auth/me", "")), want: 401, check: func(t *testing.T, f *fixture, res response) {
		if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
		}
		if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("content type = %q", ct)
		}
	}},
	{name: "me-401-basic-auth", setup: static(request{method: "GET", path: "/api/auth/me", header: map[string]string{"Authorization": "Basic c3R1ZGVudDpwYXNz"}}), want: 401},
	{name: "me-401-garbage-token", setup: static(get("/api/auth/me", "not.a.jwt")), want: 401},
	{name: "me-401-expired", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now().Add(-2*time.Hour))
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-not-yet-valid", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now())
		c["nbf"] = time.Now().Add(time.Hour).Unix()
		c["exp"] = time.Now().Add(2 * time.Hour).Unix()
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-issued-in-future", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now())
		c["iat"] = time.Now().Add(time.Hour).Unix()
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-no-expiry", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now())
		delete(c, "exp")
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-other-key", setup: func(f *fixture) request {
		return get("/api/auth/me", sign(f.t, claimsFor(f.users["student"], time.Now()), []byte("another-key-another-key-another-key!!")))
	}, want: 401},
	{name: "me-401-alg-none", setup: func(f *fixture) request {
		return get("/api/auth/me", unsignedToken(claimsFor(f.users["admin"], time.Now())))
	}, want: 401},
	{name: "me-401-alg-rs256-confusion", setup: func(f *fixture) request {
		// An RS256 header over an HMAC made with our key: what an attacker
		// sends hoping the verifier treats the key as an RSA public key.
		p, _ := json.Marshal(claimsFor(f.users["admin"], time.Now()))
		signing := b64(`{"alg":"RS256","typ":"JWT"}`) + "." + b64(string(p))
		sig, _ := jwt.SigningMethodHS256.Sign(signing, testKey)
		return get("/api/auth/me", signing+"."+base64.RawURLEncoding.EncodeToString(sig))
	}, want: 401},
	{name: "me-401-tampered-role", setup: func(f *fixture) request {
		parts := strings.Split(f.tokenOf["student"], ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		parts[1] = b64(strings.Replace(string(raw), `"role":"student"`, `"role":"admin"`, 1))
		return get("/api/auth/me", strings.Join(parts, "."))
	}, want: 401},
	{name: "me-401-wrong-audience", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now())
		c["aud"] = "someone-else"
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-wrong-issuer", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now())
		c["iss"] = "evil"
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-unknown-user", setup: func(f *fixture) request {
		c := claimsFor(f.users["student"], time.Now())
		c["sub"] = "999999"
		return get("/api/auth/me", sign(f.t, c, testKey))
	}, want: 401},
	{name: "me-401-deactivated-user", setup: func(f *fixture) request {
		tok, _ := f.tokens.Issue(f.users["inactive"])
		return get("/api/auth/me", tok)
	}, want: 401},
	{name: "me-401-huge-token", setup: static(get("/api/auth/me", strings.Repeat("a", 10000))), want: 401},
	{name: "me-401-after-logout", setup: func(f *fixture) request {
		if res := f.do(post("/api/auth/logout", f.tokenOf["student"], "")); res.status != 204 {
			f.t.Fatalf("logout: %d", res.status)
		}
		return get("/api/auth/me", f.tokenOf["student"])
	}, want: 401, audits: true},
	{name: "me-401-after-password-change", setup: func(f *fixture) request {
		if res := f.do(post("/api/auth/password", f.tokenOf["student"], `{"current_password":"`+testPassword+`","new_password":"a brand new passphrase"}`)); res.status != 204 {
			f.t.Fatalf("password: %d %s", res.status, res.body)
		}
		return get("/api/auth/me", f.tokenOf["student"])
	}, want: 401, audits: true},
	{name: "me-401-after-role-change", setup: func(f *fixture) request {
		if res := f.do(patch("/api/admin/users/"+strconv.FormatInt(f.users["student"].ID, 10), f.tokenOf["admin"], `{"role":"professor"}`)); res.status != 200 {
			f.t.Fatalf("patch: %d %s", res.status, res.body)
		}
		return get("/api/auth/me", f.tokenOf["student"])
	}, want: 401, audits: true},
	{name: "me-401-after-deactivation", setup: func(f *fixture) request {
		if res := f.do(patch("/api/admin/users/"+strconv.FormatInt(f.users["professor"].ID, 10), f.tokenOf["admin"], `{"is_active":false}`)); res.status != 200 {
			f.t.Fatalf("patch: %d %s", res.status, res.body)
		}
		return get("/api/auth/me", f.tokenOf["professor"])
	}, want: 401, audits: true},

	// Password
	{name: "password-204-old-token-revoked-new-password-works", setup: as("student", func(tok string) request {
		return post("/api/auth/password", tok, `{"current_password":"`+testPassword+`","new_password":"a brand new passphrase"}`)
	}), want: 204, check: func(t *testing.T, f *fixture, res response) {
		wantTokenRefused("student")(t, f, res)
		f.login("student", "a brand new passphrase")
		if got := f.do(post("/api/auth/login", "", `{"username":"student","password":"`+testPassword+`"}`)); got.status != 401 {
			t.Errorf("old password still works: %d", got.status)
		}
	}},
	{name: "password-422-wrong-current", setup: as("student", func(tok string) request {
		return post("/api/auth/password", tok, `{"current_password":"not my password","new_password":"a brand new passphrase"}`)
	}), want: 422, check: wantFieldError("body.current_password")},
	{name: "password-422-weak-new", setup: as("student", func(tok string) request {
		return post("/api/auth/password", tok, `{"current_password":"`+testPassword+`","new_password":"short"}`)
	}), want: 422, check: wantFieldError("body.new_password")},
	{name: "password-422-same-as-username", setup: as("student", func(tok string) request {
		return post("/api/auth/password", tok, `{"current_password":"`+testPassword+`","new_password":"student"}`)
	}), want: 422},
	{name: "password-401-anonymous", setup: static(post("/api/auth/password", "", `{"current_password":"x","new_password":"a brand new passphrase"}`)), want: 401},

	// Logout
	{name: "logout-204-token-revoked", setup: as("professor", func(tok string) request { return post("/api/auth/logout", tok, "") }), want: 204, check: func(t *testing.T, f *fixture, res response) {
		wantTokenRefused("professor")(t, f, res)
		f.login("professor", testPassword)
	}},
	{name: "logout-401-anonymous", setup: static(post("/api/auth/logout", "", "")), want: 401},

	// Admin: users
	{name: "admin-users-200", setup: as("admin", func(tok string) request { return get("/api/admin/users", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		if m["total"] != float64(4) || len(m["items"].([]any)) != 4 {
			t.Errorf("users = %s", res.body)
		}
	}},
	{name: "admin-users-200-role-filter", setup: as("admin", func(tok string) request { return get("/api/admin/users?role=student", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["total"] != float64(2) {
			t.Errorf("students = %s", res.body)
		}
	}},
	{name: "admin-users-200-q-filter", setup: as("admin", func(tok string) request { return get("/api/admin/users?q=PROF", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["total"] != float64(1) {
			t.Errorf("q=PROF = %s", res.body)
		}
	}},
	{name: "admin-users-200-q-percent-is-literal", setup: as("admin", func(tok string) request { return get("/api/admin/users?q=%25", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["total"] != float64(0) {
			t.Errorf("q=%% = %s", res.body)
		}
	}},
	{name: "admin-users-200-paged", setup: as("admin", func(tok string) request { return get("/api/admin/users?limit=1&offset=1", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		if m["total"] != float64(4) || len(m["items"].([]any)) != 1 {
			t.Errorf("page = %s", res.body)
		}
	}},
	{name: "admin-users-422-limit-over-200", setup: as("admin", func(tok string) request { return get("/api/admin/users?limit=500", tok) }), want: 422},
	{name: "admin-users-422-bad-role", setup: as("admin", func(tok string) request { return get("/api/admin/users?role=root", tok) }), want: 422},
	{name: "admin-users-403-student", setup: as("student", func(tok string) request { return get("/api/admin/users", tok) }), want: 403},
	{name: "admin-users-403-professor", setup: as("professor", func(tok string) request { return get("/api/admin/users", tok) }), want: 403},
	{name: "admin-users-401-anonymous", setup: static(get("/api/admin/users", "")), want: 401},
	{name: "admin-create-201-professor", setup: as("admin", func(tok string) request {
		return post("/api/admin/users", tok, `{"email":"prof2@law.example.edu","username":"prof2","password":"a fine long password","role":"professor","full_name":"Prof Two"}`)
	}), want: 201, audits: true, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["role"] != "professor" {
			t.Errorf("created = %s", res.body)
		}
		f.login("prof2", "a fine long password")
	}},
	{name: "admin-create-201-admin", setup: as("admin", func(tok string) request {
		return post("/api/admin/users", tok, `{"email":"root2@law.example.edu","username":"root2","password":"a fine long password","role":"admin"}`)
	}), want: 201},
	{name: "admin-create-409-duplicate", setup: as("admin", func(tok string) request {
		return post("/api/admin/users", tok, `{"email":"professor@law.example.edu","username":"prof3","password":"a fine long password","role":"professor"}`)
	}), want: 409},
	{name: "admin-create-422-unknown-role", setup: as("admin", func(tok string) request {
		return post("/api/admin/users", tok, `{"email":"x@law.example.edu","username":"x12","password":"a fine long password","role":"superuser"}`)
	}), want: 422},
	{name: "admin-create-403-student", setup: as("student", func(tok string) request {
		return post("/api/admin/users", tok, `{"email":"x@law.example.edu","username":"x12","password":"a fine long password","role":"admin"}`)
	}), want: 403, check: noUser("x12")},
	{name: "admin-patch-200-promote", setup: func(f *fixture) request {
		return patch("/api/admin/users/"+strconv.FormatInt(f.users["student"].ID, 10), f.tokenOf["admin"], `{"role":"professor","full_name":"Dr Student"}`)
	}, want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		if m["role"] != "professor" || m["full_name"] != "Dr Student" {
			t.Errorf("patched = %s", res.body)
		}
		wantTokenRefused("student")(t, f, res)
	}},
	{name: "admin-patch-200-reactivate", setup: func(f *fixture) request {
		return patch("/api/admin/users/"+strconv.FormatInt(f.users["inactive"].ID, 10), f.tokenOf["admin"], `{"is_active":true}`)
	}, want: 200, check: func(t *testing.T, f *fixture, res response) {
		f.login("inactive", testPassword)
	}},
	{name: "admin-patch-403-self-deactivate", setup: func(f *fixture) request {
		return patch("/api/admin/users/"+strconv.FormatInt(f.users["admin"].ID, 10), f.tokenOf["admin"], `{"is_active":false}`)
	}, want: 403},
	{name: "admin-patch-403-self-demote", setup: func(f *fixture) request {
		return patch("/api/admin/users/"+strconv.FormatInt(f.users["admin"].ID, 10), f.tokenOf["admin"], `{"role":"student"}`)
	}, want: 403},
	{name: "admin-patch-404-unknown-user", setup: as("admin", func(tok string) request { return patch("/api/admin/users/99999", tok, `{"role":"professor"}`) }), want: 404},
	{name: "admin-patch-422-id-not-a-number", setup: as("admin", func(tok string) request { return patch("/api/admin/users/1%20OR%201=1", tok, `{"role":"professor"}`) }), want: 422},
	{name: "admin-patch-422-bad-role", setup: func(f *fixture) request {
		return patch("/api/admin/users/"+strconv.FormatInt(f.users["student"].ID, 10), f.tokenOf["admin"], `{"role":"god"}`)
	}, want: 422},
	{name: "admin-patch-403-professor", setup: func(f *fixture) request {
		return patch("/api/admin/users/"+strconv.FormatInt(f.users["student"].ID, 10), f.tokenOf["professor"], `{"role":"admin"}`)
	}, want: 403},

	// Admin: audit and stats
	{name: "admin-audit-200-filtered", setup: as("admin", func(tok string) request { return get("/api/admin/audit?action=activation_change", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		m := res.json(t)
		items := m["items"].([]any)
		if m["total"] != float64(1) || len(items) != 1 {
			t.Fatalf("audit = %s", res.body)
		}
		e := items[0].(map[string]any)
		if e["actor_id"] != float64(f.users["admin"].ID) || e["target_id"] != float64(f.users["inactive"].ID) || e["target_type"] != "user" {
			t.Errorf("entry = %v", e)
		}
	}},
	{name: "admin-audit-200-by-actor", setup: func(f *fixture) request {
		return get("/api/admin/audit?actor_id="+strconv.FormatInt(f.users["admin"].ID, 10), f.tokenOf["admin"])
	}, want: 200, check: func(t *testing.T, f *fixture, res response) {
		if res.json(t)["total"] != float64(1) {
			t.Errorf("audit by admin = %s", res.body)
		}
	}},
	{name: "admin-audit-403-student", setup: as("student", func(tok string) request { return get("/api/admin/audit", tok) }), want: 403},
	{name: "admin-stats-200", setup: as("admin", func(tok string) request { return get("/api/admin/stats", tok) }), want: 200, check: func(t *testing.T, f *fixture, res response) {
		var s struct {
			Users     map[string]int `json:"users"`
			Courses   *int           `json:"courses"`
			Documents map[string]int `json:"documents"`
			Sessions  map[string]int `json:"sessions"`
		}
		if err := json.Unmarshal(res.body, &s); err != nil {
			t.Fatal(err)
		}
		if s.Users["student"] != 2 || s.Users["professor"] != 1 || s.Users["admin"] != 1 || s.Courses == nil || len(s.Documents) != 4 || len(s.Sessions) != 3 {
			t.Errorf("stats = %s", res.body)
		}
	}},
	{name: "admin-stats-403-professor", setup: as("professor", func(tok string) request { return get("/api/admin/stats", tok) }), want: 403},
}

func TestAPI(t *testing.T) {
	for _, tc := range apiCases {
		t.Run(tc.name, func(t *testing.T) {
			var f *fixture
			if tc.name == "register-403-closed" {
				f = newFixture(t, func(c *config.Config) { c.AllowRegistration = false })
			} else {
				f = newFixture(t)
			}
			req := tc.setup(f)
			before := f.state()
			res := f.do(req)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if res.status >= 400 {
				assertProblem(t, res)
				after := f.state()
				if after.users != before.users {
					t.Errorf("a refused request changed accounts")
				}
				if !tc.audits && after.audit != before.audit {
					t.Errorf("a refused request wrote %d audit entries", after.audit-before.audit)
				}
			}
			if res.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-ID")
			}
			if tc.check != nil {
				tc.check(t, f, res)
			}
		})
	}
}

// assertProblem checks the RFC 9457 shape every error must have.
func assertProblem(t *testing.T, res response) {
	t.Helper()
	if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("error content type %q: %s", ct, res.body)
	}
	m := res.json(t)
	if m["status"] != float64(res.status) || m["title"] == "" || m["detail"] == nil || m["detail"] == "" {
		t.Errorf("not a problem body: %s", res.body)
	}
	if strings.Contains(string(res.body), "sql") && !strings.Contains(string(res.body), "DROP") {
		t.Errorf("error leaks internals: %s", res.body)
	}
}
