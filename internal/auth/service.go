// Package auth holds accounts: registration, sign-in, tokens that can be
// revoked at once, password changes and the admin's account management.
package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

var (
	// ErrBadCredentials is the one answer for an unknown account, a wrong
	// password and a deactivated account, so none can be told apart.
	ErrBadCredentials     = errs.New(errs.Unauthorized, "incorrect username or password")
	ErrRegistrationClosed = errs.New(errs.Forbidden, "registration is closed; ask your professor or administrator for an account")
	ErrSelfLockout        = errs.New(errs.Forbidden, "you cannot deactivate or demote your own account")
	ErrWrongPassword      = errs.InvalidFields(errs.FieldError{Field: "current_password", Message: "is incorrect"})
)

// throttleWindow is how long failed sign-ins are remembered;
// registrationWindow how long registrations are.
const (
	throttleWindow     = 15 * time.Minute
	registrationWindow = time.Hour
)

// Service is the account service.
type Service struct {
	db                *sqlite.DB
	hasher            *Hasher
	tokens            *Tokens
	logins            *sharedLogins
	passwords         *Shared // wrong current passwords, per account
	registrations     *Shared // registration attempts, per address
	maxFailures       int
	maxRegistrations  int
	emailDomains      []string
	allowRegistration bool
	now               func() time.Time
	byID              *sql.Stmt
}

// Options configure a Service. Zero Now means time.Now.
type Options struct {
	Hasher *Hasher
	Tokens *Tokens
	// LoginMaxFailures is the budget of one (account, address) pair, and
	// of password changes per account, per 15 minutes;
	// LoginMaxFailuresPerAddress one address's across accounts (zero: 100).
	LoginMaxFailures           int
	LoginMaxFailuresPerAddress int
	AllowRegistration          bool
	// AllowedEmailDomains limits self-registration to these domains
	// (lower-case, exact match); empty allows any.
	AllowedEmailDomains []string
	// RegistrationMaxPerAddress is the registration attempts one address
	// may make per hour; 0 is no limit.
	RegistrationMaxPerAddress int
	Now                       func() time.Time
}

// NewService returns the account service; close it with Close.
func NewService(ctx context.Context, db *sqlite.DB, o Options) (*Service, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	// Every authenticated request re-reads its user; a prepared statement
	// skips re-parsing the SQL on that hot path.
	byID, err := db.Read.PrepareContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("prepare user lookup: %w", err)
	}
	return &Service{
		db: db, hasher: o.Hasher, tokens: o.Tokens,
		logins:            newSharedLogins(db, o.LoginMaxFailures, o.LoginMaxFailuresPerAddress, o.Now),
		passwords:         NewShared(db, "password", o.LoginMaxFailures, throttleWindow, o.Now),
		registrations:     NewShared(db, "register", o.RegistrationMaxPerAddress, registrationWindow, o.Now),
		maxFailures:       o.LoginMaxFailures,
		maxRegistrations:  o.RegistrationMaxPerAddress,
		emailDomains:      o.AllowedEmailDomains,
		allowRegistration: o.AllowRegistration,
		now:               o.Now,
		byID:              byID,
	}, nil
}

// Close releases the prepared statements.
func (s *Service) Close() error { return s.byID.Close() }

// NewUser is the input for creating an account.
type NewUser struct {
	Email    string
	Username string
	Password string
	FullName string
	Role     Role
}

func (n *NewUser) validate() error {
	var fields []errs.FieldError
	email, fe := NormalizeEmail(n.Email)
	if fe != nil {
		fields = append(fields, *fe)
	}
	n.Email = email
	n.Username = strings.TrimSpace(n.Username)
	if fe := CheckUsername(n.Username); fe != nil {
		fields = append(fields, *fe)
	}
	if fe := CheckPassword("password", n.Password, n.Username, n.Email); fe != nil {
		fields = append(fields, *fe)
	}
	name, fe := NormalizeFullName(n.FullName)
	if fe != nil {
		fields = append(fields, *fe)
	}
	n.FullName = name
	if _, err := ParseRole(string(n.Role)); err != nil {
		fields = append(fields, errs.FieldError{Field: "role", Message: "must be student, professor or admin"})
	}
	if len(fields) > 0 {
		return errs.InvalidFields(fields...)
	}
	return nil
}

