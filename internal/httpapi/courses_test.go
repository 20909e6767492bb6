package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// courseCase is one call on a fresh world (LAW 101, week 1, its professor,
// an enrolled student), named by outcome. A refused call must leave courses,
// weeks, instructors, enrollments, documents and the audit log as they were.
type courseCase struct {
	name  string
	setup func(w *world) request
	want  int
	check func(t *testing.T, w *world, res response)
}

func (w *world) as(persona string, method, path, body string) request {
	return request{method: method, path: w.fill.Replace(path), token: w.persona[persona], body: w.fill.Replace(body)}
}

func asP(persona, method, path, body string) func(w *world) request {
	return func(w *world) request { return w.as(persona, method, path, body) }
}

func decode[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, res.body)
	}
	return v
}

func wantAudit(action string, n int) func(t *testing.T, w *world, res response) {
	return func(t *testing.T, w *world, res response) {
		t.Helper()
		var got int
		if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action = ?`, action).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("audit %s entries = %d, want %d", action, got, n)
		}
	}
}

func both(checks ...func(t *testing.T, w *world, res response)) func(t *testing.T, w *world, res response) {
	return func(t *testing.T, w *world, res response) {
		for _, c := range checks {
			c(t, w, res)
		}
	}
}

var courseCases = []courseCase{
	// Creating courses
	{name: "create-course-201-professor-teaches-it", setup: asP("not teaching", "POST", "/api/courses", `{"code":"  LAW   202 ","name":"Contracts","description":"Offer,\nacceptance."}`), want: 201,
		check: both(func(t *testing.T, w *world, res response) {
			c := decode[Course](t, res)
			if c.Code != "LAW 202" || c.Name != "Contracts" || c.Description != "Offer,\nacceptance." || c.ProfessorName != "Test coteacher" {
				t.Errorf("course = %+v", c)
			}
			if !slices.Equal(c.InstructorIDs, []int64{w.f.users["coteacher"].ID}) || len(c.JoinCode) != 14 {
				t.Errorf("instructors %v, join code %q", c.InstructorIDs, c.JoinCode)
			}
		}, wantAudit("course_create", 2))},
	{name: "create-course-201-admin-no-instructor", setup: asP("admin", "POST", "/api/courses", `{"code":"LAW 202","name":"Contracts","professor_name":"Prof. Langdell"}`), want: 201,
		check: func(t *testing.T, w *world, res response) {
			c := decode[Course](t, res)
			if len(c.InstructorIDs) != 0 || c.ProfessorName != "Prof. Langdell" || c.JoinCode == "" {
				t.Errorf("course = %+v", c)
			}
		}},
	{name: "create-course-409-duplicate-code", setup: asP("teaching", "POST", "/api/courses", `{"code":"LAW 101","name":"Again"}`), want: 409},
	{name: "create-course-409-duplicate-code-other-case", setup: asP("not teaching", "POST", "/api/courses", `{"code":"law 101","name":"Again"}`), want: 409},
	{name: "create-course-422-bad-code", setup: asP("teaching", "POST", "/api/courses", `{"code":"LAW/../101","name":"X"}`), want: 422, check: wantFieldLocation("body.code")},
	{name: "create-course-422-blank-name", setup: asP("teaching", "POST", "/api/courses", `{"code":"LAW 9","name":"   "}`), want: 422, check: wantFieldLocation("body.name")},
	{name: "create-course-422-bidi-override", setup: asP("teaching", "POST", "/api/courses", `{"code":"LAW 9","name":"Torts\u202e"}`), want: 422},
	{name: "create-course-422-missing-name", setup: asP("teaching", "POST", "/api/courses", `{"code":"LAW 9"}`), want: 422},

	// Reading
	{name: "list-courses-200-student-sees-enrolled-only", setup: func(w *world) request {
		if _, err := w.f.courses.Create(context.Background(), w.f.users["coteacher"], course.NewCourse{Code: "OTHER 1", Name: "Other"}); err != nil {
			w.f.t.Fatal(err)
		}
		return w.as("enrolled", "GET", "/api/courses", "")
	}, want: 200, check: func(t *testing.T, w *world, res response) {
		l := decode[struct {
			Items []Course `json:"items"`
			Total int      `json:"total"`
		}](t, res)
		if l.Total != 1 || len(l.Items) != 1 || l.Items[0].Code != "LAW 101" || l.Items[0].JoinCode != "" {
			t.Errorf("student's list = %s", res.body)
		}
	}},
	{name: "list-courses-200-admin-sees-all", setup: func(w *world) request {
		if _, err := w.f.courses.Create(context.Background(), w.f.users["coteacher"], course.NewCourse{Code: "OTHER 1", Name: "Other"}); err != nil {
			w.f.t.Fatal(err)
		}
		return w.as("admin", "GET", "/api/courses?limit=1&offset=1", "")
	}, want: 200, check: func(t *testing.T, w *world, res response) {
		l := decode[struct {
			Items []Course `json:"items"`
			Total int      `json:"total"`
		}](t, res)
		if l.Total != 2 || len(l.Items) != 1 || l.Items[0].Code != "OTHER 1" || l.Items[0].JoinCode == "" {
			t.Errorf("admin's second page = %s", res.body)
		}
	}},
	{name: "list-courses-200-not-teaching-sees-none", setup: asP("not teaching", "GET", "/api/courses", ""), want: 200, check: func(t *testing.T, w *world, res response) {
		if strings.TrimSpace(string(res.body)) != `{"items":[],"total":0}` {
			t.Errorf("list = %s", res.body)
		}
	}},
	{name: "get-course-200-student-no-join-code", setup: asP("enrolled", "GET", "/api/courses/{course_id}", ""), want: 200, check: func(t *testing.T, w *world, res response) {
		c := decode[CourseDetail](t, res)
		if c.JoinCode != "" || strings.Contains(string(res.body), "join_code") {
			t.Errorf("student sees the join code: %s", res.body)
		}
		if len(c.Weeks) != 1 || c.Weeks[0].WeekNumber != 1 || c.Weeks[0].Title != "Intentional torts" || c.Weeks[0].Themes == nil {
			t.Errorf("weeks = %+v", c.Weeks)
		}
	}},
	{name: "get-course-200-teacher-sees-join-code", setup: asP("teaching", "GET", "/api/courses/{course_id}", ""), want: 200, check: func(t *testing.T, w *world, res response) {
		if c := decode[CourseDetail](t, res); c.JoinCode != w.course.JoinCode {
			t.Errorf("join code %q, want %q", c.JoinCode, w.course.JoinCode)
		}
	}},
	{name: "get-course-404-unknown", setup: asP("admin", "GET", "/api/courses/999999", ""), want: 404},
	{name: "get-course-422-not-a-number", setup: asP("admin", "GET", "/api/courses/abc", ""), want: 422},
	{name: "get-course-404-demoted-professor", setup: func(w *world) request {
		student := auth.RoleStudent
		if _, err := w.f.auth.UpdateUser(context.Background(), w.f.users["admin"], w.f.users["professor"].ID, auth.Patch{Role: &student}); err != nil {
			w.f.t.Fatal(err)
		}
		w.f.t.Helper()
		return request{method: "GET", path: w.fill.Replace("/api/courses/{course_id}"), token: w.f.login("professor", testPassword)}
	}, want: 404},

	// Changing courses
	{name: "update-course-200", setup: asP("teaching", "PATCH", "/api/courses/{course_id}", `{"code":"LAW 101A","description":"New"}`), want: 200,
		check: both(func(t *testing.T, w *world, res response) {
			c := decode[Course](t, res)
			if c.Code != "LAW 101A" || c.Description != "New" || c.Name != "Torts" {
				t.Errorf("course = %+v", c)
			}
		}, wantAudit("course_update", 1))},
	{name: "update-course-409-code-taken", setup: func(w *world) request {
		if _, err := w.f.courses.Create(context.Background(), w.f.users["admin"], course.NewCourse{Code: "LAW 202", Name: "Contracts"}); err != nil {
			w.f.t.Fatal(err)
		}
		return w.as("teaching", "PATCH", "/api/courses/{course_id}", `{"code":"Law 202"}`)
	}, want: 409},
	{name: "update-course-422-empty-name", setup: asP("teaching", "PATCH", "/api/courses/{course_id}", `{"name":""}`), want: 422},
	{name: "add-instructor-200", setup: asP("teaching", "POST", "/api/courses/{course_id}/instructors", `{"user_id":{co_teacher_id}}`), want: 200,
		check: both(func(t *testing.T, w *world, res response) {
			c := decode[Course](t, res)
			if len(c.InstructorIDs) != 2 {
				t.Errorf("instructors = %v", c.InstructorIDs)
			}
			// The new instructor now sees and teaches the course.
			if got := w.f.do(w.as("not teaching", "GET", "/api/courses/{course_id}/students", "")); got.status != 200 {
				t.Errorf("new instructor lists students: %d", got.status)
			}
		}, wantAudit("instructor_add", 1))},
	{name: "add-instructor-422-student", setup: asP("teaching", "POST", "/api/courses/{course_id}/instructors", `{"user_id":{user_id}}`), want: 422, check: wantFieldLocation("body.user_id")},
	{name: "add-instructor-422-unknown-user", setup: asP("teaching", "POST", "/api/courses/{course_id}/instructors", `{"user_id":424242}`), want: 422},

	// Weeks
	{name: "create-week-201", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"week_number":52,"title":"Review"}`), want: 201,
		check: both(func(t *testing.T, w *world, res response) {
			wk := decode[Week](t, res)
			if wk.WeekNumber != 52 || wk.Title != "Review" || wk.CourseID != w.course.ID || wk.Themes == nil || wk.DocumentCount != 0 {
				t.Errorf("week = %+v", wk)
			}
		}, wantAudit("week_create", 2))},
	{name: "create-week-409-duplicate-number", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"week_number":1}`), want: 409},
	{name: "create-week-422-zero", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"week_number":0}`), want: 422, check: wantFieldLocation("body.week_number")},
	{name: "create-week-422-negative", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"week_number":-3}`), want: 422},
	{name: "create-week-422-over-52", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"week_number":53}`), want: 422},
	{name: "create-week-422-fraction", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"week_number":2.5}`), want: 422},
	{name: "create-week-422-missing-number", setup: asP("teaching", "POST", "/api/courses/{course_id}/weeks", `{"title":"x"}`), want: 422},
	{name: "get-week-200-with-documents", setup: func(w *world) request {
		w.addDocument(w.week.ID, "processed", []byte("%PDF-1.4 reading one"))
		w.addDocument(w.week.ID, "queued", []byte("%PDF-1.4 reading two"))
		return w.as("enrolled", "GET", "/api/weeks/{week_id}", "")
	}, want: 200, check: func(t *testing.T, w *world, res response) {
		wk := decode[WeekDetail](t, res)
		if wk.DocumentCount != 2 || wk.ProcessedDocumentCount != 1 || len(wk.Documents) != 2 || wk.Documents[0].Status != "processed" || wk.Documents[0].OriginalFilename != "reading.pdf" {
			t.Errorf("week = %s", res.body)
		}
	}},
	{name: "update-week-200-themes-cleaned", setup: asP("teaching", "PATCH", "/api/weeks/{week_id}", `{"themes":["  battery ","Assault","battery","", "assault"]}`), want: 200,
		check: both(func(t *testing.T, w *world, res response) {
			if wk := decode[Week](t, res); !slices.Equal(wk.Themes, []string{"battery", "Assault"}) || wk.Title != "Intentional torts" {
				t.Errorf("week = %s", res.body)
			}
		}, wantAudit("week_update", 1))},
	{name: "update-week-422-too-many-themes", setup: asP("teaching", "PATCH", "/api/weeks/{week_id}", `{"themes":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20","21"]}`), want: 422},
	{name: "update-week-422-control-character", setup: asP("teaching", "PATCH", "/api/weeks/{week_id}", `{"themes":["duty\u0000"]}`), want: 422},
	{name: "get-week-404-unknown", setup: asP("admin", "GET", "/api/weeks/999999", ""), want: 404},

	// Joining
	{name: "join-200-typed-loosely", setup: func(w *world) request {
		// Lower case, spaces instead of hyphens, O for 0 and l for 1.
		typed := strings.ToLower(strings.ReplaceAll(w.course.JoinCode, "-", " "))
		typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
		return w.as("not enrolled", "POST", "/api/courses/join", `{"join_code":"`+typed+`"}`)
	}, want: 200, check: both(func(t *testing.T, w *world, res response) {
		if c := decode[Course](t, res); c.ID != w.course.ID || c.JoinCode != "" {
			t.Errorf("joined %s", res.body)
		}
		if got := w.f.do(w.as("not enrolled", "GET", "/api/courses/{course_id}", "")); got.status != 200 {
			t.Errorf("after joining: %d", got.status)
		}
	}, wantAudit("enrollment_add", 2))},
	{name: "join-200-again-no-second-audit", setup: asP("enrolled", "POST", "/api/courses/join", `{"join_code":"{join_code}"}`), want: 200, check: wantAudit("enrollment_add", 1)},
	{name: "join-404-unknown-code", setup: asP("not enrolled", "POST", "/api/courses/join", `{"join_code":"ZZZZ-ZZZZ-ZZZZ"}`), want: 404},
	{name: "join-422-malformed-code", setup: asP("not enrolled", "POST", "/api/courses/join", `{"join_code":"'; DROP TABLE courses;--"}`), want: 422},
	{name: "join-429-after-ten-wrong-codes", setup: func(w *world) request {
		for range 10 {
			if res := w.f.do(w.as("not enrolled", "POST", "/api/courses/join", `{"join_code":"ZZZZ-ZZZZ-ZZZZ"}`)); res.status != 404 {
				w.f.t.Fatalf("wrong code: %d", res.status)
			}
		}
		// Even the right code waits now: the throttle does not tell which is right.
		return w.as("not enrolled", "POST", "/api/courses/join", `{"join_code":"{join_code}"}`)
	}, want: 429, check: func(t *testing.T, w *world, res response) {
		if res.header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	}},
	{name: "regenerate-join-code-200-old-code-stops", setup: asP("teaching", "POST", "/api/courses/{course_id}/join-code", ""), want: 200,
		check: both(func(t *testing.T, w *world, res response) {
			c := decode[Course](t, res)
			if c.JoinCode == "" || c.JoinCode == w.course.JoinCode {
				t.Fatalf("join code %q (old %q)", c.JoinCode, w.course.JoinCode)
			}
			if got := w.f.do(w.as("not enrolled", "POST", "/api/courses/join", `{"join_code":"{join_code}"}`)); got.status != 404 {
				t.Errorf("old code: %d", got.status)
			}
			if got := w.f.do(w.as("not enrolled", "POST", "/api/courses/join", `{"join_code":"`+c.JoinCode+`"}`)); got.status != 200 {
				t.Errorf("new code: %d", got.status)
			}
			// Students already enrolled stay enrolled.
			if got := w.f.do(w.as("enrolled", "GET", "/api/courses/{course_id}", "")); got.status != 200 {
				t.Errorf("enrolled student after regeneration: %d", got.status)
			}
		}, wantAudit("join_code_regenerate", 1))},

	// Enrolment by instructors
	{name: "enroll-200-sorted-into-lists", setup: func(w *world) request {
		w.f.addUser("newstudent", auth.RoleStudent)
		return w.as("teaching", "POST", "/api/courses/{course_id}/students",
			`{"emails":[" NewStudent@Law.Example.edu ","student@law.example.edu","nobody@law.example.edu","not an address","coteacher@law.example.edu","newstudent@law.example.edu"]}`)
	}, want: 200, check: both(func(t *testing.T, w *world, res response) {
		r := decode[struct {
			Enrolled    []string `json:"enrolled"`
			NotFound    []string `json:"not_found"`
			NotStudents []string `json:"not_students"`
		}](t, res)
		if !slices.Equal(r.Enrolled, []string{"newstudent@law.example.edu", "student@law.example.edu"}) ||
			!slices.Equal(r.NotFound, []string{"nobody@law.example.edu", "not an address"}) ||
			!slices.Equal(r.NotStudents, []string{"coteacher@law.example.edu"}) {
			t.Errorf("result = %s", res.body)
		}
		if got := w.f.do(w.as("teaching", "GET", "/api/courses/{course_id}/students", "")); !strings.Contains(string(got.body), `"total":2`) {
			t.Errorf("students = %s", got.body)
		}
	}, wantAudit("enrollment_add", 2))},
	{name: "enroll-422-empty-list", setup: asP("teaching", "POST", "/api/courses/{course_id}/students", `{"emails":[]}`), want: 422},
	{name: "list-students-200-no-secrets", setup: asP("teaching", "GET", "/api/courses/{course_id}/students", ""), want: 200, check: func(t *testing.T, w *world, res response) {
		if !strings.Contains(string(res.body), `"username":"student"`) || strings.Contains(string(res.body), "argon2") || strings.Contains(string(res.body), "password") {
			t.Errorf("students = %s", res.body)
		}
	}},
	{name: "remove-student-204-loses-access", setup: asP("teaching", "DELETE", "/api/courses/{course_id}/students/{user_id}", ""), want: 204,
		check: both(func(t *testing.T, w *world, res response) {
			if got := w.f.do(w.as("enrolled", "GET", "/api/courses/{course_id}", "")); got.status != 404 {
				t.Errorf("removed student sees the course: %d", got.status)
			}
			if got := w.f.do(w.as("enrolled", "GET", "/api/weeks/{week_id}", "")); got.status != 404 {
				t.Errorf("removed student sees the week: %d", got.status)
			}
		}, wantAudit("enrollment_remove", 1))},
	{name: "remove-student-404-not-enrolled", setup: func(w *world) request {
		w.f.addUser("stranger", auth.RoleStudent)
		return w.as("teaching", "DELETE", "/api/courses/{course_id}/students/"+itoa(w.f.users["stranger"].ID), "")
	}, want: 404},

	// Deleting
	{name: "delete-course-204-takes-weeks-documents-files", setup: func(w *world) request {
		w.addDocument(w.week.ID, "processed", []byte("%PDF-1.4 only here"))
		return w.as("teaching", "DELETE", "/api/courses/{course_id}", "")
	}, want: 204, check: both(func(t *testing.T, w *world, res response) {
		w.assertCount(t, "courses", 0)
		w.assertCount(t, "weeks", 0)
		w.assertCount(t, "documents", 0)
		w.assertCount(t, "enrollments", 0)
		w.assertCount(t, "course_instructors", 0)
		w.assertNoFile(t, []byte("%PDF-1.4 only here"))
		if got := w.f.do(w.as("admin", "GET", "/api/courses/{course_id}", "")); got.status != 404 {
			t.Errorf("deleted course: %d", got.status)
		}
	}, wantAudit("course_delete", 1))},
	{name: "delete-course-204-keeps-files-other-courses-use", setup: func(w *world) request {
		other, err := w.f.courses.Create(context.Background(), w.f.users["coteacher"], course.NewCourse{Code: "OTHER 1", Name: "Other"})
		if err != nil {
			w.f.t.Fatal(err)
		}
		ow, err := w.f.courses.CreateWeek(context.Background(), w.f.users["coteacher"], other.ID, course.NewWeek{Number: 1})
		if err != nil {
			w.f.t.Fatal(err)
		}
		w.addDocument(w.week.ID, "processed", []byte("%PDF-1.4 shared reading"))
		w.addDocument(ow.ID, "processed", []byte("%PDF-1.4 shared reading"))
		return w.as("teaching", "DELETE", "/api/courses/{course_id}", "")
	}, want: 204, check: func(t *testing.T, w *world, res response) {
		w.assertCount(t, "documents", 1)
		if _, err := os.Stat(w.blobPath([]byte("%PDF-1.4 shared reading"))); err != nil {
			t.Errorf("a file another course uses was removed: %v", err)
		}
	}},
	{name: "delete-week-204-takes-documents-files", setup: func(w *world) request {
		w.addDocument(w.week.ID, "failed", []byte("%PDF-1.4 week one"))
		return w.as("admin", "DELETE", "/api/weeks/{week_id}", "")
	}, want: 204, check: both(func(t *testing.T, w *world, res response) {
		w.assertCount(t, "weeks", 0)
		w.assertCount(t, "documents", 0)
		w.assertCount(t, "courses", 1)
		w.assertNoFile(t, []byte("%PDF-1.4 week one"))
	}, wantAudit("week_delete", 1))},
	{name: "delete-week-404-twice", setup: func(w *world) request {
		if res := w.f.do(w.as("teaching", "DELETE", "/api/weeks/{week_id}", "")); res.status != 204 {
			w.f.t.Fatalf("first delete: %d", res.status)
		}
		return w.as("teaching", "DELETE", "/api/weeks/{week_id}", "")
	}, want: 404},
}

