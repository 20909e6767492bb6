package httpapi

import (
	"context"
	"time"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/document"
)

// Page is the list convention: limit (default 50, at most 200) and offset.
// It is exported because huma reads parameters only from exported embedded
// structs: unexported, limit and offset were silently ignored (limit 0).
type Page struct {
	Limit  int `query:"limit" default:"50" minimum:"1" maximum:"200"`
	Offset int `query:"offset" default:"0" minimum:"0" maximum:"1000000"`
}

type listUsersInput struct {
	Role string `query:"role" enum:"student,professor,admin" doc:"Only users with this role"`
	Q    string `query:"q" maxLength:"100" doc:"Substring of email, username or full name"`
	Page
}

type usersOutput struct {
	Body struct {
		Items []User `json:"items"`
		Total int    `json:"total"`
	}
}

func (s *Server) listUsers(ctx context.Context, in *listUsersInput) (*usersOutput, error) {
	users, total, err := s.auth.ListUsers(ctx, auth.ListFilter{Role: auth.Role(in.Role), Query: in.Q, Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, err
	}
	return usersPage(users, total), nil
}

// usersPage is a page of users in the list convention.
func usersPage(users []auth.User, total int) *usersOutput {
	out := &usersOutput{}
	out.Body.Items = make([]User, 0, len(users))
	for _, u := range users {
		out.Body.Items = append(out.Body.Items, toUser(u))
	}
	out.Body.Total = total
	return out
}

type createUserInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254" format:"email"`
		Username string `json:"username" maxLength:"32"`
		Password string `json:"password" maxLength:"128"`
		Role     string `json:"role" enum:"student,professor,admin"`
		FullName string `json:"full_name,omitempty" maxLength:"100"`
	}
}

