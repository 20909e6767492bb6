package session

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/tutor"
)

// turnLease is how long a student's turn may stay pending before another
// message may take the session: longer than any answer takes (the model's
// own timeouts and retries included), so it only frees a session whose
// answering process died.
const turnLease = 3 * time.Minute

// Answer is a tutor turn as the student receives it.
type Answer struct {
	Text      string
	Sources   []Source
	Moderated bool
	Remaining time.Duration // left on the session's clock
}

// Pending is a student's turn, stored, whose answer is still to come: to
// be made, or (for a repeated client_msg_id) fetched or waited for.
type Pending struct {
	s      *Service
	sess   Session
	user   auth.User
	turnID int64
	text   string
	replay *Answer // the message was answered before
	wait   bool    // the message is being answered by another request
	done   chan struct{}
	slot   *llm.Slot // the turn's place among the model calls at once
	// cost is what the turn was charged when it began; classified, that
	// the moderation classifier was asked about it.
	cost       tutor.Cost
	classified bool
	// rewrote: the tutor asked the model for the turn's search query
	// (QUERY_REWRITE), whose estimate the turn keeps like the classifier's.
	rewrote bool
	// prior is what was said before the turn and its week's themes: on
	// SQLite read by begin, in the write that stores the turn; nil until
	// read.
	prior *prior
}

// Begin checks that u may send text to the session now and stores it as a
// pending student turn, before any model is called. The caller must Run
// the result.
func (s *Service) Begin(ctx context.Context, u auth.User, sessionID int64, text, clientMsgID string) (*Pending, error) {
	// The pace is measured between messages' arrivals, before each waits
	// for the write: a message queued behind a busy moment must not make
	// the student's next, properly spaced one look too soon.
	arrived := s.o.Now()
	text, err := checkMessage(text, clientMsgID)
	if err != nil {
		return nil, err
	}
	var p *Pending
	timeUp := false
	err = s.db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		p, timeUp, err = s.begin(ctx, tx, u, sessionID, text, clientMsgID, arrived)
		return err
	})
	if err != nil {
		if p != nil && p.done != nil {
			s.answerFinished(p.turnID, p.done)
		}
		if p != nil {
			p.slot.Release()
		}
		if s.db.Disk.Saw(err) {
			return nil, ErrDiskFull // the batch rolled back: nothing of the turn was stored
		}
		return nil, err
	}
	if timeUp {
		return nil, ErrTimeUp
	}
	return p, nil
}

