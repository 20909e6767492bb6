package course

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// Wrong join codes a student may try in joinWindow before being told to wait.
const (
	joinMaxFailures = 10
	joinWindow      = 15 * time.Minute
)

// Service is the course service. Every public method takes the acting user
// and applies the policy itself, so no caller can forget to.
type Service struct {
	db    *sqlite.DB
	files blob.Store
	joins *auth.Shared
	now   func() time.Time
	log   *slog.Logger
}

// Options configure a Service. Files may be nil (no uploads to remove);
// zero Now means time.Now, nil Logger discards.
type Options struct {
	Files  blob.Store
	Now    func() time.Time
	Logger *slog.Logger
}

// NewService returns the course service.
func NewService(db *sqlite.DB, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, files: o.Files, joins: auth.NewShared(db, "join", joinMaxFailures, joinWindow, o.Now), now: o.Now, log: o.Logger}
}

// AuthorizeCourse answers whether u may do a to the course: the course as u
// may see it, or ErrCourseNotFound (u may not see it) or a Forbidden error
// (u sees it but may not do a). ex is the caller's transaction or pool, so a
// check and the change it guards can be one transaction.
func AuthorizeCourse(ctx context.Context, ex sqlite.Execer, u auth.User, courseID int64, a Action) (Course, error) {
	r, err := findCourse(ctx, ex, u.ID, courseID)
	if err != nil {
		return Course{}, err
	}
	if err := decide(u, r.m, a, ErrCourseNotFound); err != nil {
		return Course{}, err
	}
	return present(u, r), nil
}