// Registration is a self-registration: the account, the address it comes
// from, and what else must happen with it (enrolment by join code).
type Registration struct {
	NewUser
	Address string
	// Check, when set, runs after the cheap checks and before the password
	// is hashed; its error refuses the registration.
	Check func(ctx context.Context) error
	// Then, when set, runs in the transaction that creates the account;
	// its error undoes the account.
	Then func(ctx context.Context, tx *sql.Tx, u User) error
}

// Register creates a student account. The role is not an input: whatever a
// client sends, self-registration makes a student. Every attempt with valid
// fields counts against its address's hourly budget, taken names included,
// so neither accounts nor taken names can be harvested in bulk.
func (s *Service) Register(ctx context.Context, r Registration) (User, error) {
	if !s.allowRegistration {
		return User{}, ErrRegistrationClosed
	}
	n := r.NewUser
	n.Role = RoleStudent
	if err := n.validate(); err != nil {
		return User{}, err
	}
	if fe := s.checkDomain(n.Email); fe != nil {
		return User{}, errs.InvalidFields(*fe)
	}
	if s.maxRegistrations > 0 {
		if _, wait, ok, err := s.registrations.Reserve(ctx, Limit{Key: AddressKey(r.Address), Max: s.maxRegistrations}); err != nil {
			return User{}, err
		} else if !ok {
			return User{}, errs.TooManyRetry("too many registrations from your address; try again later", wait)
		}
	}
	return s.create(ctx, nil, n, audit.Register, r.Check, r.Then)
}

