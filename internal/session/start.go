package session

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/audit"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/tutor"
)

// Started is a new session with what the student needs to begin.
type Started struct {
	Session Session
	Opening string
	// Remaining is how many more sessions the student may start this
	// week; nil for users whose sessions are not counted.
	Remaining *int
}

// Quota is a user's weekly allowance.
type Quota struct {
	Limit, Used, Remaining int
	ResetsAt               time.Time
	// Applies is false for professors and admins, whose sessions are not
	// counted.
	Applies bool
}

// weekBounds is the calendar week holding t: from Monday 00:00 in loc to
// the next Monday 00:00. Days are counted on the calendar, not in hours, so
// a week across a daylight-saving change is 167 or 169 hours long.
func weekBounds(t time.Time, loc *time.Location) (start, end time.Time) {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7 // days since Monday
	y, m, d := l.Date()
	return time.Date(y, m, d-back, 0, 0, 0, 0, loc), time.Date(y, m, d-back+7, 0, 0, 0, 0, loc)
}

// counts says whether u's sessions count against a weekly quota.
func counts(u auth.User) bool { return u.Role == auth.RoleStudent }

// usedThisWeek counts u's counted sessions started in [from, to).
func usedThisWeek(ctx context.Context, ex sqlite.Execer, userID int64, from, to time.Time) (int, error) {
	var n int
	err := ex.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE user_id = ? AND counted = TRUE AND started_at >= ? AND started_at < ?`,
		userID, sqlite.FormatTime(from), sqlite.FormatTime(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// Quota returns u's allowance for the current week.
func (s *Service) Quota(ctx context.Context, u auth.User) (Quota, error) {
	now := s.o.Now()
	from, to := weekBounds(now, s.o.Location)
	q := Quota{Limit: s.o.PerWeek, ResetsAt: to, Applies: counts(u)}
	if q.Applies {
		var err error
		if q.Used, err = usedThisWeek(ctx, s.db.Read, u.ID, from, to); err != nil {
			return Quota{}, err
		}
	}
	q.Remaining = max(q.Limit-q.Used, 0)
	return q, nil
}

// Start opens a session on a week for u. The quota check and the insert
// are one write (batched: see sqlite.Batcher), so concurrent starts cannot
// pass the limit together; a student's active session, if any, is ended
// in it too.
func (s *Service) Start(ctx context.Context, u auth.User, weekID int64, voiceID string) (Started, error) {
	voiceID, err := cleanVoiceID(voiceID)
	if err != nil {
		return Started{}, err
	}
	// A session that could not store a turn would spend one of the week's
	// starts (and end the open one) for nothing.
	if s.db.Disk.Full() {
		return Started{}, ErrDiskFullStart
	}
	var out Started
	err = s.db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = s.start(ctx, tx, u, weekID, voiceID)
		return err
	})
	if err != nil {
		return Started{}, err
	}
	return out, nil
}

// StartWith is Start with a step between the checks and the write: the
// week's access, its readings, the quota and the day's budget are checked
// (read-only) first; then before runs (the voice layer mints the session's
// credentials there); then Start writes, checking everything again in its
// transaction. When before fails, nothing is written and the quota is not
// spent; when the write refuses (a concurrent start took the last place),
// whatever before obtained is simply not handed out.
func (s *Service) StartWith(ctx context.Context, u auth.User, weekID int64, voiceID string, before func(context.Context) error) (Started, error) {
	if before != nil {
		if err := s.checkStart(ctx, u, weekID, voiceID); err != nil {
			return Started{}, err
		}
		if s.db.Disk.Full() { // before minting voice credentials for nothing
			return Started{}, ErrDiskFullStart
		}
		if err := before(ctx); err != nil {
			return Started{}, err
		}
	}
	return s.Start(ctx, u, weekID, voiceID)
}

// checkStart refuses, without writing, what start would refuse.
func (s *Service) checkStart(ctx context.Context, u auth.User, weekID int64, voiceID string) error {
	if _, err := cleanVoiceID(voiceID); err != nil {
		return err
	}
	w, err := course.AuthorizeWeek(ctx, s.db.Read, u, weekID, course.Study)
	if err != nil {
		return err
	}
	if w.ProcessedDocumentCount == 0 {
		return ErrNoReadings
	}
	if !counts(u) {
		return nil
	}
	now := s.o.Now()
	from, to := weekBounds(now, s.o.Location)
	used, err := usedThisWeek(ctx, s.db.Read, u.ID, from, to)
	if err != nil {
		return err
	}
	if used >= s.o.PerWeek {
		return quotaError(now, to)
	}
	return s.checkBudget(ctx, s.db.Read, u, now)
}

func cleanVoiceID(voiceID string) (string, error) {
	voiceID = strings.TrimSpace(voiceID)
	if len(voiceID) > 128 || strings.ContainsFunc(voiceID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errs.InvalidFields(errs.FieldError{Field: "voice_id", Message: "is not a voice id"})
	}
	return voiceID, nil
}

// quotaError is the 429 of a used-up week, with Retry-After in whole
// seconds, rounded up so it never points before the reset.
func quotaError(now, reset time.Time) error {
	wait := reset.Sub(now)
	wait = (wait + time.Second - 1).Truncate(time.Second)
	return errs.TooManyRetry(QuotaDetail, wait)
}

// starterForUpdate locks the starting user's row, per engine, before
// start counts the week's sessions and ends the open one. On PostgreSQL
// two instances' starts for one student would otherwise both count the
// same sessions under READ COMMITTED and both pass the quota (and both
// find no open session to end, one then refused by the unique index);
// locked, the second waits for the first to commit and counts again.
// SQLite needs none: its write transaction (BEGIN IMMEDIATE) already holds
// the one write lock, across processes too.
var starterForUpdate = map[sqlite.Engine]string{
	sqlite.Postgres: `SELECT id FROM users WHERE id = ? FOR UPDATE`,
}

// start is Start's write.
func (s *Service) start(ctx context.Context, tx *sql.Tx, u auth.User, weekID int64, voiceID string) (Started, error) {
	// tx's queries as prepared statements, as a turn's (see begin): a
	// start runs a dozen, each otherwise parsed again every time.
	ex := s.db.WriteStmts.In(tx)
	if q := starterForUpdate[s.db.Engine]; q != "" {
		var id int64
		if err := ex.QueryRowContext(ctx, q, u.ID).Scan(&id); err != nil {
			return Started{}, fmt.Errorf("start session: %w", err)
		}
	}
	w, err := course.StudyWeek(ctx, ex, u, weekID)
	if err != nil {
		return Started{}, err
	}
	if w.ProcessedDocumentCount == 0 {
		return Started{}, ErrNoReadings
	}
	now := s.o.Now()
	out := Started{}
	if counts(u) {
		from, to := weekBounds(now, s.o.Location)
		used, err := usedThisWeek(ctx, ex, u.ID, from, to)
		if err != nil {
			return Started{}, err
		}
		if used >= s.o.PerWeek {
			return Started{}, quotaError(now, to)
		}
		left := s.o.PerWeek - used - 1
		out.Remaining = &left
		// A session that could not say a word would waste a week's
		// conversation.
		if err := s.checkBudget(ctx, ex, u, now); err != nil {
			return Started{}, err
		}
	}
	if err := s.endActive(ctx, ex, u, now); err != nil {
		return Started{}, err
	}
	sess := Session{UserID: u.ID, CourseID: w.CourseID, WeekID: w.ID, CourseCreatedAt: w.CourseCreatedAt, WeekCreatedAt: w.WeekCreatedAt, CourseCode: w.CourseCode, CourseName: w.CourseName,
		WeekNumber: w.Number, WeekTitle: w.Title, Status: Active, Counted: counts(u), VoiceID: voiceID,
		StartedAt: now, ExpiresAt: now.Add(s.o.MaxDuration)}
	sess.Theme, out.Opening = s.opening(w.Week)
	err = ex.QueryRowContext(ctx, `INSERT INTO sessions (user_id, course_id, week_id, course_created_at, week_created_at, course_code, course_name, week_number, week_title,
		status, counted, theme, voice_id, started_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?) RETURNING id`,
		sess.UserID, sess.CourseID, sess.WeekID, sess.CourseCreatedAt, sess.WeekCreatedAt, sess.CourseCode, sess.CourseName, sess.WeekNumber, sess.WeekTitle,
		sess.Counted, sess.Theme, sess.VoiceID, sqlite.FormatTime(sess.StartedAt), sqlite.FormatTime(sess.ExpiresAt)).Scan(&sess.ID)
	if err != nil {
		return Started{}, fmt.Errorf("start session: %w", err)
	}
	if _, err := insertTurn(ctx, ex, sess.ID, Tutor, out.Opening, now, "done", "", 0); err != nil {
		return Started{}, err
	}
	if err := record(ctx, ex, u, audit.SessionStart, sess.ID, now, map[string]any{"week_id": sess.WeekID, "course_id": sess.CourseID}); err != nil {
		return Started{}, err
	}
	out.Session = sess
	return out, nil
}

// endActive ends u's active session, if any: one at a time.
func (s *Service) endActive(ctx context.Context, tx sqlite.Execer, u auth.User, now time.Time) error {
	sess, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.user_id = ? AND s.status = 'active'`, u.ID))
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find active session: %w", err)
	}
	return s.end(ctx, tx, u, &sess, now, endReplaced)
}