// MayStudy is AuthorizeCourse(ctx, ex, u, courseID, Study) without the
// course: the same decision and the same errors, from a query that reads
// only whether the course exists and u's place in it. A tutoring turn asks
// it every time, inside the write every other turn waits for; the whole
// course (its instructors gathered and decoded, its times parsed) cost
// 17 µs there, against 10 (prepared statements, SQLite, this machine).
func MayStudy(ctx context.Context, ex sqlite.Execer, u auth.User, courseID int64) error {
	var m Membership
	err := ex.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM course_instructors WHERE course_id = c.id AND user_id = ?1),
		EXISTS(SELECT 1 FROM enrollments WHERE course_id = c.id AND user_id = ?1)
		FROM courses c WHERE c.id = ?2`, u.ID, courseID).Scan(&m.Instructor, &m.Enrolled)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrCourseNotFound
	}
	if err != nil {
		return fmt.Errorf("find course %d: %w", courseID, err)
	}
	return decide(u, m, Study, ErrCourseNotFound)
}

// A WeekToStudy is what starting a session reads of its week: the week
// (without its document count and its times: CreatedAt and UpdatedAt are
// zero) and, as stored, the course's code, name and creation time and the
// week's own, which a session keeps so that a course or week later given
// the same id is told apart.
type WeekToStudy struct {
	Week
	CourseCode, CourseName, CourseCreatedAt, WeekCreatedAt string
}

// StudyWeek is AuthorizeWeek(ctx, ex, u, weekID, Study) for a session's
// start, with the course's fields the session stores: the same decision
// and errors, in one query where the start asked two, and without what a
// start does not use. Each start runs it inside the write every other
// start and turn waits for (sqlite.Batcher).
func StudyWeek(ctx context.Context, ex sqlite.Execer, u auth.User, weekID int64) (WeekToStudy, error) {
	var w WeekToStudy
	var themes string
	var m Membership
	err := ex.QueryRowContext(ctx, `SELECT w.id, w.course_id, w.week_number, w.title, w.themes, w.created_at,
		(SELECT count(*) FROM documents d WHERE d.week_id = w.id AND d.status = 'processed'),
		c.code, c.name, c.created_at, `+viewerColumns+`
		FROM weeks w JOIN courses c ON c.id = w.course_id WHERE w.id = ?2`, u.ID, weekID).Scan(
		&w.ID, &w.CourseID, &w.Number, &w.Title, &themes, &w.WeekCreatedAt, &w.ProcessedDocumentCount,
		&w.CourseCode, &w.CourseName, &w.CourseCreatedAt, &m.Instructor, &m.Enrolled)
	if errors.Is(err, sql.ErrNoRows) {
		return WeekToStudy{}, ErrWeekNotFound
	}
	if err != nil {
		return WeekToStudy{}, fmt.Errorf("find week %d: %w", weekID, err)
	}
	if err := decide(u, m, Study, ErrWeekNotFound); err != nil {
		return WeekToStudy{}, err
	}
	if err := json.Unmarshal([]byte(themes), &w.Themes); err != nil {
		return WeekToStudy{}, fmt.Errorf("week %d themes: %w", w.ID, err)
	}
	if w.Themes == nil {
		w.Themes = []string{}
	}
	return w, nil
}

// AuthorizeWeek is AuthorizeCourse for the course a week belongs to; an
// unknown or invisible week is ErrWeekNotFound.
func AuthorizeWeek(ctx context.Context, ex sqlite.Execer, u auth.User, weekID int64, a Action) (Week, error) {
	w, m, err := findWeek(ctx, ex, u.ID, weekID)
	if err != nil {
		return Week{}, err
	}
	if err := decide(u, m, a, ErrWeekNotFound); err != nil {
		return Week{}, err
	}
	return w, nil
}

// present is the course as u may see it: the join code only for its teachers.
func present(u auth.User, r courseRow) Course {
	c := r.Course
	if !CanTeach(u, r.m) {
		c.JoinCode = ""
	}
	if c.InstructorIDs == nil {
		c.InstructorIDs = []int64{}
	}
	return c
}

// List returns the courses u may see (CanView): admins all, professors
// those they teach, students those they are enrolled in.
func (s *Service) List(ctx context.Context, u auth.User, limit, offset int) ([]Course, int, error) {
	rows, total, err := listCourses(ctx, s.db.Read, u.ID, u.Role, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Course, 0, len(rows))
	for _, r := range rows {
		out = append(out, present(u, r))
	}
	return out, total, nil
}

// Get returns a course with its weeks.
func (s *Service) Get(ctx context.Context, u auth.User, id int64) (Course, error) {
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Course{}, fmt.Errorf("get course: %w", err)
	}
	defer tx.Rollback()
	c, err := AuthorizeCourse(ctx, tx, u, id, View)
	if err != nil {
		return Course{}, err
	}
	if c.Weeks, err = listWeeks(ctx, tx, id); err != nil {
		return Course{}, err
	}
	return c, nil
}

// Create makes a course; a professor who creates one teaches it.
func (s *Service) Create(ctx context.Context, u auth.User, n NewCourse) (Course, error) {
	if !CanCreateCourse(u) {
		return Course{}, ErrCannotCreate
	}
	if err := n.validate(); err != nil {
		return Course{}, err
	}
	if n.ProfessorName == "" && u.Role == auth.RoleProfessor {
		n.ProfessorName = u.FullName
	}
	return s.write(ctx, "create course", func(tx *sql.Tx) (Course, error) {
		if taken, err := codeTaken(ctx, tx, n.Code, 0); err != nil || taken {
			return Course{}, orErr(err, ErrDuplicateCode)
		}
		code, err := freshJoinCode(ctx, tx)
		if err != nil {
			return Course{}, err
		}
		c := Course{Code: n.Code, Name: n.Name, Description: n.Description, ProfessorName: n.ProfessorName, JoinCode: code, CreatedAt: s.now()}
		if err := insertCourse(ctx, tx, &c, u.ID); err != nil {
			return Course{}, err
		}
		if u.Role == auth.RoleProfessor {
			if _, err := insertInstructor(ctx, tx, c.ID, u.ID, sqlite.FormatTime(c.CreatedAt)); err != nil {
				return Course{}, err
			}
		}
		if err := s.record(ctx, tx, u, audit.CourseCreate, "course", c.ID, map[string]any{"code": c.Code, "name": c.Name}); err != nil {
			return Course{}, err
		}
		return AuthorizeCourse(ctx, tx, u, c.ID, View)
	})
}

// Update changes a course's code, name, description or professor name.
func (s *Service) Update(ctx context.Context, u auth.User, id int64, p CoursePatch) (Course, error) {
	return s.write(ctx, "update course", func(tx *sql.Tx) (Course, error) {
		c, err := AuthorizeCourse(ctx, tx, u, id, Teach)
		if err != nil {
			return Course{}, err
		}
		if err := p.validate(); err != nil {
			return Course{}, err
		}
		var changed []string
		set := func(name string, dst *string, v *string) {
			if v != nil && *v != *dst {
				*dst = *v
				changed = append(changed, name)
			}
		}
		set("code", &c.Code, p.Code)
		set("name", &c.Name, p.Name)
		set("description", &c.Description, p.Description)
		set("professor_name", &c.ProfessorName, p.ProfessorName)
		if len(changed) == 0 {
			return c, nil
		}
		if p.Code != nil {
			if taken, err := codeTaken(ctx, tx, c.Code, c.ID); err != nil || taken {
				return Course{}, orErr(err, ErrDuplicateCode)
			}
		}
		c.UpdatedAt = s.now()
		if err := updateCourse(ctx, tx, c); err != nil {
			return Course{}, err
		}
		if err := s.record(ctx, tx, u, audit.CourseUpdate, "course", c.ID, map[string]any{"fields": changed}); err != nil {
			return Course{}, err
		}
		return c, nil
	})
}

// Delete removes a course with its weeks, documents, chunks and files.
// Tutoring sessions and their transcripts are not below a course in the
// schema and stay.
func (s *Service) Delete(ctx context.Context, u auth.User, id int64) error {
	var sums []string
	_, err := s.write(ctx, "delete course", func(tx *sql.Tx) (Course, error) {
		c, err := AuthorizeCourse(ctx, tx, u, id, Teach)
		if err != nil {
			return Course{}, err
		}
		const below = "w.course_id = ?"
		weeks, docs, err := countBelow(ctx, tx, below, id)
		if err != nil {
			return Course{}, err
		}
		if sums, err = fileSums(ctx, tx, below, id); err != nil {
			return Course{}, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM courses WHERE id = ?`, id); err != nil {
			return Course{}, fmt.Errorf("delete course %d: %w", id, err)
		}
		return c, s.record(ctx, tx, u, audit.CourseDelete, "course", id, map[string]any{"code": c.Code, "name": c.Name, "weeks": weeks, "documents": docs})
	})
	if err != nil {
		return err
	}
	s.release(ctx, sums)
	return nil
}

