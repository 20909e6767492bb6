package httpapi

import (
	"context"
	"time"

	"github.com/lawtutor/socratic/internal/course"
)

// Course is a course as the caller may see it.
type Course struct {
	ID            int64     `json:"id"`
	Code          string    `json:"code"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	ProfessorName string    `json:"professor_name"`
	InstructorIDs []int64   `json:"instructor_ids"`
	JoinCode      string    `json:"join_code,omitempty" doc:"Shown to the course's instructors and admins only"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CourseDetail is a course with its weeks.
type CourseDetail struct {
	Course
	Weeks []Week `json:"weeks"`
}

func toCourse(c course.Course) Course {
	return Course{ID: c.ID, Code: c.Code, Name: c.Name, Description: c.Description, ProfessorName: c.ProfessorName,
		InstructorIDs: c.InstructorIDs, JoinCode: c.JoinCode, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

type courseOutput struct{ Body Course }

// CourseIDPath is exported because huma reads parameters only from exported
// embedded structs.
type CourseIDPath struct {
	CourseID int64 `path:"course_id" minimum:"1"`
}

type listCoursesInput struct{ Page }

type coursesOutput struct {
	Body struct {
		Items []Course `json:"items"`
		Total int      `json:"total"`
	}
}

func (s *Server) listCourses(ctx context.Context, in *listCoursesInput) (*coursesOutput, error) {
	cs, total, err := s.courses.List(ctx, currentUser(ctx), in.Limit, in.Offset)
	if err != nil {
		return nil, err
	}
	out := &coursesOutput{}
	out.Body.Items = make([]Course, 0, len(cs))
	for _, c := range cs {
		out.Body.Items = append(out.Body.Items, toCourse(c))
	}
	out.Body.Total = total
	return out, nil
}

type createCourseInput struct {
	Body struct {
		Code          string `json:"code" minLength:"1" maxLength:"32" doc:"Unique, compared without case, e.g. LAW 101"`
		Name          string `json:"name" minLength:"1" maxLength:"200"`
		Description   string `json:"description,omitempty" maxLength:"5000"`
		ProfessorName string `json:"professor_name,omitempty" maxLength:"100" doc:"Defaults to the creating professor's full name"`
	}
}

func (s *Server) createCourse(ctx context.Context, in *createCourseInput) (*courseOutput, error) {
	c, err := s.courses.Create(withIP(ctx), currentUser(ctx), course.NewCourse{
		Code: in.Body.Code, Name: in.Body.Name, Description: in.Body.Description, ProfessorName: in.Body.ProfessorName,
	})
	if err != nil {
		return nil, err
	}
	return &courseOutput{Body: toCourse(c)}, nil
}

type courseDetailOutput struct{ Body CourseDetail }

func (s *Server) getCourse(ctx context.Context, in *CourseIDPath) (*courseDetailOutput, error) {
	c, err := s.courses.Get(ctx, currentUser(ctx), in.CourseID)
	if err != nil {
		return nil, err
	}
	out := &courseDetailOutput{Body: CourseDetail{Course: toCourse(c), Weeks: make([]Week, 0, len(c.Weeks))}}
	for _, w := range c.Weeks {
		out.Body.Weeks = append(out.Body.Weeks, toWeek(w))
	}
	return out, nil
}

type updateCourseInput struct {
	CourseIDPath
	Body struct {
		Code          *string `json:"code,omitempty" minLength:"1" maxLength:"32"`
		Name          *string `json:"name,omitempty" minLength:"1" maxLength:"200"`
		Description   *string `json:"description,omitempty" maxLength:"5000"`
		ProfessorName *string `json:"professor_name,omitempty" maxLength:"100"`
	}
}

func (s *Server) updateCourse(ctx context.Context, in *updateCourseInput) (*courseOutput, error) {
	c, err := s.courses.Update(withIP(ctx), currentUser(ctx), in.CourseID, course.CoursePatch{
		Code: in.Body.Code, Name: in.Body.Name, Description: in.Body.Description, ProfessorName: in.Body.ProfessorName,
	})
	if err != nil {
		return nil, err
	}
	return &courseOutput{Body: toCourse(c)}, nil
}

func (s *Server) deleteCourse(ctx context.Context, in *CourseIDPath) (*struct{}, error) {
	return nil, s.courses.Delete(withIP(ctx), currentUser(ctx), in.CourseID)
}

type addInstructorInput struct {
	CourseIDPath
	Body struct {
		UserID int64 `json:"user_id" minimum:"1" doc:"A professor's account"`
	}
}

func (s *Server) addInstructor(ctx context.Context, in *addInstructorInput) (*courseOutput, error) {
	c, err := s.courses.AddInstructor(withIP(ctx), currentUser(ctx), in.CourseID, in.Body.UserID)
	if err != nil {
		return nil, err
	}
	return &courseOutput{Body: toCourse(c)}, nil
}

func (s *Server) regenerateJoinCode(ctx context.Context, in *CourseIDPath) (*courseOutput, error) {
	c, err := s.courses.RegenerateJoinCode(withIP(ctx), currentUser(ctx), in.CourseID)
	if err != nil {
		return nil, err
	}
	return &courseOutput{Body: toCourse(c)}, nil
}

type joinCourseInput struct {
	Body struct {
		JoinCode string `json:"join_code" maxLength:"64" doc:"As given by the professor, e.g. ABCD-EFGH-JKMN; case, spaces and hyphens do not matter"`
	}
}

func (s *Server) joinCourse(ctx context.Context, in *joinCourseInput) (*courseOutput, error) {
	c, err := s.courses.Join(withIP(ctx), currentUser(ctx), in.Body.JoinCode)
	if err != nil {
		return nil, err
	}
	return &courseOutput{Body: toCourse(c)}, nil
}

type listStudentsInput struct {
	CourseIDPath
	Page
}

func (s *Server) listStudents(ctx context.Context, in *listStudentsInput) (*usersOutput, error) {
	users, total, err := s.courses.ListStudents(ctx, currentUser(ctx), in.CourseID, in.Limit, in.Offset)
	if err != nil {
		return nil, err
	}
	return usersPage(users, total), nil
}

type enrollInput struct {
	CourseIDPath
	Body struct {
		Emails []string `json:"emails" minItems:"1" maxItems:"500" doc:"Students' email addresses"`
	}
}

type enrollOutput struct {
	Body struct {
		Enrolled    []string `json:"enrolled" doc:"Enrolled now or before"`
		NotFound    []string `json:"not_found" doc:"No account has this address"`
		NotStudents []string `json:"not_students" doc:"The account is a professor's or an admin's; add professors as instructors"`
	}
}

func (s *Server) enrollStudents(ctx context.Context, in *enrollInput) (*enrollOutput, error) {
	r, err := s.courses.EnrollByEmail(withIP(ctx), currentUser(ctx), in.CourseID, in.Body.Emails)
	if err != nil {
		return nil, err
	}
	out := &enrollOutput{}
	out.Body.Enrolled, out.Body.NotFound, out.Body.NotStudents = r.Enrolled, r.NotFound, r.NotStudents
	return out, nil
}

type removeStudentInput struct {
	CourseIDPath
	UserID int64 `path:"user_id" minimum:"1"`
}

func (s *Server) removeStudent(ctx context.Context, in *removeStudentInput) (*struct{}, error) {
	return nil, s.courses.RemoveStudent(withIP(ctx), currentUser(ctx), in.CourseID, in.UserID)
}
