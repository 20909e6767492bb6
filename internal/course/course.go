// Package course holds courses, their numbered weeks, the professors who teach
// them and the students enrolled in them, join codes, and the access policy
// (policy.go) every other capability asks: may this user do this to this
// course or week?
package course

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/moderation"
)

// Course is a course as one viewer may see it: JoinCode is empty unless the
// viewer teaches the course, and Weeks is filled only by Get.
type Course struct {
	ID            int64
	Code          string
	Name          string
	Description   string
	ProfessorName string
	JoinCode      string
	InstructorIDs []int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Weeks         []Week
}

// Week is one numbered week of a course.
type Week struct {
	ID                     int64
	CourseID               int64
	Number                 int
	Title                  string
	Themes                 []string
	DocumentCount          int
	ProcessedDocumentCount int
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// Limits on what a course and a week hold.
const (
	maxCodeLen        = 32
	maxNameLen        = 200
	maxDescriptionLen = 5000
	maxProfNameLen    = 100
	maxTitleLen       = 200
	maxThemes         = 20
	maxThemeLen       = moderation.MaxThemeChars
	MinWeek, MaxWeek  = 1, 52
	MaxEmails         = 500
)

// NewCourse is the input for creating a course.
type NewCourse struct {
	Code          string
	Name          string
	Description   string
	ProfessorName string
}

// CoursePatch changes the fields that are set.
type CoursePatch struct {
	Code          *string
	Name          *string
	Description   *string
	ProfessorName *string
}

// NewWeek is the input for adding a week.
type NewWeek struct {
	Number int
	Title  string
}

// WeekPatch changes the fields that are set.
type WeekPatch struct {
	Title  *string
	Themes *[]string
}

// fields collects every field error of one input.
type fields []errs.FieldError

func (f *fields) add(field, msg string) { *f = append(*f, errs.FieldError{Field: field, Message: msg}) }

func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return errs.InvalidFields(f...)
}

// normalizeCode trims a course code and collapses inner spaces: "LAW 101",
// "TORTS-I", "CON.LAW_2". ASCII only: codes appear in CSV exports, file
// names and logs, where look-alike letters would deceive.
func (f *fields) normalizeCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		f.add("code", "is required")
		return s
	}
	if len(s) > maxCodeLen {
		f.add("code", "must be at most 32 characters")
		return s
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			(i > 0 && (c == ' ' || c == '-' || c == '.' || c == '_'))
		if !ok {
			f.add("code", "may hold only letters, digits, spaces, '-', '.' and '_', and must start with a letter or digit")
			return s
		}
	}
	return s
}

// text trims s and checks its length in characters and that it holds no
// control or invisible formatting characters (bidi overrides, zero-width
// joiners) that could disguise it; multiline text may hold newlines and tabs.
func (f *fields) text(field, s string, maxLen int, required, multiline bool) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		f.add(field, "must be valid UTF-8")
	case required && s == "":
		f.add(field, "is required")
	case utf8.RuneCountInString(s) > maxLen:
		f.add(field, "must be at most "+strconv.Itoa(maxLen)+" characters")
	default:
		for _, r := range s {
			if multiline && (r == '\n' || r == '\t' || r == '\r') {
				continue
			}
			if auth.Hidden(r) {
				f.add(field, "must not contain control or invisible formatting characters")
				break
			}
		}
	}
	return s
}

func (n *NewCourse) validate() error {
	var f fields
	n.Code = f.normalizeCode(n.Code)
	n.Name = f.text("name", n.Name, maxNameLen, true, false)
	n.Description = f.text("description", n.Description, maxDescriptionLen, false, true)
	n.ProfessorName = f.text("professor_name", n.ProfessorName, maxProfNameLen, false, false)
	return f.err()
}

func (p *CoursePatch) validate() error {
	var f fields
	if p.Code != nil {
		*p.Code = f.normalizeCode(*p.Code)
	}
	if p.Name != nil {
		*p.Name = f.text("name", *p.Name, maxNameLen, true, false)
	}
	if p.Description != nil {
		*p.Description = f.text("description", *p.Description, maxDescriptionLen, false, true)
	}
	if p.ProfessorName != nil {
		*p.ProfessorName = f.text("professor_name", *p.ProfessorName, maxProfNameLen, false, false)
	}
	return f.err()
}

func (n *NewWeek) validate() error {
	var f fields
	if n.Number < MinWeek || n.Number > MaxWeek {
		f.add("week_number", "must be between 1 and 52")
	}
	n.Title = f.text("title", n.Title, maxTitleLen, false, false)
	return f.err()
}

func (p *WeekPatch) validate() error {
	var f fields
	if p.Title != nil {
		*p.Title = f.text("title", *p.Title, maxTitleLen, false, false)
	}
	if p.Themes != nil {
		*p.Themes = f.themes(*p.Themes)
	}
	return f.err()
}

// themes trims each theme and drops blanks and repeats (compared without
// case), keeping the professor's order.
func (f *fields) themes(in []string) []string {
	if len(in) > maxThemes {
		f.add("themes", "may list at most 20 themes")
		return in
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for i, t := range in {
		field := "themes[" + strconv.Itoa(i) + "]"
		t = f.text(field, t, maxThemeLen, false, false)
		key := strings.ToLower(t)
		if t == "" || seen[key] {
			continue
		}
		// A theme goes into the tutor's prompt and a student's first
		// question: the professor's are held to the model's standard.
		if err := moderation.CheckTheme(t); err != nil {
			f.add(field, err.Error())
			continue
		}
		seen[key] = true
		out = append(out, t)
	}
	return out
}
