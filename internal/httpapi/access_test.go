package httpapi

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
)

// accessMatrix is who gets what on every route of "Courses and weeks" in
// API.md. Read a row as: "when this person calls this route on course LAW 101
// (or its week 1), the server answers …".
//
//	anonymous     nobody signed in
//	enrolled      a student enrolled in LAW 101
//	not enrolled  a student who is not
//	teaching      a professor who teaches LAW 101
//	not teaching  a professor who does not
//	admin         an administrator
//
// 401: sign in first. 404: you may not even know the course exists.
// 403: you can see it but may not change it. Routes that make something new
// (a course, a week) or join answer for their own target, not LAW 101.
var accessMatrix = []struct {
	route                                                          string
	anonymous, enrolled, notEnrolled, teaching, notTeaching, admin int
}{
	//                                                  anonymous enrolled not-enrolled teaching not-teaching admin
	{"GET /api/courses" /*                               */, 401, 200, 200, 200, 200, 200},
	{"POST /api/courses" /*                              */, 401, 403, 403, 201, 201, 201},
	{"POST /api/courses/join" /*                         */, 401, 200, 200, 403, 403, 403},
	{"GET /api/courses/{course_id}" /*                   */, 401, 200, 404, 200, 404, 200},
	{"PATCH /api/courses/{course_id}" /*                 */, 401, 403, 404, 200, 404, 200},
	{"DELETE /api/courses/{course_id}" /*                */, 401, 403, 404, 204, 404, 204},
	{"POST /api/courses/{course_id}/instructors" /*      */, 401, 403, 404, 200, 404, 200},
	{"POST /api/courses/{course_id}/join-code" /*        */, 401, 403, 404, 200, 404, 200},
	{"GET /api/courses/{course_id}/students" /*          */, 401, 403, 404, 200, 404, 200},
	{"POST /api/courses/{course_id}/students" /*         */, 401, 403, 404, 200, 404, 200},
	{"DELETE /api/courses/{course_id}/students/{user_id}", 401, 403, 404, 204, 404, 204},
	{"POST /api/courses/{course_id}/weeks" /*            */, 401, 403, 404, 201, 404, 201},
	{"GET /api/weeks/{week_id}" /*                       */, 401, 200, 404, 200, 404, 200},
	{"PATCH /api/weeks/{week_id}" /*                     */, 401, 403, 404, 200, 404, 200},
	{"DELETE /api/weeks/{week_id}" /*                    */, 401, 403, 404, 204, 404, 204},
	{"POST /api/weeks/{week_id}/search" /*               */, 401, 200, 404, 200, 404, 200},
	{"POST /api/weeks/{week_id}/themes/generate" /*      */, 401, 403, 404, 202, 404, 202},
}

// laterRoutes are in the section but belong to later capabilities.
var laterRoutes = map[string]bool{}

// matrixBodies are the bodies sent; {…} are filled from the world.
var matrixBodies = map[string]string{
	"POST /api/courses":                         `{"code":"LAW 202","name":"Contracts"}`,
	"POST /api/courses/join":                    `{"join_code":"{join_code}"}`,
	"PATCH /api/courses/{course_id}":            `{"name":"Torts (revised)"}`,
	"POST /api/courses/{course_id}/instructors": `{"user_id":{co_teacher_id}}`,
	"POST /api/courses/{course_id}/students":    `{"emails":["outsider@law.example.edu"]}`,
	"POST /api/courses/{course_id}/weeks":       `{"week_number":2,"title":"Negligence"}`,
	"PATCH /api/weeks/{week_id}":                `{"themes":["duty","breach"]}`,
	"POST /api/weeks/{week_id}/search":          `{"query":"battery"}`,
}

// world is LAW 101 with week 1, its teacher, an enrolled student, and people
// who are neither.
type world struct {
	f       *fixture
	course  course.Course
	week    course.Week
	persona map[string]string // column name → token ("" for anonymous)
	fill    *strings.Replacer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return buildWorld(t, newFixture(t))
}

