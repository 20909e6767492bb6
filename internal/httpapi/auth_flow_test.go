package httpapi

import (
	"strconv"
	"strings"
	"testing"
)

func loginReq(username, password, remote string) request {
	r := post("/api/auth/login", "", `{"username":"`+username+`","password":"`+password+`"}`)
	r.remote = remote
	return r
}

// The pair (account, address) is throttled tightly; neither the account's
// owner elsewhere nor another account on the guesser's address is locked out
// by the guesser's failures.
func TestLoginThrottleSixthFailureIs429(t *testing.T) {
	f := newFixture(t)
	const attacker = "198.51.100.7:1000"
	for i := 1; i <= 5; i++ {
		if res := f.do(loginReq("student", "wrong password", attacker)); res.status != 401 {
			t.Fatalf("failure %d: %d, want 401", i, res.status)
		}
	}
	res := f.do(loginReq("student", "wrong password", attacker))
	if res.status != 429 {
		t.Fatalf("6th failure: %d, want 429", res.status)
	}
	assertProblem(t, res)
	ra, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 15*60 {
		t.Errorf("Retry-After = %q", res.header.Get("Retry-After"))
	}
	// Even the right password is refused from the guesser's address...
	if res := f.do(loginReq("student", testPassword, attacker)); res.status != 429 {
		t.Errorf("throttled pair, right password: %d, want 429", res.status)
	}
	// ...and by the account's email, which shares the username's budget.
	if res := f.do(loginReq("student@law.example.edu", testPassword, attacker)); res.status != 429 {
		t.Errorf("throttled pair by email: %d, want 429", res.status)
	}
	// The victim signs in from their own address.
	if res := f.do(loginReq("student", testPassword, "203.0.113.50:1")); res.status != 200 {
		t.Errorf("victim from a second address: %d, want 200: %s", res.status, res.body)
	}
	// A bystander behind the guesser's address signs in to their own account.
	if res := f.do(loginReq("professor", testPassword, attacker)); res.status != 200 {
		t.Errorf("bystander on the guesser's address: %d, want 200: %s", res.status, res.body)
	}
}

func TestLoginThrottleIPv6BlocksCountAsOneAddress(t *testing.T) {
	f := newFixture(t)
	// Rotating addresses inside one IPv6 /64 does not escape the pair limit.
	for i := 1; i <= 5; i++ {
		res := f.do(loginReq("student", "wrong password", "[2001:db8:1:2::"+strconv.Itoa(i)+"]:1"))
		if res.status != 401 {
			t.Fatalf("failure %d: %d", i, res.status)
		}
	}
	if res := f.do(loginReq("student", testPassword, "[2001:db8:1:2::99]:1")); res.status != 429 {
		t.Errorf("same /64: %d, want 429", res.status)
	}
	if res := f.do(loginReq("student", testPassword, "[2001:db8:1:3::1]:1")); res.status != 200 {
		t.Errorf("other /64: %d, want 200", res.status)
	}
}

// TestAuditTrail walks through every audited action and reads the log back
// through the admin API.
func TestAuditTrail(t *testing.T) {
	f := newFixture(t)
	admin := f.tokenOf["admin"]
	fixtureEntries := float64(f.state().audit) // written by the fixture, not over HTTP
	mustStatus := func(res response, want int) {
		t.Helper()
		if res.status != want {
			t.Fatalf("status %d, want %d: %s", res.status, want, res.body)
		}
	}
	mustStatus(f.do(post("/api/auth/register", "", `{"email":"ann@law.example.edu","username":"ann","password":"ann's secret phrase"}`)), 201)
	mustStatus(f.do(post("/api/auth/login", "", `{"username":"ann","password":"wrong secret phrase"}`)), 401)
	tok := f.login("ann", "ann's secret phrase")
	mustStatus(f.do(post("/api/auth/password", tok, `{"current_password":"ann's secret phrase","new_password":"ann's newer phrase"}`)), 204)
	tok = f.login("ann", "ann's newer phrase")
	mustStatus(f.do(post("/api/auth/logout", tok, "")), 204)
	mustStatus(f.do(post("/api/admin/users", admin, `{"email":"pat@law.example.edu","username":"pat","password":"pat's secret phrase","role":"professor"}`)), 201)
	users := f.do(get("/api/admin/users?q=ann", admin)).json(t)["items"].([]any)
	annID := strconv.Itoa(int(users[0].(map[string]any)["id"].(float64)))
	mustStatus(f.do(patch("/api/admin/users/"+annID, admin, `{"role":"professor"}`)), 200)
	mustStatus(f.do(patch("/api/admin/users/"+annID, admin, `{"is_active":false}`)), 200)

	res := f.do(get("/api/admin/audit?limit=200", admin))
	mustStatus(res, 200)
	for _, secret := range []string{"secret phrase", "newer phrase", "argon2"} {
		if strings.Contains(string(res.body), secret) {
			t.Errorf("audit log holds %q", secret)
		}
	}
	seen := map[string]int{}
	for _, it := range res.json(t)["items"].([]any) {
		e := it.(map[string]any)
		seen[e["action"].(string)]++
		if e["id"].(float64) > fixtureEntries && e["ip"] != "192.0.2.10" {
			t.Errorf("entry without ip: %v", e)
		}
	}
	for _, action := range []string{"register", "login_failure", "login_success", "password_change", "logout", "user_create", "role_change", "activation_change"} {
		if seen[action] == 0 {
			t.Errorf("no %s entry; saw %v", action, seen)
		}
	}
	// The log cannot be rewritten, not even by our own SQL.
	if _, err := f.db.Write.Exec(`UPDATE audit_log SET action = 'nothing'`); err == nil {
		t.Error("audit_log accepted an UPDATE")
	}
	if _, err := f.db.Write.Exec(`DELETE FROM audit_log`); err == nil {
		t.Error("audit_log accepted a DELETE")
	}
}