// begin is Begin's write: the session's state, a repeated client_msg_id,
// a turn in flight, and the new pending turn. timeUp reports a session
// that it ended (a change to commit, and an error for the caller).
func (s *Service) begin(ctx context.Context, tx *sql.Tx, u auth.User, sessionID int64, text, clientMsgID string, arrived time.Time) (p *Pending, timeUp bool, err error) {
	// tx's queries as prepared statements (a turn runs these every time).
	ex := s.db.WriteStmts.In(tx)
	if q := sessionForUpdate[s.db.Engine]; q != "" {
		if _, err := ex.ExecContext(ctx, q, sessionID); err != nil {
			return nil, false, fmt.Errorf("send message: %w", err)
		}
	}
	sess, err := owned(ctx, ex, u, sessionID)
	if err != nil {
		return nil, false, err
	}
	now := s.o.Now()
	p = &Pending{s: s, sess: sess, user: u, text: text}
	// The turn this client_msg_id names, and the turn in flight, if any.
	var idTurn, busy struct {
		id        int64
		state, at string
	}
	rows, err := ex.QueryContext(ctx, `SELECT id, state, at, coalesce(client_msg_id = ?, FALSE) FROM turns WHERE session_id = ? AND (client_msg_id = ? OR state = 'pending')`,
		clientMsgID, sess.ID, clientMsgID)
	if err != nil {
		return nil, false, fmt.Errorf("send message: %w", err)
	}
	for rows.Next() {
		var id int64
		var state, at string
		var mine bool
		if err := rows.Scan(&id, &state, &at, &mine); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("send message: %w", err)
		}
		if mine && clientMsgID != "" {
			idTurn.id, idTurn.state, idTurn.at = id, state, at
		}
		if state == "pending" {
			busy.id, busy.state, busy.at = id, state, at
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("send message: %w", err)
	}
	if idTurn.id != 0 {
		id, state := idTurn.id, idTurn.state
		switch {
		case state == "answered":
			a, err := storedAnswer(ctx, ex, id)
			if err != nil {
				return nil, false, err
			}
			a.Remaining = remaining(sess, now)
			p.replay = &a
			return p, false, nil
		case state == "pending":
			p.turnID, p.wait = id, true
			return p, false, nil
		default: // unanswered: this is its retry, a new turn that takes over the id
			if _, err := ex.ExecContext(ctx, `UPDATE turns SET client_msg_id = NULL WHERE id = ?`, id); err != nil {
				return nil, false, fmt.Errorf("send message: %w", err)
			}
		}
	}
	if sess.Status == Ended {
		return nil, false, ErrEnded
	}
	if err := mayStillStudy(ctx, ex, u, sess); err != nil {
		return nil, false, err
	}
	if !now.Before(sess.ExpiresAt) {
		if err := s.end(ctx, ex, u, &sess, now, endExpired); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	if busy.id != 0 {
		at, err := sqlite.ParseTime(busy.at)
		if err != nil {
			return nil, false, err
		}
		if s.isAnswering(busy.id) || now.Sub(at) < turnLease {
			return nil, false, ErrBusy
		}
		// Its answering process is gone (or hung past every timeout).
		if err := setState(ctx, ex, busy.id, "pending", "unanswered"); err != nil {
			return nil, false, err
		}
	}
	// A new turn writes twice (the student's words, then the answer): on a
	// full disk, refuse it before the first, not between the two. Asked
	// here, after the refusals that write nothing, so an ended session
	// still says so and a repeated message still gets its stored answer.
	if s.db.Disk.Full() {
		return nil, false, ErrDiskFull
	}
	// What a new turn may cost: its pace, the student's day, a place
	// among the model calls at once. A repeated message (above) costs
	// nothing and passes; a refused one stores nothing.
	if err := s.checkPace(sess, arrived); err != nil {
		return nil, false, err
	}
	if err := s.checkBudget(ctx, ex, u, now); err != nil {
		return nil, false, err
	}
	if p.slot, err = s.reserve(); err != nil {
		return nil, false, err
	}
	if p.turnID, err = insertTurn(ctx, ex, sess.ID, Student, text, now, "pending", clientMsgID, 0); err != nil {
		p.slot.Release()
		return nil, false, err
	}
	// Charged now, in the same write as the pace, so a turn whose client
	// hangs up (or whose answer fails) still counts against the day.
	p.cost = s.turnCost(text)
	if err := recordPace(ctx, ex, sess.ID, arrived, int64(p.cost.Total())); err != nil {
		p.slot.Release()
		return nil, false, err
	}
	// On SQLite, what was said before is read here rather than on the
	// read pool once the write is done: the write connection is the only
	// one that writes, so its page cache stays warm, while a read on the
	// pool after any write (in a busy minute, every one) starts with an
	// empty cache and decodes each page of the conversation again — a
	// tenth of a turn's CPU. The same rows: the turns before this one are
	// stored, and a session has one turn in flight. On PostgreSQL, whose
	// connections share the server's buffers, the read would only add a
	// round trip to the write, while it holds the session's row and the
	// batch's other writes wait: it is read on the pool (turnInput).
	if s.db.Engine == sqlite.SQLite {
		pr, err := readPrior(ctx, ex, sess, p.turnID)
		if err != nil {
			p.slot.Release()
			return nil, false, err
		}
		p.prior = &pr
	}
	p.done = s.answerStarted(p.turnID)
	return p, false, nil
}

// checkMessage validates a student's message and client_msg_id.
func checkMessage(text, clientMsgID string) (string, error) {
	var fields []errs.FieldError
	text = strings.TrimSpace(strings.ReplaceAll(text, "\x00", ""))
	switch {
	case !utf8.ValidString(text):
		fields = append(fields, errs.FieldError{Field: "message", Message: "is not valid UTF-8 text"})
	case text == "":
		fields = append(fields, errs.FieldError{Field: "message", Message: "is empty"})
	case utf8.RuneCountInString(text) > MaxMessageLen:
		fields = append(fields, errs.FieldError{Field: "message", Message: fmt.Sprintf("is longer than %d characters", MaxMessageLen)})
	}
	if len(clientMsgID) > maxClientMsgIDLen || strings.ContainsFunc(clientMsgID, func(r rune) bool { return r < 0x21 || r == 0x7f }) || !utf8.ValidString(clientMsgID) {
		fields = append(fields, errs.FieldError{Field: "client_msg_id", Message: fmt.Sprintf("must be at most %d printable characters without spaces", maxClientMsgIDLen)})
	}
	if len(fields) > 0 {
		return "", errs.InvalidFields(fields...)
	}
	return text, nil
}

// Run produces the answer, passing each piece of it to onDelta (which may
// be nil) as it comes. The answer is stored before Run returns it; if
// anything fails, or ctx ends (the client went away) before the answer is
// complete, the student's turn is marked unanswered and nothing of the
// answer is kept. An onDelta error stops the model at once.
func (p *Pending) Run(ctx context.Context, onDelta func(string) error) (Answer, error) {
	switch {
	case p.replay != nil:
		if onDelta != nil {
			if err := onDelta(p.replay.Text); err != nil {
				return Answer{}, err
			}
		}
		return *p.replay, nil
	case p.wait:
		a, err := p.s.await(ctx, p.sess, p.turnID)
		if err == nil && onDelta != nil {
			err = onDelta(a.Text)
		}
		return a, err
	}
	return p.s.answer(ctx, p, onDelta)
}

func (s *Service) answer(ctx context.Context, p *Pending, onDelta func(string) error) (a Answer, err error) {
	began := time.Now()
	stored := false
	// Until the model is called, nothing was spent: a turn that fails
	// before gives its charge back. After, the charge stays (the provider
	// bills a prompt it has read, answered or not), unless the provider
	// refused the call outright.
	refund := int64(p.cost.Total())
	defer func() {
		if !stored {
			if e := s.giveUp(p.sess.ID, p.turnID, refund); e != nil {
				s.log.ErrorContext(ctx, "mark turn unanswered", "turn", p.turnID, "err", e)
			}
		}
		s.answerFinished(p.turnID, p.done)
		p.slot.Release()
	}()
	in, err := s.turnInput(ctx, p)
	if err != nil {
		return Answer{}, err
	}
	reply, err := s.tutor.Turn(p.slot.Bind(ctx), s.db.ReadStmts, in)
	if err != nil {
		// The side requests sent before the failure (the classifier's,
		// the query rewrite's) were read by the provider: they stay
		// charged, so a student who hangs up early does not get them free.
		refund = int64(p.cost.Total()) - p.sideCharge(reply.Classified, reply.Rewrote)
		return Answer{}, err
	}
	refund, p.classified, p.rewrote = 0, reply.Classified, reply.Rewrote
	var (
		text     strings.Builder
		first    time.Duration
		usage    llm.Usage
		complete bool
		failure  error // the model's
		sendErr  error // onDelta's: the client is gone
	)
	for ev := range reply.Events {
		switch ev.Kind {
		case llm.Delta:
			if first == 0 {
				first = time.Since(began)
			}
			text.WriteString(ev.Text)
			if onDelta != nil {
				sendErr = onDelta(ev.Text)
			}
		case llm.Done:
			usage, complete = ev.Usage, true
		case llm.Error:
			failure = ev.Err
		}
		if sendErr != nil || failure != nil || complete {
			break
		}
	}
	switch {
	case sendErr != nil:
		return Answer{}, sendErr
	case failure != nil:
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		if errors.Is(failure, llm.ErrBusy) {
			refund = int64(p.cost.Answer)
			return Answer{}, ErrModelBusy
		}
		s.log.WarnContext(ctx, "tutor turn failed", "session", p.sess.ID, "provider", s.tutor.Provider(), "err", failure)
		return Answer{}, ErrNoAnswer
	case !complete:
		if err := ctx.Err(); err != nil {
			return Answer{}, err
		}
		s.log.WarnContext(ctx, "tutor turn ended without an answer", "session", p.sess.ID, "provider", s.tutor.Provider())
		return Answer{}, ErrNoAnswer
	}
	var verdict moderation.Verdict
	if reply.Verdict != nil {
		verdict = *reply.Verdict
	}
	// A verdict on the student's own words (judged) marks their turn
	// moderated: not a verdict the classifier could not give, nor the
	// tutor's words failing the output check, which still get the redirect
	// and a flag for review. Of those, only sexual, harassing, manipulative,
	// violent (or self-harm) turns are strikes toward ending the session:
	// an off-topic remark (small talk, gossip, a view on a candidate) gets
	// the redirect, its flag and a moderated turn, but leaves
	// moderated_count alone.
	judged := verdict.Flagged && verdict.Source != moderation.SourceOutput && !verdict.Has(moderation.Unverified)
	strike := judged && verdict.Strike()
	closing := strike && p.sess.ModeratedCount+1 >= MaxModerated
	// A student who spoke of harm has had the caring reply; a cheerful
	// "see you next time" would not follow it well.
	if closing && !verdict.Has(moderation.SelfHarm) && !verdict.Has(moderation.Violence) {
		// The last turn the session allows off the course: end it kindly.
		text.WriteString(" " + ClosingLine)
		if onDelta != nil {
			_ = onDelta(" " + ClosingLine) // stored even if the client has gone
		}
	}
	answerText := strings.TrimSpace(text.String())
	if answerText == "" {
		s.log.WarnContext(ctx, "tutor turn was empty", "session", p.sess.ID, "provider", s.tutor.Provider())
		return Answer{}, ErrNoAnswer
	}
	a = Answer{Text: answerText, Sources: toSources(reply.Sources), Moderated: verdict.Flagged}
	if a.Moderated {
		a.Sources = []Source{} // a fixed reply rests on no passage
	}
	// The answer is whole: keep it even if the client has just gone, so a
	// retry of the same client_msg_id finds it.
	if err := s.storeAnswer(context.WithoutCancel(ctx), p, a, verdict, judged, strike, closing, usage, first); err != nil {
		if errors.Is(err, errTaken) {
			return Answer{}, ErrEnded
		}
		if s.db.Disk.Saw(err) {
			// The answer's transaction rolled back whole; the deferred
			// giveUp marks the student's turn unanswered, so a retry
			// starts clean.
			return Answer{}, ErrDiskFull
		}
		return Answer{}, err
	}
	s.answers.count(verdict)
	stored = true
	a.Remaining = remaining(p.sess, s.o.Now())
	return a, nil
}

// turnInput is what the tutor needs: the week, and the transcript before
// this turn as stored (never from process memory), as begin read them or
// read now.
func (s *Service) turnInput(ctx context.Context, p *Pending) (tutor.TurnInput, error) {
	if p.prior == nil {
		pr, err := readPrior(ctx, s.db.ReadStmts, p.sess, p.turnID)
		if err != nil {
			return tutor.TurnInput{}, err
		}
		p.prior = &pr
	}
	week := tutor.Week{Course: p.sess.CourseName, Number: p.sess.WeekNumber, Title: p.sess.WeekTitle}
	weekID := p.sess.WeekID
	if !p.prior.weekFound {
		// The week is gone (its id may even be another week's now); its
		// session is not, and there is nothing of it left to retrieve.
		weekID = 0
	} else if err := decodeList(p.prior.themes, &week.Themes); err != nil {
		return tutor.TurnInput{}, fmt.Errorf("turn week themes: %w", err)
	}
	in := tutor.TurnInput{
		WeekID:  weekID,
		Week:    week,
		History: p.prior.history,
		Student: p.text,
		Clock:   tutor.Clock{Elapsed: s.o.Now().Sub(p.sess.StartedAt), Limit: s.o.MaxDuration},
		UserID:  opaqueUser(p.sess.UserID),

		HistoryBudget: s.o.HistoryBudget,
	}
	if weekID != 0 {
		v := p.prior.version
		in.WeekVersion = &v
	}
	return in, nil
}

// turnContextQuery reads, in one statement, what was said before a turn
// (kind 0, in order) and, last, the themes of the session's week with its
// versions (by retrieval's own SQL for them; kind 1, no such row when the
// week is gone).
var turnContextQuery = `SELECT kind, role, content, passages, vectors FROM (
	SELECT 0 AS kind, id, role, content, 0 AS passages, 0 AS vectors FROM turns WHERE session_id = ?1 AND id < ?2 AND state IN ('answered', 'done') AND moderated = FALSE
	UNION ALL
	SELECT 1, 0, '', themes, ` + retrieval.WeekVersionColumns("?3") + `
	FROM weeks WHERE id = ?3 AND created_at = ?4
) AS c ORDER BY kind, id`

// prior is what was said in a session before a turn, as the model reads
// it: answered student turns and the tutor's, in order, without their
// sources. Moderated exchanges are left out: words refused once are not
// fed to the model later. With it come the themes of the session's week
// as stored (a JSON array) and whether that week, the same one (its
// creation time with its id), still exists.
type prior struct {
	history   []llm.Message
	themes    string
	weekFound bool
	// version is the week's versions, read with the rest: the turn's
	// search needs them and need not read them again on the pool.
	version retrieval.WeekVersion
}

// readPrior reads what was said in sess before the turn numbered before.
func readPrior(ctx context.Context, ex sqlite.Execer, sess Session, before int64) (prior, error) {
	var pr prior
	rows, err := ex.QueryContext(ctx, turnContextQuery, sess.ID, before, sess.WeekID, sess.WeekCreatedAt)
	if err != nil {
		return prior{}, fmt.Errorf("conversation: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind int
		var m llm.Message
		var v retrieval.WeekVersion
		if err := rows.Scan(&kind, &m.Role, &m.Text, &v.Passages, &v.Vectors); err != nil {
			return prior{}, fmt.Errorf("conversation: %w", err)
		}
		if kind == 1 {
			pr.themes, pr.weekFound, pr.version = m.Text, true, v
			continue
		}
		pr.history = append(pr.history, m)
	}
	if err := rows.Err(); err != nil {
		return prior{}, fmt.Errorf("conversation: %w", err)
	}
	return pr, nil
}

// storeAnswer appends the tutor's turn and marks the student's answered,
// in one transaction.
func (s *Service) storeAnswer(ctx context.Context, p *Pending, a Answer, v moderation.Verdict, judged, strike, closing bool, u llm.Usage, first time.Duration) error {
	src, err := json.Marshal(a.Sources)
	if err != nil {
		return fmt.Errorf("store answer: %w", err)
	}
	cats, err := json.Marshal(nonNil(v.Categories))
	if err != nil {
		return fmt.Errorf("store answer: %w", err)
	}
	return s.db.Batch.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ex := s.db.WriteStmts.In(tx)
		if err := setState(ctx, ex, p.turnID, "pending", "answered"); err != nil {
			return err
		}
		now := s.o.Now()
		var answerID int64
		err := ex.QueryRowContext(ctx, `INSERT INTO turns (session_id, role, content, at, state, reply_to, sources, moderated, moderation, provider,
			input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, latency_ms) VALUES (?, 'assistant', ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.sess.ID, a.Text, sqlite.FormatTime(now), p.turnID, string(src), a.Moderated, string(cats), s.tutor.Provider(),
			u.Input, u.Output, u.CacheRead, u.CacheWrite, first.Milliseconds()).Scan(&answerID)
		if err != nil {
			return fmt.Errorf("store answer: %w", err)
		}
		if err := chargeTokens(ctx, ex, p.sess.ID, p.reconcile(u)); err != nil {
			return err
		}
		if !v.Flagged {
			return nil
		}
		// The flag goes on the reply and on the session, where professors
		// review it; a verdict on the student's words also on their turn
		// (what was judged, which is then never fed to the model again),
		// and a strike in the session's count.
		flag, err := json.Marshal(Flag{TurnID: p.turnID, ReplyID: answerID, Categories: v.Categories, Source: v.Source, At: now.UTC()})
		if err != nil {
			return fmt.Errorf("store moderation: %w", err)
		}
		count := 0
		if strike {
			count = 1
		}
		if judged {
			if _, err := ex.ExecContext(ctx, `UPDATE turns SET moderated = TRUE, moderation = ? WHERE id = ?`, string(cats), p.turnID); err != nil {
				return fmt.Errorf("store moderation: %w", err)
			}
		}
		if _, err := ex.ExecContext(ctx, appendFlag[s.db.Engine], count, string(flag), p.sess.ID); err != nil {
			return fmt.Errorf("store moderation: %w", err)
		}
		if closing {
			sess, err := findSession(ctx, ex, p.sess.ID)
			if err != nil {
				return err
			}
			if sess.Status == Active {
				return s.end(ctx, ex, p.user, &sess, now, endModeration)
			}
		}
		return nil
	})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// errTaken is a pending turn that something else resolved first: the
// session ended, or the sweeper gave up on it.
var errTaken = errors.New("the turn was taken over")

// setState moves a student's turn from one state to another; a turn no
// longer in from (taken over as stale) is an error, so its late answer is
// not stored.
func setState(ctx context.Context, tx sqlite.Execer, turnID int64, from, to string) error {
	res, err := tx.ExecContext(ctx, `UPDATE turns SET state = ? WHERE id = ? AND state = ?`, to, turnID, from)
	if err != nil {
		return fmt.Errorf("turn state: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("turn %d is no longer %s: %w", turnID, from, errTaken)
	}
	return nil
}

// reconcile is what an answered turn adds to its charge: the model's count
// of the answer, and the classifier's and the query rewrite's estimates if
// they were asked, less what the turn was charged when it began.
func (p *Pending) reconcile(u llm.Usage) int64 {
	return usageTokens(u) - int64(p.cost.Total()) + p.sideCharge(p.classified, p.rewrote)
}

// sideCharge is the estimate of the side requests a turn sent.
func (p *Pending) sideCharge(classified, rewrote bool) int64 {
	var n int64
	if classified {
		n += int64(p.cost.Classifier)
	}
	if rewrote {
		n += int64(p.cost.Rewrite)
	}
	return n
}

// giveUp marks a pending turn unanswered, and gives back refund of what
// it was charged (a turn the model never read).
func (s *Service) giveUp(sessionID, turnID, refund int64) error {
	return s.db.Batch.Do(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		ex := s.db.WriteStmts.In(tx)
		if _, err := ex.ExecContext(ctx, `UPDATE turns SET state = 'unanswered' WHERE id = ? AND state = 'pending'`, turnID); err != nil {
			return err
		}
		return chargeTokens(ctx, ex, sessionID, -refund)
	})
}

// storedAnswer is the answer stored for a student's turn.
func storedAnswer(ctx context.Context, ex sqlite.Execer, turnID int64) (Answer, error) {
	t, err := scanTurn(ex.QueryRowContext(ctx, `SELECT `+turnColumns+` FROM turns t WHERE t.reply_to = ?`, turnID))
	if err != nil {
		return Answer{}, fmt.Errorf("stored answer of turn %d: %w", turnID, err)
	}
	return Answer{Text: t.Content, Sources: t.Sources, Moderated: t.Moderated}, nil
}

// await waits for another request's answer to the same message.
func (s *Service) await(ctx context.Context, sess Session, turnID int64) (Answer, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ch := s.answering[turnID]
		s.mu.Unlock()
		if ch != nil {
			select {
			case <-ch:
			case <-ctx.Done():
				return Answer{}, ctx.Err()
			}
		}
		var state string
		if err := s.db.Read.QueryRowContext(ctx, `SELECT state FROM turns WHERE id = ?`, turnID).Scan(&state); err != nil {
			return Answer{}, fmt.Errorf("await answer: %w", err)
		}
		switch state {
		case "answered":
			a, err := storedAnswer(ctx, s.db.Read, turnID)
			a.Remaining = remaining(sess, s.o.Now())
			return a, err
		case "unanswered":
			return Answer{}, ErrNoAnswer
		}
		if ch == nil { // answered by a process that is gone: the lease frees it
			select {
			case <-tick.C:
			case <-ctx.Done():
				return Answer{}, ctx.Err()
			}
		}
	}
}

// answerStarted registers a turn being answered here.
func (s *Service) answerStarted(turnID int64) chan struct{} {
	ch := make(chan struct{})
	s.mu.Lock()
	s.answering[turnID] = ch
	s.mu.Unlock()
	return ch
}

// answerFinished wakes whoever waits for the turn.
func (s *Service) answerFinished(turnID int64, ch chan struct{}) {
	s.mu.Lock()
	if s.answering[turnID] == ch {
		delete(s.answering, turnID)
	}
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// answeringIDs are the turns being answered in this process.
func (s *Service) answeringIDs() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.answering))
	for id := range s.answering {
		ids = append(ids, id)
	}
	return ids
}

func (s *Service) isAnswering(turnID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answering[turnID] != nil
}

func toSources(in []retrieval.Source) []Source {
	out := make([]Source, 0, len(in))
	for _, r := range in {
		out = append(out, Source{ChunkID: r.ChunkID, DocumentID: r.DocumentID, Filename: r.Filename, Page: r.Page, Content: r.Content})
	}
	return out
}

// opaqueUser names a student to a model provider (for its abuse
// detection) without their name or address.
func opaqueUser(id int64) string {
	h := sha256.Sum256([]byte("socratic-student:" + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(h[:12])
}

// Per-engine statements of a turn (the rest is written once for both).
var (
	// appendFlag adds a moderation flag (a JSON object) to the end of a
	// session's moderation_flags array and counts a strike.
	appendFlag = map[sqlite.Engine]string{
		sqlite.SQLite:   `UPDATE sessions SET moderated_count = moderated_count + ?, moderation_flags = json_insert(moderation_flags, '$[#]', json(?)) WHERE id = ?`,
		sqlite.Postgres: `UPDATE sessions SET moderated_count = moderated_count + ?, moderation_flags = (moderation_flags::jsonb || jsonb_build_array(?::jsonb))::text WHERE id = ?`,
	}
	// sessionForUpdate locks the session's row before begin looks for a
	// turn in flight, and before End ends it. On PostgreSQL two instances'
	// turns for one session would otherwise both find none pending and
	// both store theirs (and two ends both end it, recorded twice);
	// locked, the second waits, sees the first's pending turn (or the
	// ended session) and is refused (ErrBusy) or answered as ended.
	// SQLite's write transaction already holds the one write lock.
	sessionForUpdate = map[sqlite.Engine]string{
		sqlite.Postgres: `SELECT id FROM sessions WHERE id = ? FOR UPDATE`,
	}
)
