package httpapi

import (
	"fmt"
	"strings"
	"testing"
)

// accountMatrix is who gets what on every route of the Auth and Admin
// sections of API.md. {user_id} is another student, "bystander", so that
// the admin routes act on someone other than the caller.
var accountMatrix = []struct {
	route                                string
	anonymous, student, professor, admin int
}{
	//                                         anonymous student professor admin
	{"POST /api/auth/register" /*           */, 201, 201, 201, 201},
	{"POST /api/auth/login" /*              */, 200, 200, 200, 200},
	{"GET /api/auth/me" /*                  */, 401, 200, 200, 200},
	{"POST /api/auth/password" /*           */, 401, 204, 204, 204},
	{"POST /api/auth/logout" /*             */, 401, 204, 204, 204},
	{"GET /api/auth/me/export" /*           */, 401, 200, 200, 200},
	{"GET /api/admin/users" /*              */, 401, 403, 403, 200},
	{"POST /api/admin/users" /*             */, 401, 403, 403, 201},
	{"PATCH /api/admin/users/{user_id}" /*  */, 401, 403, 403, 200},
	{"DELETE /api/admin/users/{user_id}" /* */, 401, 403, 403, 204},
	{"GET /api/admin/audit" /*              */, 401, 403, 403, 200},
	{"GET /api/admin/stats" /*              */, 401, 403, 403, 200},
}

var accountBodies = map[string]string{
	"POST /api/auth/register":          `{"email":"newbie@law.example.edu","username":"newbie","password":"a fine long password"}`,
	"POST /api/auth/login":             `{"username":"bystander","password":"` + testPassword + `"}`,
	"POST /api/auth/password":          `{"current_password":"` + testPassword + `","new_password":"another long passphrase"}`,
	"POST /api/admin/users":            `{"email":"prof2@law.example.edu","username":"prof2","password":"a fine long password","role":"professor"}`,
	"PATCH /api/admin/users/{user_id}": `{"full_name":"Renamed"}`,
}

func TestAccountAccessMatrix(t *testing.T) {
	columns := []string{"anonymous", "student", "professor", "admin"}
	for _, row := range accountMatrix {
		want := []int{row.anonymous, row.student, row.professor, row.admin}
		for i, who := range columns {
			t.Run(fmt.Sprintf("%s/%s", row.route, who), func(t *testing.T) {
				f := newFixture(t)
				f.addUser("bystander", "student")
				method, path, _ := strings.Cut(row.route, " ")
				req := request{method: method, path: strings.ReplaceAll(path, "{user_id}", itoa(f.users["bystander"].ID)), token: f.tokenOf[who], body: accountBodies[row.route]}
				before := f.state()
				res := f.do(req)
				if res.status != want[i] {
					t.Fatalf("%s as %s: %d, want %d: %s", row.route, who, res.status, want[i], res.body)
				}
				if res.status >= 400 {
					assertProblem(t, res)
					if after := f.state(); after != before {
						t.Errorf("a refused request changed accounts or the audit log")
					}
					if res.status == 401 && res.header.Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
				}
			})
		}
	}
}

// TestAccountMatrixCoversTheContract fails when API.md gains an Auth or
// Admin route that the matrix does not judge.
func TestAccountMatrixCoversTheContract(t *testing.T) {
	judged := map[string]bool{}
	for _, row := range accountMatrix {
		judged[row.route] = true
	}
	assertJudged(t, "Auth", 6, judged)
	assertJudged(t, "Admin", 6, judged)
}
