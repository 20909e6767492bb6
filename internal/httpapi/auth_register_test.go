package httpapi

import (
	"strconv"
	"strings"
	"testing"
)

func registerReq(email, username, extra, remote string) request {
	r := post("/api/auth/register", "", `{"email":`+jsonString(email)+`,"username":`+jsonString(username)+`,"password":"a fine long password"`+extra+`}`)
	r.remote = remote
	return r
}

func userCount(t *testing.T, f *fixture) int {
	t.Helper()
	var n int
	if err := f.db.Read.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRegistrationOutsideAllowedDomainsIs422(t *testing.T) {
	f := newFixture(t, func(c *cfgT) { c.EmailDomains = []string{"ou.edu"} })
	for _, email := range []string{"eve@example.com", "eve@law.ou.edu", "eve@ou.edu.example.com", "eve@notou.edu"} {
		res := f.do(registerReq(email, "eve", "", ""))
		if res.status != 422 {
			t.Errorf("%s: %d, want 422: %s", email, res.status, res.body)
			continue
		}
		assertProblem(t, res)
		wantFieldError("body.email")(t, f, res)
	}
	noUser("eve")(t, f, response{})
	if res := f.do(registerReq("Eve@OU.edu", "eve", "", "")); res.status != 201 {
		t.Errorf("an address at the allowed domain, any case: %d, want 201: %s", res.status, res.body)
	}
	// An admin may still create an account at any domain.
	if res := f.do(post("/api/admin/users", f.tokenOf["admin"], `{"email":"guest@example.com","username":"guest","password":"a fine long password","role":"professor"}`)); res.status != 201 {
		t.Errorf("admin-created account outside the domains: %d, want 201", res.status)
	}
}

// One address cannot make accounts in bulk: every attempt with valid fields
// counts, taken names included; another address is not affected.
func TestRegistrationPerAddressThrottleIs429(t *testing.T) {
	f := newFixture(t, func(c *cfgT) { c.RegistrationMaxPerAddress = 3 })
	const bot = "198.51.100.20:1"
	for i := range 2 {
		if res := f.do(registerReq("bot"+strconv.Itoa(i)+"@law.example.edu", "bot"+strconv.Itoa(i), "", bot)); res.status != 201 {
			t.Fatalf("registration %d: %d, want 201: %s", i+1, res.status, res.body)
		}
	}
	if res := f.do(registerReq("student@law.example.edu", "student", "", bot)); res.status != 409 {
		t.Fatalf("taken name: %d, want 409", res.status)
	}
	users := userCount(t, f)
	res := f.do(registerReq("bot9@law.example.edu", "bot9", "", bot))
	if res.status != 429 {
		t.Fatalf("4th attempt from one address: %d, want 429: %s", res.status, res.body)
	}
	assertProblem(t, res)
	if ra, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
		t.Errorf("Retry-After = %q", res.header.Get("Retry-After"))
	}
	if n := userCount(t, f); n != users {
		t.Errorf("a refused registration made an account: %d users, want %d", n, users)
	}
	if res := f.do(registerReq("bot9@law.example.edu", "bot9", "", "203.0.113.20:1")); res.status != 201 {
		t.Errorf("another address: %d, want 201: %s", res.status, res.body)
	}
}

// Taken names are refused before the password is hashed, so repeating a
// registration costs the server nothing much.
func TestDuplicateRegistrationDoesNotHash(t *testing.T) {
	f := newFixture(t)
	before, _ := f.hasher.Counts()
	for i, body := range []string{
		`{"email":"student@law.example.edu","username":"someone","password":"a fine long password"}`,
		`{"email":"someone@law.example.edu","username":"student","password":"a fine long password"}`,
		`{"email":"STUDENT@law.example.edu","username":"Student","password":"a fine long password"}`,
	} {
		if res := f.do(post("/api/auth/register", "", body)); res.status != 409 {
			t.Fatalf("duplicate %d: %d, want 409: %s", i, res.status, res.body)
		}
	}
	if after, _ := f.hasher.Counts(); after != before {
		t.Errorf("three duplicate registrations hashed %d passwords, want 0", after-before)
	}
	if res := f.do(registerReq("fresh@law.example.edu", "fresh", "", "")); res.status != 201 {
		t.Fatalf("fresh registration: %d", res.status)
	}
	if after, _ := f.hasher.Counts(); after != before+1 {
		t.Errorf("a registration hashed %d passwords, want 1", after-before)
	}
}