func TestMiddlewareHeaders(t *testing.T) {
	f := newFixture(t, func(c *cfgT) {})
	t.Run("request-id-echoed", func(t *testing.T) {
		res := f.do(request{method: "GET", path: "/api/health/live", header: map[string]string{"X-Request-ID": "abc-123"}})
		if res.header.Get("X-Request-ID") != "abc-123" {
			t.Errorf("X-Request-ID = %q", res.header.Get("X-Request-ID"))
		}
	})
	t.Run("request-id-replaced-when-unsafe", func(t *testing.T) {
		res := f.do(request{method: "GET", path: "/api/health/live", header: map[string]string{"X-Request-ID": "bad id\twith\"stuff"}})
		if id := res.header.Get("X-Request-ID"); id == "" || strings.ContainsAny(id, " \t\"") {
			t.Errorf("X-Request-ID = %q", id)
		}
	})
	t.Run("security-headers", func(t *testing.T) {
		res := f.do(get("/api/health", ""))
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"} {
			if res.header.Get(k) != v {
				t.Errorf("%s = %q", k, res.header.Get(k))
			}
		}
		if res.header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS over plain HTTP")
		}
	})
	t.Run("hsts-behind-trusted-tls-proxy", func(t *testing.T) {
		f := newFixture(t, func(c *cfgT) { c.Proxies = mustPrefixes("10.0.0.0/8") })
		res := f.do(request{method: "GET", path: "/api/health/live", remote: "10.1.2.3:555", header: map[string]string{"X-Forwarded-Proto": "https"}})
		if res.header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS behind a TLS-terminating trusted proxy")
		}
		res = f.do(request{method: "GET", path: "/api/health/live", remote: "192.0.2.3:555", header: map[string]string{"X-Forwarded-Proto": "https"}})
		if res.header.Get("Strict-Transport-Security") != "" {
			t.Error("HSTS on an untrusted peer's word")
		}
	})
	t.Run("cors-allowed-origin", func(t *testing.T) {
		res := f.do(request{method: "OPTIONS", path: "/api/auth/login", header: map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}})
		if res.status != 204 || res.header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || !strings.Contains(res.header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight: %d %v", res.status, res.header)
		}
	})
	t.Run("cors-other-origin-refused", func(t *testing.T) {
		res := f.do(request{method: "OPTIONS", path: "/api/auth/login", header: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
		if res.status != 403 || res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from evil: %d %v", res.status, res.header)
		}
		res = f.do(request{method: "GET", path: "/api/health", header: map[string]string{"Origin": "https://evil.example"}})
		if res.header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("CORS allowed an unlisted origin")
		}
	})
	t.Run("forwarded-for-ignored-from-untrusted-peer", func(t *testing.T) {
		// A client that claims to be loopback must not reach /metrics.
		res := f.do(request{method: "GET", path: "/metrics", remote: "192.0.2.9:1", header: map[string]string{"X-Forwarded-For": "127.0.0.1"}})
		if res.status != 403 {
			t.Errorf("spoofed X-Forwarded-For reached metrics: %d", res.status)
		}
	})
}