// end ends a session and records it. A turn still being answered is left
// unanswered: its answer, when it comes, is not stored in an ended
// session, so the transcript End returns is the session's last word.
func (s *Service) end(ctx context.Context, tx sqlite.Execer, actor auth.User, sess *Session, now time.Time, reason string) error {
	d := s.durationAt(*sess, now)
	if err := endSession(ctx, tx, sess, now, d, reason); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE turns SET state = 'unanswered' WHERE session_id = ? AND state = 'pending'`, sess.ID); err != nil {
		return fmt.Errorf("end session %d: %w", sess.ID, err)
	}
	return record(ctx, tx, actor, audit.SessionEnd, sess.ID, now, map[string]any{"reason": reason, "duration_seconds": d})
}

func record(ctx context.Context, tx sqlite.Execer, actor auth.User, action string, id int64, at time.Time, detail map[string]any) error {
	var actorID *int64
	if actor.ID > 0 { // 0: the server itself (the sweeper)
		actorID = &actor.ID
	}
	return audit.Record(ctx, tx, audit.Entry{At: at, ActorID: actorID, Action: action, TargetType: "session", TargetID: &id, Detail: detail})
}

// Openings: the original design's, and variations on it, so that three
// sessions a week do not all begin alike. %s is the theme.
var themedOpenings = []string{
	"Let's explore the concept of %s from this week's readings. What aspects of this topic did you find most interesting or challenging?",
	"Today let's start with %s. What in this week's readings struck you most about it?",
	"I'd like to begin with %s, from this week's readings. How would you explain what is at stake there, in your own words?",
	"Let's talk about %s. Which part of this week's readings on it was hardest to pin down, and why?",
	"Our starting point is %s. If you had to explain the key idea from this week's readings to a classmate, where would you begin?",
}

// untitledOpenings are for a week that has no themes yet.
var untitledOpenings = []string{
	"Let's explore this week's readings. What aspects did you find most interesting or challenging?",
	"Let's start with this week's readings. Which case or passage stayed with you, and why?",
	"I'd like to hear your take on this week's readings. What question did they leave you with?",
}

// opening picks a theme of the week at random and words the first
// question around it. A stored theme that fails moderation's theme check
// (one kept from before the check) is never spoken.
func (s *Service) opening(w course.Week) (theme, text string) {
	var themes []string
	for _, t := range tutor.UsableThemes(w.Themes) {
		if t = strings.Join(strings.Fields(t), " "); t != "" {
			themes = append(themes, t)
		}
	}
	if len(themes) == 0 {
		return "", untitledOpenings[s.intn(len(untitledOpenings))]
	}
	theme = themes[s.intn(len(themes))]
	return theme, fmt.Sprintf(themedOpenings[s.intn(len(themedOpenings))], themePhrase(theme))
}

// countHeads are the head words of a theme that, singular, need "the"
// in a sentence: "the Due Process Clause", "the mirror image rule". A
// case name ("Goldberg v. Kelly"), a plural ("expectation damages") or
// a mass noun ("consideration", "promissory estoppel") reads without it.
var countHeads = map[string]bool{
	"rule": true, "doctrine": true, "test": true, "clause": true, "standard": true,
	"exception": true, "requirement": true, "amendment": true, "act": true,
	"statute": true, "principle": true, "compact": true, "code": true,
	"privilege": true, "presumption": true, "defense": true, "defence": true,
	"immunity": true, "right": true, "power": true, "theory": true, "order": true,
}

// themePhrase is a theme as it reads inside an opening sentence.
func themePhrase(theme string) string {
	words := strings.Fields(theme)
	if len(words) == 0 || strings.Contains(theme, " v. ") {
		return theme
	}
	first := strings.ToLower(words[0])
	if first == "the" || first == "a" || first == "an" {
		return theme
	}
	if countHeads[strings.ToLower(strings.Trim(words[len(words)-1], ".,;:"))] {
		return "the " + theme
	}
	return theme
}