func TestRegistrationRequiringAJoinCode(t *testing.T) {
	f := newFixture(t, func(c *cfgT) { c.RegistrationRequiresJoinCode = true })
	res := f.do(post("/api/courses", f.tokenOf["professor"], `{"code":"LAW 101","name":"Torts"}`))
	if res.status != 201 {
		t.Fatalf("create course: %d %s", res.status, res.body)
	}
	course := res.json(t)
	code, _ := course["join_code"].(string)
	if code == "" {
		t.Fatalf("no join code in %s", res.body)
	}
	courseID := int64(course["id"].(float64))
	users := userCount(t, f)

	for _, tc := range []struct{ name, extra, why string }{
		{"no code", "", "is required"},
		{"blank code", `,"join_code":"   "`, "is required"},
		{"malformed code", `,"join_code":"nope"`, "must be 12"},
		{"unknown code", `,"join_code":"ABCD-EFGH-JKMN"`, "no course has this join code"},
	} {
		res := f.do(registerReq("ann@law.example.edu", "ann", tc.extra, ""))
		if res.status != 422 {
			t.Errorf("%s: %d, want 422: %s", tc.name, res.status, res.body)
			continue
		}
		assertProblem(t, res)
		wantFieldError("body.join_code")(t, f, res)
		if !strings.Contains(string(res.body), tc.why) {
			t.Errorf("%s: body lacks %q: %s", tc.name, tc.why, res.body)
		}
	}
	if n := userCount(t, f); n != users {
		t.Fatalf("refused registrations left %d accounts behind", n-users)
	}

	// The code as a student copies it by hand: lower case, spaces.
	typed := " " + strings.ToLower(code) + " "
	res = f.do(registerReq("ann@law.example.edu", "ann", `,"join_code":`+jsonString(typed), ""))
	if res.status != 201 {
		t.Fatalf("good code: %d, want 201: %s", res.status, res.body)
	}
	annID := int64(res.json(t)["id"].(float64))
	var enrolled int
	if err := f.db.Read.QueryRow(`SELECT count(*) FROM enrollments WHERE course_id = ? AND user_id = ?`, courseID, annID).Scan(&enrolled); err != nil || enrolled != 1 {
		t.Fatalf("enrolled = %d (%v), want the new account in the course", enrolled, err)
	}
	tok := f.login("ann", "a fine long password")
	if res := f.do(get("/api/courses/"+itoa(courseID), tok)); res.status != 200 {
		t.Errorf("the new student reading their course: %d, want 200", res.status)
	}
}

// A code regenerated between the check and the account's transaction
// refuses the registration and leaves no account behind.
func TestRegistrationJoinCodeIsCheckedInTheTransaction(t *testing.T) {
	f := newFixture(t)
	res := f.do(post("/api/courses", f.tokenOf["professor"], `{"code":"LAW 101","name":"Torts"}`))
	course := res.json(t)
	code := course["join_code"].(string)
	check, then := f.courses.JoinOnRegister(code, "192.0.2.10")
	if err := check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := f.do(post("/api/courses/"+itoa(int64(course["id"].(float64)))+"/join-code", f.tokenOf["professor"], "")); res.status != 200 {
		t.Fatalf("regenerate: %d %s", res.status, res.body)
	}
	tx, err := f.db.Write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := then(t.Context(), tx, f.users["student"]); err == nil {
		t.Fatal("an old code enrolled the account")
	}
}

// Closed registration is 403 whatever the body lacks: a missing join code
// must not answer 422 as if a code would open it.
func TestClosedRegistrationIs403BeforeTheJoinCode(t *testing.T) {
	f := newFixture(t, func(c *cfgT) { c.AllowRegistration = false; c.RegistrationRequiresJoinCode = true })
	for _, extra := range []string{"", `,"join_code":"nope"`} {
		res := f.do(registerReq("ann@law.example.edu", "ann", extra, ""))
		if res.status != 403 {
			t.Errorf("closed registration (extra %q): %d, want 403: %s", extra, res.status, res.body)
		}
		assertProblem(t, res)
	}
}

// A class registering at term start behind one campus NAT fits in the
// default per-address budget.
func TestDefaultRegistrationBudgetFitsACampusNAT(t *testing.T) {
	f := newFixture(t)
	const nat = "198.51.100.30:1"
	for i := range 60 {
		name := "class" + strconv.Itoa(i)
		if res := f.do(registerReq(name+"@law.example.edu", name, "", nat)); res.status != 201 {
			t.Fatalf("student %d of a class behind one NAT: %d, want 201: %s", i+1, res.status, res.body)
		}
	}
}
