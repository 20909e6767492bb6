package session

import (
	"context"
	"fmt"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/tutor"
)

// DefaultMaxTurns is how many messages a student may send in one session
// when Options.MaxTurns is unset: a five-minute spoken session has room
// for about twenty.
const DefaultMaxTurns = 40

// ErrModelBusy is a turn refused because the model is answering as many
// turns as it may at once (LLM_MAX_CONCURRENT). Nothing of it is stored.
var ErrModelBusy = &errs.Error{Code: errs.Unavailable, Message: "the tutor is answering as many students as it can right now; please send your message again in a moment", RetryAfter: 2 * time.Second}

// checkPace refuses a turn that arrived too soon after the session's last
// (429, Retry-After: the rest of the interval; both times are arrivals, so
// the server's own queueing never counts against the student) or past the session's
// number of turns (409: waiting does not help, a new session does). It
// reads the session row as the turn's own transaction loaded it, and
// recordPace updates it in that transaction, on the one write connection,
// so parallel messages cannot pass together. Every stored student turn
// counts, answered or not: an answer cancelled midway has cost the model
// as much.
func (s *Service) checkPace(sess Session, now time.Time) error {
	if sess.StudentTurns >= s.o.MaxTurns {
		s.refusedTurns.Add(1)
		return errs.New(errs.Conflict, fmt.Sprintf("this session has reached its %d messages; end it and start a new one", s.o.MaxTurns))
	}
	if s.o.MinTurnInterval <= 0 || sess.LastTurnAt.IsZero() {
		return nil
	}
	if since := now.Sub(sess.LastTurnAt); since < s.o.MinTurnInterval {
		s.refusedPace.Add(1)
		return errs.TooManyRetry(fmt.Sprintf("messages are coming faster than one every %s; wait a moment and send it again", s.o.MinTurnInterval),
			min(s.o.MinTurnInterval-since, s.o.MinTurnInterval))
	}
	return nil
}

// recordPace counts a new student turn on its session, arrived at now,
// and charges it tokens as chargeTokens does: one statement for the
// session's row where there were two (a turn's begin did both).
func recordPace(ctx context.Context, tx sqlite.Execer, sessionID int64, now time.Time, tokens int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET student_turns = student_turns + 1, last_turn_at = ?1,
		tokens_used = CASE WHEN tokens_used + ?2 > 0 THEN tokens_used + ?2 ELSE 0 END WHERE id = ?3`, sqlite.FormatTime(now), tokens, sessionID); err != nil {
		return fmt.Errorf("record pace: %w", err)
	}
	return nil
}

// dayBounds is the calendar day holding t in loc.
func dayBounds(t time.Time, loc *time.Location) (start, end time.Time) {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// tokensToday is what u's sessions started since dayStart have cost: a
// session counts whole on the day it started (it lasts minutes), and
// reading its running total keeps this check to a few rows.
func tokensToday(ctx context.Context, ex sqlite.Execer, userID int64, dayStart time.Time) (int64, error) {
	var n int64
	err := ex.QueryRowContext(ctx, `SELECT coalesce(sum(tokens_used), 0) FROM sessions WHERE user_id = ? AND started_at >= ?`,
		userID, sqlite.FormatTime(dayStart)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("tokens today: %w", err)
	}
	return n, nil
}

// chargeTokens adds n tokens (less, when n is negative: an estimate
// reconciled to what the model reported) to a session's total.
func chargeTokens(ctx context.Context, tx sqlite.Execer, sessionID, n int64) error {
	if n == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET tokens_used = CASE WHEN tokens_used + ?1 > 0 THEN tokens_used + ?1 ELSE 0 END WHERE id = ?2`, n, sessionID); err != nil {
		return fmt.Errorf("record tokens: %w", err)
	}
	return nil
}

// usageTokens is every token a call read (cached or not) and wrote.
func usageTokens(u llm.Usage) int64 {
	return max(u.Input+u.Output+u.CacheRead+u.CacheWrite, 0)
}

// turnCost is what a new turn on text is charged when it begins: the
// tutor's high estimate of its prompt, its max_tokens, its moderation
// check and its search query's rewrite (QUERY_REWRITE). A turn whose client goes away, or whose answer fails, has cost
// the provider the prompt all the same; an answered one is reconciled to
// the model's own count.
func (s *Service) turnCost(text string) tutor.Cost {
	if s.tutor == nil {
		return tutor.Cost{}
	}
	return s.tutor.Estimate(text, s.o.HistoryBudget)
}

// checkBudget refuses a student whose turns today have cost the daily
// budget (429 until midnight where weeks are counted): answered turns at
// the model's count, the others at the estimate they were charged when
// they began. Professors and admins are not counted, as for the weekly
// quota. A turn is let through while anything is left, so the last one
// may overshoot by its own cost.
func (s *Service) checkBudget(ctx context.Context, ex sqlite.Execer, u auth.User, now time.Time) error {
	if s.o.DailyTokens <= 0 || !counts(u) {
		return nil
	}
	start, end := dayBounds(now, s.o.Location)
	used, err := tokensToday(ctx, ex, u.ID, start)
	if err != nil {
		return err
	}
	if used < s.o.DailyTokens {
		return nil
	}
	s.refusedBudget.Add(1)
	wait := (end.Sub(now) + time.Second - 1).Truncate(time.Second)
	return errs.TooManyRetry(fmt.Sprintf("you have used today's tutoring allowance (%d model tokens); it renews at midnight, %s time", s.o.DailyTokens, s.o.Location), wait)
}

// reserve takes the turn's place among the model calls allowed at once.
func (s *Service) reserve() (*llm.Slot, error) {
	if s.tutor == nil {
		return nil, nil
	}
	slot, err := s.tutor.Reserve()
	if err != nil {
		return nil, ErrModelBusy
	}
	return slot, nil
}

// ModelStats are the model's cost and load, for the admin's figures.
type ModelStats struct {
	// Every token the model read (cached or not) and wrote for the
	// answers stored, and the estimate charged for turns left unanswered;
	// today: sessions started today in Location.
	TokensToday, TokensTotal int64
	// Refusals since the process started: too fast, past a session's
	// turns, past a student's daily budget, and the model at its cap.
	RefusedPace, RefusedTurns, RefusedBudget, RefusedBusy int64
	CallsInFlight, MaxConcurrent                          int
}

// Load is ModelStats without the tokens: what this process counts in
// memory, cheap enough for every metrics scrape.
func (s *Service) Load() ModelStats {
	st := ModelStats{RefusedPace: s.refusedPace.Load(), RefusedTurns: s.refusedTurns.Load(), RefusedBudget: s.refusedBudget.Load()}
	if s.tutor != nil {
		load := s.tutor.Load()
		st.CallsInFlight, st.MaxConcurrent, st.RefusedBusy = load.InFlight, load.Max, load.Refused
	}
	return st
}

// ModelStats counts the tokens turns cost, with Load.
func (s *Service) ModelStats(ctx context.Context) (ModelStats, error) {
	start, _ := dayBounds(s.o.Now(), s.o.Location)
	st := s.Load()
	err := s.db.Read.QueryRowContext(ctx, `SELECT coalesce(sum(CASE WHEN started_at >= ? THEN tokens_used END), 0), coalesce(sum(tokens_used), 0) FROM sessions`,
		sqlite.FormatTime(start)).Scan(&st.TokensToday, &st.TokensTotal)
	if err != nil {
		return ModelStats{}, fmt.Errorf("model stats: %w", err)
	}
	return st, nil
}