// checkDomain refuses an email outside the allowed domains. Subdomains are
// not included: law.ou.edu must be listed to be allowed beside ou.edu.
func (s *Service) checkDomain(email string) *errs.FieldError {
	if len(s.emailDomains) == 0 {
		return nil
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	for _, d := range s.emailDomains {
		if domain == d {
			return nil
		}
	}
	return &errs.FieldError{Field: "email", Message: "must be an address at " + strings.Join(s.emailDomains, " or ")}
}

// CreateUser creates an account of any role: the admin API and the CLI.
// actor is nil when the command line creates the account.
func (s *Service) CreateUser(ctx context.Context, actor *User, n NewUser) (User, error) {
	var actorID *int64
	if actor != nil {
		actorID = &actor.ID
	}
	if err := n.validate(); err != nil {
		return User{}, err
	}
	return s.create(ctx, actorID, n, audit.UserCreate, nil, nil)
}

// create stores a validated new user. check runs before the hash and then
// in the transaction, after the insert; either may be nil.
func (s *Service) create(ctx context.Context, actorID *int64, n NewUser, action string, check func(context.Context) error, then func(context.Context, *sql.Tx, User) error) (User, error) {
	// A taken name is refused before the ~20 ms hash, so repeating a
	// registration costs no hashing; the transaction checks again for
	// registrations racing each other.
	if err := checkTaken(ctx, s.db.Read, n.Email, n.Username); err != nil {
		return User{}, err
	}
	if check != nil {
		if err := check(ctx); err != nil {
			return User{}, err
		}
	}
	// Hash before taking the write lock: the ~20 ms of argon2id must not
	// hold up every other writer.
	hash, err := s.hasher.Hash(ctx, n.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: n.Email, Username: n.Username, FullName: n.FullName, Role: n.Role, PasswordHash: hash, CreatedAt: s.now(), UpdatedAt: s.now()}

	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	defer tx.Rollback()
	if err := checkTaken(ctx, tx, u.Email, u.Username); err != nil {
		return User{}, err
	}
	if err := insertUser(ctx, tx, &u); err != nil {
		if sqlite.IsUniqueViolation(err) {
			// Another registration took the name between the check and
			// the insert (on PostgreSQL, where writers do not queue):
			// say which, as the check would have.
			tx.Rollback()
			if err := checkTaken(ctx, s.db.Read, u.Email, u.Username); err != nil {
				return User{}, err
			}
			return User{}, errs.New(errs.Conflict, "that email or username is already registered")
		}
		return User{}, err
	}
	if actorID == nil && action == audit.Register {
		actorID = &u.ID
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		At: u.CreatedAt, ActorID: actorID, Action: action, TargetType: "user", TargetID: &u.ID,
		Detail: map[string]any{"username": u.Username, "role": string(u.Role)},
	}); err != nil {
		return User{}, err
	}
	if then != nil {
		if err := then(ctx, tx, u); err != nil {
			return User{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// LoginResult is a successful sign-in.
type LoginResult struct {
	Token     string
	ExpiresIn time.Duration
	User      User
}

// Login checks a username-or-email and password. ip is the client address
// used for throttling (see loginLimit) and the audit log.
func (s *Service) Login(ctx context.Context, login, password, ip string) (LoginResult, error) {
	login = strings.TrimSpace(login)
	u, err := findUserByLogin(ctx, s.db.Read, login)
	found := err == nil
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return LoginResult{}, err
	}
	// An existing account is counted by id, so its username and its email
	// share one budget; an unknown name is counted by a digest of the name
	// (the throttle's rows are stored, and what was typed as a name is
	// sometimes a password).
	sum := sha256.Sum256([]byte(strings.ToLower(login[:min(len(login), maxEmailLen)])))
	acctKey := "a:" + hex.EncodeToString(sum[:16])
	if found {
		acctKey = accountKey(u.ID)
	}
	attempt, wait, ok, err := s.logins.reserve(ctx, acctKey, ip)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok {
		return LoginResult{}, errs.TooManyRetry("too many failed sign-in attempts; try again later", wait)
	}
	if !found {
		if err := s.hasher.VerifyDummy(ctx, password); err != nil {
			return LoginResult{}, also(err, s.logins.unchecked(ctx, attempt))
		}
		return LoginResult{}, s.loginFailed(ctx, nil, "unknown_account")
	}
	ok, err = s.hasher.Verify(ctx, u.PasswordHash, password)
	if err != nil {
		return LoginResult{}, also(err, s.logins.unchecked(ctx, attempt))
	}
	if !ok {
		return LoginResult{}, s.loginFailed(ctx, &u.ID, "wrong_password")
	}
	if !u.IsActive {
		return LoginResult{}, s.loginFailed(ctx, &u.ID, "inactive")
	}
	if err := s.logins.succeeded(ctx, attempt); err != nil {
		return LoginResult{}, err
	}

	token, err := s.tokens.Issue(u)
	if err != nil {
		return LoginResult{}, err
	}
	if err := audit.Record(ctx, s.db.Write, audit.Entry{At: s.now(), ActorID: &u.ID, Action: audit.LoginSuccess, TargetType: "user", TargetID: &u.ID}); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: token, ExpiresIn: s.tokens.TTL(), User: u}, nil
}

// loginFailed audits a failed sign-in; the throttle counted it already,
// when the attempt was reserved.
func (s *Service) loginFailed(ctx context.Context, userID *int64, reason string) error {
	// The attempted name is not recorded for unknown accounts: people type
	// passwords into the username field.
	e := audit.Entry{At: s.now(), Action: audit.LoginFailure, Detail: map[string]any{"reason": reason}}
	if userID != nil {
		e.TargetType, e.TargetID = "user", userID
	}
	if err := audit.Record(ctx, s.db.Write, e); err != nil {
		return err
	}
	return ErrBadCredentials
}

// also is err, joined with undo's error only when undoing failed too, so
// callers comparing err to a sentinel still can.
func also(err, undo error) error {
	if undo == nil {
		return err
	}
	return errors.Join(err, undo)
}

func accountKey(id int64) string { return "u:" + strconv.FormatInt(id, 10) }

// Authenticate verifies a bearer token and returns its user as the database
// has it now: a deactivated user, or a token from before a logout, password
// change or role change, is refused.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	id, version, err := s.tokens.Verify(token)
	if err != nil {
		return User{}, err
	}
	// A point read by primary key under WAL never waits on writers, so it
	// runs without the request's cancellation: a cancellable context makes
	// database/sql start a watcher goroutine per query, a tenth of the cost
	// of this hot path.
	u, err := scanUser(s.byID.QueryRowContext(context.WithoutCancel(ctx), id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrBadToken
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if !u.IsActive || u.TokenVersion != version {
		return User{}, ErrBadToken
	}
	return u, nil
}

// ChangePassword replaces u's password after checking the current one and
// revokes every token issued before.
func (s *Service) ChangePassword(ctx context.Context, u User, current, next string) error {
	if fe := CheckPassword("new_password", next, u.Username, u.Email); fe != nil {
		return errs.InvalidFields(*fe)
	}
	if next == current {
		return errs.InvalidFields(errs.FieldError{Field: "new_password", Message: "must differ from the current password"})
	}
	// Counted before the check, as sign-ins are, so a burst of guesses
	// cannot check more than the budget.
	r, wait, ok, err := s.passwords.Reserve(ctx, Limit{Key: accountKey(u.ID), Max: s.maxFailures})
	if err != nil {
		return err
	}
	if !ok {
		return errs.TooManyRetry("too many failed password attempts; try again later", wait)
	}
	ok, err = s.hasher.Verify(ctx, u.PasswordHash, current)
	if err != nil {
		return also(err, s.passwords.Release(ctx, r))
	}
	if !ok {
		return ErrWrongPassword
	}
	if err := s.passwords.Release(ctx, r); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.modify(ctx, u.ID, func(tx *sql.Tx, cur *User) error {
		cur.PasswordHash = hash
		cur.TokenVersion++
		return audit.Record(ctx, tx, audit.Entry{At: s.now(), ActorID: &u.ID, Action: audit.PasswordChange, TargetType: "user", TargetID: &u.ID})
	})
}

// Logout revokes this token and every earlier one of u.
func (s *Service) Logout(ctx context.Context, u User) error {
	return s.modify(ctx, u.ID, func(tx *sql.Tx, cur *User) error {
		cur.TokenVersion++
		return audit.Record(ctx, tx, audit.Entry{At: s.now(), ActorID: &u.ID, Action: audit.Logout, TargetType: "user", TargetID: &u.ID})
	})
}

// Patch is an admin's change to an account; nil fields are left alone.
type Patch struct {
	Role     *Role
	IsActive *bool
	FullName *string
}

// UpdateUser applies an admin's patch. A role change or deactivation revokes
// the user's tokens at once. An admin may not deactivate or demote themself,
// so the last admin cannot lock everyone out.
func (s *Service) UpdateUser(ctx context.Context, actor User, id int64, p Patch) (User, error) {
	if p.Role != nil {
		if _, err := ParseRole(string(*p.Role)); err != nil {
			return User{}, err
		}
	}
	if p.FullName != nil {
		name, fe := NormalizeFullName(*p.FullName)
		if fe != nil {
			return User{}, errs.InvalidFields(*fe)
		}
		p.FullName = &name
	}
	if id == actor.ID && ((p.Role != nil && *p.Role != actor.Role) || (p.IsActive != nil && !*p.IsActive)) {
		return User{}, ErrSelfLockout
	}
	var out User
	err := s.modify(ctx, id, func(tx *sql.Tx, cur *User) error {
		if p.Role != nil && *p.Role != cur.Role {
			detail := map[string]any{"from": string(cur.Role), "to": string(*p.Role)}
			cur.Role = *p.Role
			cur.TokenVersion++
			if err := audit.Record(ctx, tx, audit.Entry{At: s.now(), ActorID: &actor.ID, Action: audit.RoleChange, TargetType: "user", TargetID: &cur.ID, Detail: detail}); err != nil {
				return err
			}
		}
		if p.IsActive != nil && *p.IsActive != cur.IsActive {
			cur.IsActive = *p.IsActive
			cur.TokenVersion++
			detail := map[string]any{"is_active": cur.IsActive}
			if err := audit.Record(ctx, tx, audit.Entry{At: s.now(), ActorID: &actor.ID, Action: audit.ActiveChange, TargetType: "user", TargetID: &cur.ID, Detail: detail}); err != nil {
				return err
			}
		}
		if p.FullName != nil {
			cur.FullName = *p.FullName
		}
		out = *cur
		return nil
	})
	return out, err
}

// modify reads user id inside a write transaction, lets fn change it (and
// write audit entries), then stores it.
func (s *Service) modify(ctx context.Context, id int64, fn func(tx *sql.Tx, u *User) error) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("modify user: %w", err)
	}
	defer tx.Rollback()
	u, err := findUser(ctx, tx, userForUpdate[s.db.Engine], id)
	if err != nil {
		return err
	}
	if err := fn(tx, &u); err != nil {
		return err
	}
	u.UpdatedAt = s.now()
	if err := updateUser(ctx, tx, u); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("modify user: %w", err)
	}
	return nil
}

// ListUsers returns a page of users and the total that match.
func (s *Service) ListUsers(ctx context.Context, f ListFilter) ([]User, int, error) {
	return listUsers(ctx, s.db.Read, f)
}

// CountByRole counts accounts per role.
func (s *Service) CountByRole(ctx context.Context) (map[Role]int, error) {
	return countByRole(ctx, s.db.Read)
}
