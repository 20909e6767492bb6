package course

import (
	"errors"
	"testing"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
)

func TestPolicy(t *testing.T) {
	student := auth.User{ID: 1, Role: auth.RoleStudent}
	prof := auth.User{ID: 2, Role: auth.RoleProfessor}
	admin := auth.User{ID: 3, Role: auth.RoleAdmin}
	none, teaches, enrolled := Membership{}, Membership{Instructor: true}, Membership{Enrolled: true}
	cases := []struct {
		name              string
		u                 auth.User
		m                 Membership
		view, teach, stud bool
	}{
		{"student enrolled", student, enrolled, true, false, true},
		{"student not enrolled", student, none, false, false, false},
		// A student with a stale instructor row (demoted professor) gets nothing from it.
		{"demoted instructor", student, teaches, false, false, false},
		{"professor teaching", prof, teaches, true, true, true},
		{"professor not teaching", prof, none, false, false, false},
		{"professor once enrolled (promoted student)", prof, enrolled, false, false, false},
		{"admin", admin, none, true, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := CanView(c.u, c.m); got != c.view {
				t.Errorf("CanView = %v", got)
			}
			if got := CanTeach(c.u, c.m); got != c.teach {
				t.Errorf("CanTeach = %v", got)
			}
			if got := CanStudy(c.u, c.m); got != c.stud {
				t.Errorf("CanStudy = %v", got)
			}
			for _, a := range []Action{View, Teach, Study} {
				err := decide(c.u, c.m, a, ErrCourseNotFound)
				switch {
				case Allowed(c.u, c.m, a):
					if err != nil {
						t.Errorf("action %d allowed but decide = %v", a, err)
					}
				case !c.view:
					if !errors.Is(err, ErrCourseNotFound) {
						t.Errorf("action %d on an invisible course: %v, want not found", a, err)
					}
				default:
					var e *errs.Error
					if !errors.As(err, &e) || e.Code != errs.Forbidden {
						t.Errorf("action %d on a visible course: %v, want forbidden", a, err)
					}
				}
			}
		})
	}
	if CanCreateCourse(student) || !CanCreateCourse(prof) || !CanCreateCourse(admin) {
		t.Error("CanCreateCourse")
	}
	if !CanJoin(student) || CanJoin(prof) || CanJoin(admin) {
		t.Error("CanJoin")
	}
}

func TestJoinCode(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := newJoinCode()
		if len(c) != 14 || c[4] != '-' || c[9] != '-' {
			t.Fatalf("shape %q", c)
		}
		if seen[c] {
			t.Fatalf("repeat %q in 1000 draws", c)
		}
		seen[c] = true
		if got, err := normalizeJoinCode(c); err != nil || got != c {
			t.Fatalf("normalize(%q) = %q, %v", c, got, err)
		}
	}
	for in, want := range map[string]string{
		"abcd efgh jkmn":   "ABCD-EFGH-JKMN",
		"ABCDEFGHJKMN":     "ABCD-EFGH-JKMN",
		" o1lI-0000-zzzz ": "0111-0000-ZZZZ",
	} {
		if got, err := normalizeJoinCode(in); err != nil || got != want {
			t.Errorf("normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKMU", "ÄBCD-EFGH-JKMN", "ABCD%EFGH-JKMN", string(make([]byte, 100))} {
		if _, err := normalizeJoinCode(bad); err == nil {
			t.Errorf("normalize(%q) accepted", bad)
		}
	}
}

func TestValidation(t *testing.T) {
	n := NewCourse{Code: " law   101 ", Name: " Torts ", Description: "line one\n\tline two"}
	if err := n.validate(); err != nil || n.Code != "law 101" || n.Name != "Torts" {
		t.Errorf("validate = %v, %+v", err, n)
	}
	bad := NewCourse{Code: "-LAW", Name: "", Description: "x\u200by", ProfessorName: string(make([]rune, 101))}
	err := bad.validate()
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) != 4 {
		t.Fatalf("want four field errors, got %v", err)
	}
	for _, n := range []int{0, -1, 53} {
		w := NewWeek{Number: n}
		if err := w.validate(); err == nil {
			t.Errorf("week %d accepted", n)
		}
	}
	themes := []string{" a ", "A", "", "b"}
	p := WeekPatch{Themes: &themes}
	if err := p.validate(); err != nil || len(*p.Themes) != 2 {
		t.Errorf("themes = %v, %v", *p.Themes, err)
	}
}