func buildWorld(t testing.TB, f *fixture) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{f: f, persona: map[string]string{"anonymous": ""}}
	outsider := f.addUser("outsider", auth.RoleStudent)
	coTeacher := f.addUser("coteacher", auth.RoleProfessor)
	var err error
	if w.course, err = f.courses.Create(ctx, f.users["professor"], course.NewCourse{Code: "LAW 101", Name: "Torts"}); err != nil {
		t.Fatal(err)
	}
	if _, err = f.courses.Join(ctx, f.users["student"], w.course.JoinCode); err != nil {
		t.Fatal(err)
	}
	if w.week, err = f.courses.CreateWeek(ctx, f.users["professor"], w.course.ID, course.NewWeek{Number: 1, Title: "Intentional torts"}); err != nil {
		t.Fatal(err)
	}
	w.persona["enrolled"] = f.tokenOf["student"]
	w.persona["not enrolled"] = f.tokenOf[outsider]
	w.persona["teaching"] = f.tokenOf["professor"]
	w.persona["not teaching"] = f.tokenOf[coTeacher]
	w.persona["admin"] = f.tokenOf["admin"]
	w.fill = strings.NewReplacer(
		"{course_id}", itoa(w.course.ID),
		"{week_id}", itoa(w.week.ID),
		"{user_id}", itoa(f.users["student"].ID),
		"{co_teacher_id}", itoa(f.users[coTeacher].ID),
		"{join_code}", w.course.JoinCode,
	)
	return w
}

// addUser makes another account and signs a token for it.
func (f *fixture) addUser(username string, role auth.Role) string {
	f.t.Helper()
	u, err := f.auth.CreateUser(context.Background(), nil, auth.NewUser{Email: username + "@law.example.edu", Username: username, Password: testPassword, FullName: "Test " + username, Role: role})
	if err != nil {
		f.t.Fatal(err)
	}
	tok, err := f.tokens.Issue(u)
	if err != nil {
		f.t.Fatal(err)
	}
	f.users[username], f.tokenOf[username] = u, tok
	return username
}

// courseState is everything about courses a refused request must not change.
func (f *fixture) courseState() string {
	f.t.Helper()
	var s string
	err := f.db.Read.QueryRow(`SELECT
		(SELECT coalesce(string_agg(id||'|'||code||'|'||name||'|'||description||'|'||professor_name||'|'||join_code||'|'||updated_at, ';' ORDER BY id), '') FROM courses) || '|' ||
		(SELECT coalesce(string_agg(id||'|'||course_id||'|'||week_number||'|'||title||'|'||themes||'|'||updated_at, ';' ORDER BY id), '') FROM weeks) || '|' ||
		(SELECT coalesce(string_agg(course_id||':'||user_id, ';' ORDER BY course_id, user_id), '') FROM course_instructors) || '|' ||
		(SELECT coalesce(string_agg(course_id||':'||user_id, ';' ORDER BY course_id, user_id), '') FROM enrollments) || '|' ||
		(SELECT count(*) FROM documents) || '|' || (SELECT count(*) FROM audit_log)`).Scan(&s)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func TestAccessMatrix(t *testing.T) {
	columns := []string{"anonymous", "enrolled", "not enrolled", "teaching", "not teaching", "admin"}
	for _, row := range accessMatrix {
		want := []int{row.anonymous, row.enrolled, row.notEnrolled, row.teaching, row.notTeaching, row.admin}
		for i, who := range columns {
			t.Run(fmt.Sprintf("%s/%s", row.route, who), func(t *testing.T) {
				w := newWorld(t)
				method, path, _ := strings.Cut(row.route, " ")
				req := request{method: method, path: w.fill.Replace(path), token: w.persona[who]}
				if b, ok := matrixBodies[row.route]; ok {
					req.body = w.fill.Replace(b)
				}
				before := w.f.courseState()
				res := w.f.do(req)
				if res.status != want[i] {
					t.Fatalf("%s as %s: %d, want %d: %s", row.route, who, res.status, want[i], res.body)
				}
				if res.status >= 400 {
					assertProblem(t, res)
					if after := w.f.courseState(); after != before {
						t.Errorf("a refused request changed courses:\nbefore %s\nafter  %s", before, after)
					}
					if res.status == 401 && res.header.Get("WWW-Authenticate") == "" {
						t.Error("401 without WWW-Authenticate")
					}
				}
			})
		}
	}
}

// TestAccessMatrixCoversTheContract fails when API.md gains a course or week
// route that the matrix does not judge.
func TestAccessMatrixCoversTheContract(t *testing.T) {
	judged := map[string]bool{}
	for _, row := range accessMatrix {
		judged[row.route] = true
	}
	assertJudged(t, "Courses", 15, judged)
}

// assertJudged fails for each route of an API.md section (at least min of
// them) that a matrix does not judge, later capabilities' aside.
func assertJudged(t *testing.T, section string, min int, judged map[string]bool) {
	t.Helper()
	routes := contractRoutes(t, section)
	if len(routes) < min {
		t.Fatalf("read only %d routes from the %s section: %v", len(routes), section, routes)
	}
	for _, r := range routes {
		if !judged[r] && !laterRoutes[r] {
			t.Errorf("API.md route %s has no row in the %s matrix", r, section)
		}
	}
}