func TestCourses(t *testing.T) {
	for _, tc := range courseCases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			req := tc.setup(w)
			before := w.f.courseState()
			res := w.f.do(req)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if res.status >= 400 {
				assertProblem(t, res)
				if after := w.f.courseState(); after != before {
					t.Errorf("a refused request changed courses:\nbefore %s\nafter  %s", before, after)
				}
			}
			if tc.check != nil {
				tc.check(t, w, res)
			}
		})
	}
}

func wantFieldLocation(location string) func(t *testing.T, w *world, res response) {
	return func(t *testing.T, w *world, res response) {
		if !strings.Contains(string(res.body), `"location":"`+location+`"`) {
			t.Errorf("no error at %s: %s", location, res.body)
		}
	}
}

// addDocument stores a file the way uploads will (by content hash) and a
// document row naming it, until the ingestion capability makes real ones.
func (w *world) addDocument(weekID int64, status string, content []byte) {
	w.f.t.Helper()
	p := w.blobPath(content)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		w.f.t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o600); err != nil {
		w.f.t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	_, err := w.f.db.Write.Exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'reading.pdf', ?, ?, ?, ?)`,
		weekID, hex.EncodeToString(sum[:]), len(content), status, sqlite.FormatTime(w.week.CreatedAt))
	if err != nil {
		w.f.t.Fatal(err)
	}
}

func (w *world) blobPath(content []byte) string {
	sum := sha256.Sum256(content)
	h := hex.EncodeToString(sum[:])
	return filepath.Join(w.f.cfg.UploadDir, h[:2], h)
}

func (w *world) assertNoFile(t *testing.T, content []byte) {
	t.Helper()
	if _, err := os.Stat(w.blobPath(content)); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
}

func (w *world) assertCount(t *testing.T, table string, want int) {
	t.Helper()
	var n int
	if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%s: %d rows, want %d", table, n, want)
	}
}

// TestJoinConcurrently: 50 requests at once, two per student for 25
// students, all with the same code, leave exactly one enrolment per student,
// one audit entry per student, and no errors.
func TestJoinConcurrently(t *testing.T) {
	w := newWorld(t)
	const students, perStudent = 25, 2
	var names []string
	for i := range students {
		names = append(names, w.f.addUser("joiner"+itoa(int64(i)), auth.RoleStudent))
	}
	body := `{"join_code":"` + w.course.JoinCode + `"}`
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make(chan int, students*perStudent)
	for _, name := range names {
		for range perStudent {
			wg.Go(func() {
				<-start
				statuses <- w.f.do(request{method: "POST", path: "/api/courses/join", token: w.f.tokenOf[name], body: body}).status
			})
		}
	}
	close(start)
	wg.Wait()
	close(statuses)
	n := 0
	for s := range statuses {
		n++
		if s != 200 {
			t.Errorf("join: %d", s)
		}
	}
	if n != students*perStudent {
		t.Fatalf("%d answers", n)
	}
	var enrolled, distinct, audits int
	w.f.db.Read.QueryRow(`SELECT count(*), count(DISTINCT user_id) FROM enrollments WHERE course_id = ? AND user_id != ?`, w.course.ID, w.f.users["student"].ID).Scan(&enrolled, &distinct)
	w.f.db.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'enrollment_add' AND actor_id != ?`, w.f.users["student"].ID).Scan(&audits)
	if enrolled != students || distinct != students || audits != students {
		t.Errorf("enrollments %d (distinct %d), audit entries %d; want %d each", enrolled, distinct, audits, students)
	}
}
