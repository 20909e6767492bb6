package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/lawtutor/socratic/internal/session"
)

type deleteUserInput struct {
	UserID int64 `path:"user_id" minimum:"1"`
}

// deleteUser erases an account and everything keyed to it; see
// session.Service.EraseUser.
func (s *Server) deleteUser(ctx context.Context, in *deleteUserInput) (*struct{}, error) {
	if err := s.sessions.EraseUser(withIP(ctx), currentUser(ctx), in.UserID); err != nil {
		return nil, err
	}
	return nil, nil
}

// CourseLink is a course the person is enrolled in or teaches.
type CourseLink struct {
	ID    int64     `json:"id"`
	Code  string    `json:"code"`
	Name  string    `json:"name"`
	Since time.Time `json:"since" doc:"When they were enrolled, or made an instructor"`
}

// ExportedSession is one of the caller's sessions with its transcript.
type ExportedSession struct {
	SessionDetail
	AudioURL *string `json:"audio_url" doc:"Where the recording is downloaded; null when there is none"`
}

// Export is the caller's own data.
type Export struct {
	ExportedAt  time.Time         `json:"exported_at"`
	Account     User              `json:"account"`
	Enrollments []CourseLink      `json:"enrollments" doc:"Courses the caller is enrolled in"`
	Teaching    []CourseLink      `json:"teaching" doc:"Courses the caller is an instructor of"`
	Sessions    []ExportedSession `json:"sessions" doc:"The caller's own sessions only, each with its transcript"`
}

type exportOutput struct {
	ContentDisposition string `header:"Content-Disposition"`
	CacheControl       string `header:"Cache-Control"`
	Body               Export
}

func (s *Server) exportMe(ctx context.Context, _ *struct{}) (*exportOutput, error) {
	e, err := s.sessions.ExportOf(ctx, currentUser(ctx))
	if err != nil {
		return nil, err
	}
	out := &exportOutput{
		ContentDisposition: fmt.Sprintf(`attachment; filename="socratic-export-%d.json"`, e.Account.ID),
		CacheControl:       "private, no-store",
	}
	b := &out.Body
	b.ExportedAt = time.Now().UTC()
	b.Account = toUser(e.Account)
	b.Enrollments, b.Teaching = toCourseLinks(e.Enrolled), toCourseLinks(e.Teaching)
	b.Sessions = make([]ExportedSession, 0, len(e.Sessions))
	for _, sess := range e.Sessions {
		flags := sess.Flags
		if flags == nil {
			flags = []session.Flag{}
		}
		x := ExportedSession{SessionDetail: SessionDetail{Session: toSession(sess), Transcript: toTurns(sess.Transcript), ModerationFlags: flags}}
		if sess.HasAudio() {
			u := fmt.Sprintf("/api/sessions/%d/audio", sess.ID)
			x.AudioURL = &u
		}
		b.Sessions = append(b.Sessions, x)
	}
	return out, nil
}

func toCourseLinks(in []session.CourseLink) []CourseLink {
	out := make([]CourseLink, 0, len(in))
	for _, c := range in {
		out = append(out, CourseLink{ID: c.ID, Code: c.Code, Name: c.Name, Since: c.Since.UTC()})
	}
	return out
}