func (s *Server) createUser(ctx context.Context, in *createUserInput) (*userOutput, error) {
	actor := currentUser(ctx)
	u, err := s.auth.CreateUser(withIP(ctx), &actor, auth.NewUser{
		Email: in.Body.Email, Username: in.Body.Username, Password: in.Body.Password,
		FullName: in.Body.FullName, Role: auth.Role(in.Body.Role),
	})
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

type updateUserInput struct {
	UserID int64 `path:"user_id" minimum:"1"`
	Body   struct {
		Role     *string `json:"role,omitempty" enum:"student,professor,admin"`
		IsActive *bool   `json:"is_active,omitempty" doc:"false revokes the user's tokens at once"`
		FullName *string `json:"full_name,omitempty" maxLength:"100"`
	}
}

func (s *Server) updateUser(ctx context.Context, in *updateUserInput) (*userOutput, error) {
	p := auth.Patch{IsActive: in.Body.IsActive, FullName: in.Body.FullName}
	if in.Body.Role != nil {
		r := auth.Role(*in.Body.Role)
		p.Role = &r
	}
	u, err := s.auth.UpdateUser(withIP(ctx), currentUser(ctx), in.UserID, p)
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

type listAuditInput struct {
	Action  string `query:"action" maxLength:"64"`
	ActorID int64  `query:"actor_id" minimum:"0"`
	Page
}

// AuditEntry is one audit record.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	ActorID    *int64         `json:"actor_id"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   *int64         `json:"target_id"`
	IP         string         `json:"ip"`
	Detail     map[string]any `json:"detail"`
}

type auditOutput struct {
	Body struct {
		Items []AuditEntry `json:"items"`
		Total int          `json:"total"`
	}
}

func (s *Server) listAudit(ctx context.Context, in *listAuditInput) (*auditOutput, error) {
	entries, total, err := audit.List(ctx, s.db.Read, audit.Filter{Action: in.Action, ActorID: in.ActorID, Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, err
	}
	out := &auditOutput{}
	out.Body.Items = make([]AuditEntry, 0, len(entries))
	for _, e := range entries {
		out.Body.Items = append(out.Body.Items, AuditEntry{ID: e.ID, At: e.At, ActorID: e.ActorID, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, IP: e.IP, Detail: e.Detail})
	}
	out.Body.Total = total
	return out, nil
}

type statsOutput struct {
	Body struct {
		Users struct {
			Student   int `json:"student"`
			Professor int `json:"professor"`
			Admin     int `json:"admin"`
		} `json:"users"`
		Courses   int `json:"courses"`
		Documents struct {
			Queued     int `json:"queued"`
			Processing int `json:"processing"`
			Processed  int `json:"processed"`
			Failed     int `json:"failed"`
		} `json:"documents"`
		Sessions struct {
			ThisWeek  int `json:"this_week"`
			Total     int `json:"total"`
			Moderated int `json:"moderated"`
		} `json:"sessions"`
		Model ModelStats `json:"model"`
	}
}

// ModelStats is what the language model costs and how loaded it is.
type ModelStats struct {
	TokensToday        int64 `json:"tokens_today" doc:"Tokens (read, cached and written) of the turns of sessions started today, a calendar day in WEEK_TIMEZONE: answered turns at the model's count, the others at the estimate charged when they began"`
	TokensTotal        int64 `json:"tokens_total" doc:"Tokens of every turn, counted as tokens_today"`
	TurnsRefusedRate   int64 `json:"turns_refused_rate" doc:"Messages refused since the server started for coming faster than SESSION_MIN_TURN_INTERVAL_SECONDS"`
	TurnsRefusedMax    int64 `json:"turns_refused_max_turns" doc:"Messages refused since the server started past a session's SESSION_MAX_TURNS"`
	TurnsRefusedBudget int64 `json:"turns_refused_budget" doc:"Messages and starts refused since the server started past a student's STUDENT_DAILY_TOKEN_BUDGET"`
	CallsInFlight      int   `json:"calls_in_flight" doc:"Model calls running now (a turn's answer and moderation check count once)"`
	MaxConcurrent      int   `json:"max_concurrent" doc:"LLM_MAX_CONCURRENT; 0 when no model is configured (the offline tutor)"`
	RefusedBusy        int64 `json:"refused_busy" doc:"Model calls refused since the server started because max_concurrent were running"`
}

// stats counts what exists.
func (s *Server) stats(ctx context.Context, _ *struct{}) (*statsOutput, error) {
	byRole, err := s.auth.CountByRole(ctx)
	if err != nil {
		return nil, err
	}
	out := &statsOutput{}
	out.Body.Users.Student = byRole[auth.RoleStudent]
	out.Body.Users.Professor = byRole[auth.RoleProfessor]
	out.Body.Users.Admin = byRole[auth.RoleAdmin]
	if out.Body.Courses, err = course.Count(ctx, s.db.Read); err != nil {
		return nil, err
	}
	docs, err := document.CountByStatus(ctx, s.db.Read)
	if err != nil {
		return nil, err
	}
	out.Body.Documents.Queued = docs[document.Queued]
	out.Body.Documents.Processing = docs[document.Processing]
	out.Body.Documents.Processed = docs[document.Processed]
	out.Body.Documents.Failed = docs[document.Failed]
	sc, err := s.sessions.Count(ctx)
	if err != nil {
		return nil, err
	}
	out.Body.Sessions.ThisWeek, out.Body.Sessions.Total, out.Body.Sessions.Moderated = sc.ThisWeek, sc.Total, sc.Moderated
	m, err := s.sessions.ModelStats(ctx)
	if err != nil {
		return nil, err
	}
	out.Body.Model = ModelStats{TokensToday: m.TokensToday, TokensTotal: m.TokensTotal, TurnsRefusedRate: m.RefusedPace,
		TurnsRefusedMax: m.RefusedTurns, TurnsRefusedBudget: m.RefusedBudget, CallsInFlight: m.CallsInFlight,
		MaxConcurrent: m.MaxConcurrent, RefusedBusy: m.RefusedBusy}
	return out, nil
}
