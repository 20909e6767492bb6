package httpapi

import (
	"context"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/errs"
)

// User is the public shape of an account. It has no field for the password
// hash, so no handler can leak one.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Username  string    `json:"username"`
	FullName  string    `json:"full_name"`
	Role      string    `json:"role" enum:"student,professor,admin"`
	IsActive  bool      `json:"is_active"`
	CreatedAt time.Time `json:"created_at"`
}

func toUser(u auth.User) User {
	return User{ID: u.ID, Email: u.Email, Username: u.Username, FullName: u.FullName, Role: string(u.Role), IsActive: u.IsActive, CreatedAt: u.CreatedAt.UTC()}
}

type userOutput struct{ Body User }

type registerInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"254" format:"email" doc:"Used to sign in; stored lower-case. Must be at a domain in ALLOWED_EMAIL_DOMAINS when the server sets it."`
		Username string `json:"username" maxLength:"32" doc:"3-32 letters, digits, '.', '_' or '-'"`
		Password string `json:"password" maxLength:"128" doc:"At least 10 characters, not your username or email"`
		FullName string `json:"full_name,omitempty" maxLength:"100"`
		JoinCode string `json:"join_code,omitempty" maxLength:"64" doc:"A course's join code: the new account is enrolled in that course, or not made at all (422) if the code opens no course. Required when the server sets REGISTRATION_REQUIRES_JOIN_CODE."`
	}
}

var errJoinCodeRequired = errs.InvalidFields(errs.FieldError{Field: "join_code", Message: "is required to register: ask your professor for your course's join code"})

func (s *Server) register(ctx context.Context, in *registerInput) (*userOutput, error) {
	// Closed is the answer whatever the body lacks: a 422 for a missing
	// join code would suggest that a code opens registration.
	if !s.cfg.AllowRegistration {
		return nil, auth.ErrRegistrationClosed
	}
	r := auth.Registration{
		NewUser: auth.NewUser{Email: in.Body.Email, Username: in.Body.Username, Password: in.Body.Password, FullName: in.Body.FullName},
		Address: infoFrom(ctx).ip,
	}
	switch code := strings.TrimSpace(in.Body.JoinCode); {
	case code != "":
		r.Check, r.Then = s.courses.JoinOnRegister(code, r.Address)
	case s.cfg.RegistrationRequiresJoinCode:
		return nil, errJoinCodeRequired
	}
	u, err := s.auth.Register(withIP(ctx), r)
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

// AuthOptions are the account service's settings from the configuration;
// the server and the tests build the service from this one mapping.
func AuthOptions(cfg config.Config, hasher *auth.Hasher, tokens *auth.Tokens) auth.Options {
	return auth.Options{
		Hasher: hasher, Tokens: tokens,
		LoginMaxFailures:           cfg.LoginMaxFailures,
		LoginMaxFailuresPerAddress: cfg.LoginMaxFailuresPerAddress,
		AllowRegistration:          cfg.AllowRegistration,
		AllowedEmailDomains:        cfg.EmailDomains,
		RegistrationMaxPerAddress:  cfg.RegistrationMaxPerAddress,
	}
}

type loginInput struct {
	Body struct {
		Username string `json:"username" maxLength:"254" doc:"Username or email"`
		Password string `json:"password" maxLength:"1024"`
	}
}

type loginOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type" enum:"bearer"`
		ExpiresIn   int    `json:"expires_in" doc:"Seconds until the token expires"`
	}
}

func (s *Server) login(ctx context.Context, in *loginInput) (*loginOutput, error) {
	ip := infoFrom(ctx).ip
	res, err := s.auth.Login(withIP(ctx), in.Body.Username, in.Body.Password, ip)
	if err != nil {
		return nil, err
	}
	infoFrom(ctx).userID = res.User.ID
	out := &loginOutput{CacheControl: "no-store"}
	out.Body.AccessToken = res.Token
	out.Body.TokenType = "bearer"
	out.Body.ExpiresIn = int(res.ExpiresIn.Seconds())
	return out, nil
}

func (s *Server) me(ctx context.Context, _ *struct{}) (*userOutput, error) {
	return &userOutput{Body: toUser(currentUser(ctx))}, nil
}

type passwordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"1024"`
		NewPassword     string `json:"new_password" maxLength:"128"`
	}
}

func (s *Server) changePassword(ctx context.Context, in *passwordInput) (*struct{}, error) {
	if err := s.auth.ChangePassword(withIP(ctx), currentUser(ctx), in.Body.CurrentPassword, in.Body.NewPassword); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Server) logout(ctx context.Context, _ *struct{}) (*struct{}, error) {
	if err := s.auth.Logout(withIP(ctx), currentUser(ctx)); err != nil {
		return nil, err
	}
	return nil, nil
}

// withIP hands the client address to the audit log.
func withIP(ctx context.Context) context.Context { return audit.WithIP(ctx, infoFrom(ctx).ip) }

var errNoToken = errs.New(errs.Unauthorized, "missing bearer token")

// authenticate admits a request with a valid token of an active user whose
// token version is current, re-reading the user from the database.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	token, ok := bearerToken(ctx.Header("Authorization"))
	if !ok {
		s.writeHumaError(ctx, errNoToken)
		return
	}
	u, err := s.auth.Authenticate(ctx.Context(), token)
	if err != nil {
		s.writeHumaError(ctx, err)
		return
	}
	infoFrom(ctx.Context()).userID = u.ID
	next(huma.WithValue(ctx, userKey{}, u))
}

// requireRole admits only users whose current role (from the database, not
// the token) is role.
func (s *Server) requireRole(role auth.Role) func(huma.Context, func(huma.Context)) {
	denied := errs.New(errs.Forbidden, "this needs the "+string(role)+" role")
	return func(ctx huma.Context, next func(huma.Context)) {
		if currentUser(ctx.Context()).Role != role {
			s.writeHumaError(ctx, denied)
			return
		}
		next(ctx)
	}
}

func bearerToken(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	t := strings.TrimSpace(h[len(prefix):])
	return t, t != ""
}