// AddInstructor makes a professor an instructor of the course.
func (s *Service) AddInstructor(ctx context.Context, u auth.User, courseID, userID int64) (Course, error) {
	return s.write(ctx, "add instructor", func(tx *sql.Tx) (Course, error) {
		if _, err := AuthorizeCourse(ctx, tx, u, courseID, Teach); err != nil {
			return Course{}, err
		}
		a, ok, err := accountByID(ctx, tx, userID)
		if err != nil {
			return Course{}, err
		}
		if !ok || a.role != auth.RoleProfessor {
			return Course{}, errs.InvalidFields(errs.FieldError{Field: "user_id", Message: "must be the id of a professor's account"})
		}
		added, err := insertInstructor(ctx, tx, courseID, userID, sqlite.FormatTime(s.now()))
		if err != nil {
			return Course{}, err
		}
		if added {
			if err := s.record(ctx, tx, u, audit.InstructorAdd, "course", courseID, map[string]any{"user_id": userID}); err != nil {
				return Course{}, err
			}
		}
		return AuthorizeCourse(ctx, tx, u, courseID, View)
	})
}

// RegenerateJoinCode replaces the course's join code: the old one stops
// working at once (students already enrolled stay enrolled).
func (s *Service) RegenerateJoinCode(ctx context.Context, u auth.User, courseID int64) (Course, error) {
	return s.write(ctx, "regenerate join code", func(tx *sql.Tx) (Course, error) {
		c, err := AuthorizeCourse(ctx, tx, u, courseID, Teach)
		if err != nil {
			return Course{}, err
		}
		if c.JoinCode, err = freshJoinCode(ctx, tx); err != nil {
			return Course{}, err
		}
		c.UpdatedAt = s.now()
		if err := updateCourse(ctx, tx, c); err != nil {
			return Course{}, err
		}
		return c, s.record(ctx, tx, u, audit.JoinCodeRegenerate, "course", courseID, nil)
	})
}

// write runs fn in one write transaction and commits what it returns.
func (s *Service) write(ctx context.Context, what string, fn func(tx *sql.Tx) (Course, error)) (Course, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return Course{}, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	c, err := fn(tx)
	if err != nil {
		return Course{}, err
	}
	if err := tx.Commit(); err != nil {
		return Course{}, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.User, action, targetType string, targetID int64, detail map[string]any) error {
	var actorID *int64
	if actor.ID > 0 { // 0: the command line, acting for no account
		actorID = &actor.ID
	}
	return audit.Record(ctx, tx, audit.Entry{At: s.now(), ActorID: actorID, Action: action, TargetType: targetType, TargetID: &targetID, Detail: detail})
}

// release removes the files no document names any more. The rows are gone
// already, so a failure here leaves only an unreferenced file; it is logged,
// and the caller's change stands.
func (s *Service) release(ctx context.Context, sums []string) {
	if s.files == nil || len(sums) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := s.files.Release(ctx, sums); err != nil {
		s.log.ErrorContext(ctx, "remove document files", "err", err)
	}
}

// orErr returns err when set, else alt: for "check failed or found".
func orErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
