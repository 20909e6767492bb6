package course

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// addUser stores an account directly (the auth package's own tests cover
// how accounts are made) and returns it as auth would.
func addUser(t *testing.T, db *sqlite.DB, username string, role auth.Role) auth.User {
	t.Helper()
	now := sqlite.FormatTime(time.Now())
	u := auth.User{Email: username + "@law.example.edu", Username: username, FullName: "Prof " + username, Role: role, IsActive: true}
	if err := db.Write.QueryRow(`INSERT INTO users (email, username, full_name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, ?5, ?5) RETURNING id`,
		u.Email, u.Username, u.FullName, string(role), now).Scan(&u.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

func ids(cs []Course) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// TestCoursesOnBothEngines: courses, instructors, enrolments and weeks
// read and write the same on SQLite and PostgreSQL: codes unique without
// case, who sees which course, joining by code, enrolling by address,
// weeks and their themes, and a course's deletion taking its weeks.
func TestCoursesOnBothEngines(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		ctx := context.Background()
		s := NewService(db, Options{})
		admin := addUser(t, db, "root", auth.RoleAdmin)
		prof := addUser(t, db, "prof", auth.RoleProfessor)
		prof2 := addUser(t, db, "prof2", auth.RoleProfessor)
		ann := addUser(t, db, "ann", auth.RoleStudent)
		bob := addUser(t, db, "bob", auth.RoleStudent)

		torts, err := s.Create(ctx, admin, NewCourse{Code: "LAW 101", Name: "Torts"})
		if err != nil {
			t.Fatal(err)
		}
		if len(torts.InstructorIDs) != 0 || torts.JoinCode == "" {
			t.Fatalf("an admin's course: %+v, want no instructors and a join code", torts)
		}
		contracts, err := s.Create(ctx, prof, NewCourse{Code: "LAW 202", Name: "Contracts"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(contracts.InstructorIDs, []int64{prof.ID}) || contracts.ProfessorName != prof.FullName {
			t.Fatalf("a professor's course: %+v, want them as its instructor and professor", contracts)
		}
		if _, err := s.Create(ctx, admin, NewCourse{Code: "law 101", Name: "Again"}); !errors.Is(err, ErrDuplicateCode) {
			t.Fatalf("law 101 beside LAW 101: %v, want %v", err, ErrDuplicateCode)
		}
		c, err := s.AddInstructor(ctx, admin, contracts.ID, prof2.ID)
		if err != nil || !slices.Equal(c.InstructorIDs, []int64{prof.ID, prof2.ID}) {
			t.Fatalf("second instructor: %+v, %v", c.InstructorIDs, err)
		}

		// Joining by code (any case, with dashes) enrols a student once.
		for range 2 {
			c, err := s.Join(ctx, ann, torts.JoinCode[:4]+"-"+torts.JoinCode[4:])
			if err != nil || c.ID != torts.ID || c.JoinCode != "" {
				t.Fatalf("join: %+v, %v (a student never sees the code)", c, err)
			}
		}
		if _, err := s.Join(ctx, ann, "ZZZZ-ZZZZ-ZZZZ"); !errors.Is(err, ErrUnknownJoinCode) {
			t.Fatalf("unknown code: %v", err)
		}
		res, err := s.EnrollByEmail(ctx, prof, contracts.ID, []string{"BOB@law.example.edu", "nobody@law.example.edu", "prof2@law.example.edu", "ann@law.example.edu"})
		if err != nil || !slices.Equal(res.Enrolled, []string{"bob@law.example.edu", "ann@law.example.edu"}) ||
			!slices.Equal(res.NotFound, []string{"nobody@law.example.edu"}) || !slices.Equal(res.NotStudents, []string{"prof2@law.example.edu"}) {
			t.Fatalf("enrol by email: %+v, %v", res, err)
		}
		students, total, err := s.ListStudents(ctx, prof, contracts.ID, 10, 0)
		if err != nil || total != 2 || len(students) != 2 || students[0].ID != ann.ID || students[1].ID != bob.ID {
			t.Fatalf("students: %d %+v, %v", total, students, err)
		}
		if err := s.RemoveStudent(ctx, prof, contracts.ID, bob.ID); err != nil {
			t.Fatal(err)
		}

		// Who sees what.
		for _, tc := range []struct {
			who  auth.User
			want []int64
		}{
			{admin, []int64{torts.ID, contracts.ID}},
			{prof, []int64{contracts.ID}},
			{ann, []int64{torts.ID, contracts.ID}},
			{bob, nil},
		} {
			list, total, err := s.List(ctx, tc.who, 10, 0)
			if err != nil || total != len(tc.want) || !slices.Equal(ids(list), tc.want) {
				t.Errorf("%s sees %v (total %d), %v; want %v", tc.who.Username, ids(list), total, err, tc.want)
			}
		}
		page, total, err := s.List(ctx, admin, 1, 1)
		if err != nil || total != 2 || !slices.Equal(ids(page), []int64{contracts.ID}) {
			t.Fatalf("second page of one: %v (total %d), %v", ids(page), total, err)
		}
		if _, err := s.Get(ctx, bob, contracts.ID); !errors.Is(err, ErrCourseNotFound) {
			t.Fatalf("a student outside the course: %v, want not found", err)
		}

		// Weeks.
		w, err := s.CreateWeek(ctx, prof, contracts.ID, NewWeek{Number: 1, Title: "Offer"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateWeek(ctx, prof, contracts.ID, NewWeek{Number: 1, Title: "Again"}); !errors.Is(err, ErrDuplicateWeek) {
			t.Fatalf("week 1 twice: %v", err)
		}
		themes := []string{"offer and acceptance", "consideration"}
		if _, err := s.UpdateWeek(ctx, prof, w.ID, WeekPatch{Themes: &themes}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetWeek(ctx, ann, w.ID)
		if err != nil || got.Title != "Offer" || !slices.Equal(got.Themes, themes) {
			t.Fatalf("week as stored: %+v, %v", got, err)
		}
		c, err = s.Get(ctx, ann, contracts.ID)
		if err != nil || len(c.Weeks) != 1 || c.Weeks[0].ID != w.ID {
			t.Fatalf("course with its weeks: %+v, %v", c, err)
		}

		if err := s.Delete(ctx, admin, contracts.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetWeek(ctx, admin, w.ID); !errors.Is(err, ErrWeekNotFound) {
			t.Fatalf("a deleted course's week: %v", err)
		}
		if n, err := Count(ctx, db.Read); err != nil || n != 1 {
			t.Fatalf("courses left: %d, %v", n, err)
		}
	})
}

// TestRacingCoursesWithOneCode: courses created at once with one code make
// one course; every other creator is told the code exists (a conflict, not
// an internal error).
func TestRacingCoursesWithOneCode(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		ctx := context.Background()
		s := NewService(db, Options{})
		admin := addUser(t, db, "root", auth.RoleAdmin)
		const n = 8
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := s.Create(ctx, admin, NewCourse{Code: "LAW 101", Name: fmt.Sprint("Torts ", i)})
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		made := 0
		for err := range errc {
			switch {
			case err == nil:
				made++
			case errors.Is(err, ErrDuplicateCode):
			default:
				t.Errorf("a racing create: %v, want success or %v", err, ErrDuplicateCode)
			}
		}
		if n, err := Count(ctx, db.Read); err != nil || made != 1 || n != 1 {
			t.Fatalf("%d creates succeeded, %d courses stored (%v); want 1 and 1", made, n, err)
		}
	})
}

// studyPlaces are the people and courses the study checks' tests ask
// about: an admin, an instructor of contracts (prof), a professor of
// neither course (prof2), a student enrolled in contracts (ann), one
// never enrolled (bob) and one removed from it (cal); torts, an admin's
// course without instructors.
type studyPlaces struct {
	s                                 *Service
	admin, prof, prof2, ann, bob, cal auth.User
	torts, contracts                  Course
}

func newStudyPlaces(t *testing.T, db *sqlite.DB) studyPlaces {
	t.Helper()
	ctx := context.Background()
	p := studyPlaces{s: NewService(db, Options{})}
	p.admin = addUser(t, db, "root", auth.RoleAdmin)
	p.prof = addUser(t, db, "prof", auth.RoleProfessor)
	p.prof2 = addUser(t, db, "prof2", auth.RoleProfessor)
	p.ann = addUser(t, db, "ann", auth.RoleStudent)
	p.bob = addUser(t, db, "bob", auth.RoleStudent)
	p.cal = addUser(t, db, "cal", auth.RoleStudent)
	var err error
	if p.torts, err = p.s.Create(ctx, p.admin, NewCourse{Code: "LAW 101", Name: "Torts"}); err != nil {
		t.Fatal(err)
	}
	if p.contracts, err = p.s.Create(ctx, p.prof, NewCourse{Code: "LAW 202", Name: "Contracts"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.s.EnrollByEmail(ctx, p.prof, p.contracts.ID, []string{"ann@law.example.edu", "cal@law.example.edu"}); err != nil {
		t.Fatal(err)
	}
	if err := p.s.RemoveStudent(ctx, p.prof, p.contracts.ID, p.cal.ID); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p studyPlaces) users() []auth.User {
	return []auth.User{p.admin, p.prof, p.prof2, p.ann, p.bob, p.cal}
}

// sameRefusal says whether two checks answered alike: the same error (or
// none) in words, and notFound for both or neither.
func sameRefusal(got, want, notFound error) bool {
	return fmt.Sprint(got) == fmt.Sprint(want) && errors.Is(got, notFound) == errors.Is(want, notFound)
}

// TestMayStudyDecidesAsAuthorizeCourse: the lean check a turn asks gives
// the same answer as AuthorizeCourse(…, Study), error for error, for each
// role and place in a course (instructor, enrolled, neither), an unknown
// course, a course left, and a deleted one, on both engines.
func TestMayStudyDecidesAsAuthorizeCourse(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		ctx := context.Background()
		p := newStudyPlaces(t, db)
		s, prof, ann, bob, cal, contracts := p.s, p.prof, p.ann, p.bob, p.cal, p.contracts
		gone, err := s.Create(ctx, prof, NewCourse{Code: "LAW 303", Name: "Evidence"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnrollByEmail(ctx, prof, gone.ID, []string{"ann@law.example.edu"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, prof, gone.ID); err != nil {
			t.Fatal(err)
		}
		var allowed, refused int
		for _, u := range p.users() {
			for _, id := range []int64{p.torts.ID, contracts.ID, gone.ID, contracts.ID + 1000} {
				_, want := AuthorizeCourse(ctx, db.Read, u, id, Study)
				got := MayStudy(ctx, db.Read, u, id)
				if !sameRefusal(got, want, ErrCourseNotFound) {
					t.Errorf("%s in course %d: MayStudy says %v, AuthorizeCourse %v", u.Username, id, got, want)
				}
				if want == nil {
					allowed++
				} else {
					refused++
				}
			}
		}
		// Each kind of answer is seen: admins and instructors study
		// anywhere they see, ann in contracts only, the others nowhere.
		if allowed == 0 || refused == 0 {
			t.Errorf("%d allowed, %d refused: want both", allowed, refused)
		}
		if err := MayStudy(ctx, db.Read, ann, contracts.ID); err != nil {
			t.Errorf("ann, enrolled in contracts: %v", err)
		}
		if err := MayStudy(ctx, db.Read, cal, contracts.ID); err == nil {
			t.Error("cal, removed from contracts, may still study there")
		}
		if err := MayStudy(ctx, db.Read, bob, contracts.ID); !errors.Is(err, ErrCourseNotFound) {
			t.Errorf("bob, never enrolled: %v, want ErrCourseNotFound", err)
		}
	})
}

// TestStudyWeekDecidesAsAuthorizeWeek: what a session's start reads of its
// week in one query gives the same answer as AuthorizeWeek(…, Study),
// error for error, for each role and place in a course, an unknown week
// and a deleted one; and where it allows, the same week (its themes and
// processed readings counted as AuthorizeWeek counts them) with the
// course's code, name and stored times as the tables hold them. On both
// engines.
func TestStudyWeekDecidesAsAuthorizeWeek(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		ctx := context.Background()
		p := newStudyPlaces(t, db)
		s, admin, prof, ann, bob, torts, contracts := p.s, p.admin, p.prof, p.ann, p.bob, p.torts, p.contracts
		offer, err := s.CreateWeek(ctx, prof, contracts.ID, NewWeek{Number: 1, Title: "Offer"})
		if err != nil {
			t.Fatal(err)
		}
		themes := []string{"the mailbox rule", "revocation"}
		if _, err := s.UpdateWeek(ctx, prof, offer.ID, WeekPatch{Themes: &themes}); err != nil {
			t.Fatal(err)
		}
		bare, err := s.CreateWeek(ctx, prof, contracts.ID, NewWeek{Number: 2, Title: "Acceptance"})
		if err != nil {
			t.Fatal(err)
		}
		duty, err := s.CreateWeek(ctx, admin, torts.ID, NewWeek{Number: 1, Title: "Duty"})
		if err != nil {
			t.Fatal(err)
		}
		gone, err := s.CreateWeek(ctx, prof, contracts.ID, NewWeek{Number: 3, Title: "Gone"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteWeek(ctx, prof, gone.ID); err != nil {
			t.Fatal(err)
		}
		// Two processed readings and one still in progress in week 1.
		for i, status := range []string{"processed", "processed", "processing"} {
			if _, err := db.Write.Exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'a.pdf', ?, 1, ?, 'now')`,
				offer.ID, fmt.Sprintf("%064d", i), status); err != nil {
				t.Fatal(err)
			}
		}
		var allowed, refused int
		for _, u := range p.users() {
			for _, id := range []int64{offer.ID, bare.ID, duty.ID, gone.ID, duty.ID + 1000} {
				want, wantErr := AuthorizeWeek(ctx, db.Read, u, id, Study)
				got, err := StudyWeek(ctx, db.Read, u, id)
				if !sameRefusal(err, wantErr, ErrWeekNotFound) {
					t.Errorf("%s, week %d: StudyWeek says %v, AuthorizeWeek %v", u.Username, id, err, wantErr)
					continue
				}
				if wantErr != nil {
					refused++
					continue
				}
				allowed++
				if got.ID != want.ID || got.CourseID != want.CourseID || got.Number != want.Number || got.Title != want.Title ||
					!slices.Equal(got.Themes, want.Themes) || got.Themes == nil || got.ProcessedDocumentCount != want.ProcessedDocumentCount {
					t.Errorf("%s, week %d: StudyWeek read %+v, AuthorizeWeek %+v", u.Username, id, got.Week, want)
				}
				var code, name, courseCreated, weekCreated string
				if err := db.Read.QueryRow(`SELECT c.code, c.name, c.created_at, w.created_at FROM courses c JOIN weeks w ON w.course_id = c.id WHERE w.id = ?`, id).Scan(&code, &name, &courseCreated, &weekCreated); err != nil {
					t.Fatal(err)
				}
				if got.CourseCode != code || got.CourseName != name || got.CourseCreatedAt != courseCreated || got.WeekCreatedAt != weekCreated {
					t.Errorf("%s, week %d: course %q %q %q, week created %q; the tables hold %q %q %q, %q", u.Username, id,
						got.CourseCode, got.CourseName, got.CourseCreatedAt, got.WeekCreatedAt, code, name, courseCreated, weekCreated)
				}
			}
		}
		if allowed == 0 || refused == 0 {
			t.Errorf("%d allowed, %d refused: want both", allowed, refused)
		}
		w, err := StudyWeek(ctx, db.Read, ann, offer.ID)
		if err != nil || w.ProcessedDocumentCount != 2 || !slices.Equal(w.Themes, themes) || w.CourseCode != "LAW 202" {
			t.Errorf("ann, week 1 of contracts: %+v %v, want 2 processed readings, themes %q, course LAW 202", w, err, themes)
		}
		if _, err := StudyWeek(ctx, db.Read, bob, offer.ID); !errors.Is(err, ErrWeekNotFound) {
			t.Errorf("bob, not enrolled: %v, want ErrWeekNotFound", err)
		}
	})
}
