package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
	"github.com/lawtutor/socratic/internal/testenv"
	"github.com/lawtutor/socratic/internal/tutor"
)

func claude(t *testing.T, fake *llmtest.Anthropic) llm.Provider {
	t.Helper()
	p, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m", MaxRetries: 1, Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// upTo is a reply's events up to and including its nth text delta.
func upTo(r llmtest.Reply, n int) []llmtest.SSE {
	var out []llmtest.SSE
	for _, ev := range r.Events {
		out = append(out, ev)
		if ev.Name == "content_block_delta" {
			if n--; n == 0 {
				break
			}
		}
	}
	return out
}

// slowed delays a reply's events after its first text delta.
func slowed(r llmtest.Reply, d time.Duration) llmtest.Reply {
	seen := false
	for i, ev := range r.Events {
		if seen {
			r.Events[i].Delay = d
		}
		if ev.Name == "content_block_delta" {
			seen = true
		}
	}
	return r
}

// answering sends the student's text and answers it in the background;
// the channel gives the answer's error.
func (e *env) answering(t *testing.T, id int64, text string) <-chan error {
	t.Helper()
	p, err := e.svc.Begin(context.Background(), e.users["student"], id, text, "")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := p.Run(context.Background(), nil); done <- err }()
	return done
}

func (e *env) turns(t *testing.T, id int64) []Turn {
	t.Helper()
	got, err := e.svc.Get(context.Background(), e.users["student"], id)
	if err != nil {
		t.Fatal(err)
	}
	return got.Transcript
}

// TestHistoryComesFromStorage: the second turn's request carries the
// whole conversation, in order and alternating, read from the database —
// here by a new service, as after a restart.
func TestHistoryComesFromStorage(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		fake := llmtest.NewAnthropic(t, llmtest.Text("Why put the risk ", "on the offeror?"), llmtest.Text("Suppose the letter never arrives. ", "Same result?"))
		e := newEnvOn(t, db, claude(t, fake))
		ctx := context.Background()
		st := e.start(t, "student")
		var streamed []string
		p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Acceptance by mail is effective on dispatch.", "")
		if err != nil {
			t.Fatal(err)
		}
		a, err := p.Run(ctx, func(d string) error { streamed = append(streamed, d); return nil })
		if err != nil || a.Text != "Why put the risk on the offeror?" || strings.Join(streamed, "") != a.Text {
			t.Fatalf("first turn %q (streamed %q): %v", a.Text, streamed, err)
		}
		if len(a.Sources) != 1 || a.Sources[0].Page != 4 {
			t.Errorf("sources %+v", a.Sources)
		}
		restarted := NewService(e.db, Options{Tutor: tutor.New(retrieval.NewSearcher(nil, 0, nil), claude(t, fake)).WithClassifier(nil, 0), AudioDir: e.audioDir, PerWeek: 3, Location: e.chicago, Now: e.clock.Now})
		p, err = restarted.Begin(ctx, e.users["student"], st.Session.ID, "Because the offeror chose the mail.", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
		msgs := fake.Requests()[1].Body["messages"].([]any)
		var roles, texts []string
		for _, m := range msgs {
			mm := m.(map[string]any)
			roles = append(roles, mm["role"].(string))
			var b strings.Builder
			for _, c := range mm["content"].([]any) {
				b.WriteString(c.(map[string]any)["text"].(string))
			}
			texts = append(texts, b.String())
		}
		wantTexts := []string{"(The session begins.)", st.Opening, "Acceptance by mail is effective on dispatch.", "Why put the risk on the offeror?", "Because the offeror chose the mail."}
		if strings.Join(roles, ",") != "user,assistant,user,assistant,user" || strings.Join(texts, "|") != strings.Join(wantTexts, "|") {
			t.Errorf("second request's conversation:\n%v\n%q", roles, texts)
		}
		tr := e.turns(t, st.Session.ID)
		if len(tr) != 5 || tr[4].Content != "Suppose the letter never arrives. Same result?" || len(tr[4].Sources) != 1 || tr[3].Unanswered {
			t.Errorf("stored transcript %+v", tr)
		}
		var in, out, cacheRead int64
		var provider string
		e.db.Read.QueryRow(`SELECT input_tokens, output_tokens, cache_read_tokens, provider FROM turns WHERE id = ?`, tr[2].ID).Scan(&in, &out, &cacheRead, &provider)
		if in != 1523 || out != 18 || cacheRead != 1280 || provider != "anthropic" {
			t.Errorf("usage stored: in %d out %d cache read %d provider %q", in, out, cacheRead, provider)
		}
	})
}

// TestFailedAnswersLeaveNoHalfTurn: a mid-stream error or a dropped
// connection, after part of the answer was streamed, stores nothing of
// the answer and marks the student's turn unanswered; retrying the same
// client_msg_id then runs the turn again.
func TestFailedAnswersLeaveNoHalfTurn(t *testing.T) {
	full := llmtest.Text("Why put the risk ", "on the offeror?")
	for name, failing := range map[string]llmtest.Reply{
		"mid-stream error":   {Events: append(upTo(llmtest.Text("Why put the risk ", "on the offeror?"), 1), llmtest.Overloaded)},
		"dropped connection": {Events: upTo(llmtest.Text("Why put the risk ", "on the offeror?"), 1), Drop: true},
	} {
		t.Run(name, func(t *testing.T) {
			fake := llmtest.NewAnthropic(t, failing, full)
			e := newEnv(t, claude(t, fake))
			ctx := context.Background()
			st := e.start(t, "student")
			p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Is it effective on dispatch?", "m-1")
			if err != nil {
				t.Fatal(err)
			}
			var streamed strings.Builder
			_, err = p.Run(ctx, func(d string) error { streamed.WriteString(d); return nil })
			if err != ErrNoAnswer || streamed.String() != "Why put the risk " {
				t.Fatalf("run: %v, streamed %q", err, streamed.String())
			}
			tr := e.turns(t, st.Session.ID)
			if len(tr) != 2 || !tr[1].Unanswered || tr[1].Role != Student {
				t.Fatalf("after the failure: %+v", tr)
			}
			if n := e.count(t, `SELECT count(*) FROM turns WHERE role = 'assistant' AND content LIKE 'Why put%'`); n != 0 {
				t.Errorf("a half answer was stored")
			}
			a, err := e.say(ctx, "student", st.Session.ID, "Is it effective on dispatch?", "m-1")
			if err != nil || a.Text != "Why put the risk on the offeror?" {
				t.Fatalf("retry: %q %v", a.Text, err)
			}
			tr = e.turns(t, st.Session.ID)
			if len(tr) != 4 || !tr[1].Unanswered || tr[2].Unanswered || tr[3].Content != a.Text {
				t.Errorf("after the retry: %+v", tr)
			}
			// The retried turn's prompt does not carry the failed one.
			if msgs := fake.Requests()[1].Body["messages"].([]any); len(msgs) != 3 {
				t.Errorf("the retry sent %d messages: %v", len(msgs), msgs)
			}
		})
	}
}

// TestCancelledTurnStopsTheModel: a client that goes away mid-answer
// closes the upstream request at once and leaves the turn unanswered.
func TestCancelledTurnStopsTheModel(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		fake := llmtest.NewAnthropic(t, slowed(llmtest.Text("Why put the risk ", "on the offeror?"), 5*time.Second))
		e := newEnvOn(t, db, claude(t, fake))
		st := e.start(t, "student")
		ctx, cancel := context.WithCancel(context.Background())
		p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Is it effective on dispatch?", "")
		if err != nil {
			t.Fatal(err)
		}
		var cancelled time.Time
		_, err = p.Run(ctx, func(string) error {
			cancelled = time.Now()
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run: %v", err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for fake.Requests()[0].Gone.IsZero() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		gone := fake.Requests()[0].Gone
		if gone.IsZero() || gone.Sub(cancelled) > 100*time.Millisecond {
			t.Errorf("the fake saw the request end %v after the cancel", gone.Sub(cancelled))
		}
		if tr := e.turns(t, st.Session.ID); len(tr) != 2 || !tr[1].Unanswered {
			t.Errorf("transcript %+v", tr)
		}
	})
}

// TestSameClientMsgIDOnce: a message sent twice with one client_msg_id —
// one after the other, or both at once — is one turn, answered once, and
// both senders get the same answer.
func TestSameClientMsgIDOnce(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		fake := llmtest.NewAnthropic(t, llmtest.Text("Why put the risk ", "on the offeror?"),
			slowed(llmtest.Text("Suppose the letter ", "is lost. Same result?"), 300*time.Millisecond))
		e := newEnvOn(t, db, claude(t, fake))
		ctx := context.Background()
		st := e.start(t, "student")
		first, err := e.say(ctx, "student", st.Session.ID, "It is effective on dispatch.", "a")
		if err != nil {
			t.Fatal(err)
		}
		var streamed string
		p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "It is effective on dispatch.", "a")
		if err != nil {
			t.Fatal(err)
		}
		again, err := p.Run(ctx, func(d string) error { streamed += d; return nil })
		if err != nil || again.Text != first.Text || streamed != first.Text || len(again.Sources) != len(first.Sources) {
			t.Errorf("repeat: %q (streamed %q) %v, first %q", again.Text, streamed, err, first.Text)
		}

		var wg sync.WaitGroup
		answers := make([]string, 2)
		for i := range answers {
			wg.Go(func() {
				a, err := e.say(ctx, "student", st.Session.ID, "Because the offeror chose the mail.", "b")
				if err != nil {
					t.Errorf("concurrent %d: %v", i, err)
				}
				answers[i] = a.Text
			})
		}
		wg.Wait()
		if answers[0] != "Suppose the letter is lost. Same result?" || answers[1] != answers[0] {
			t.Errorf("concurrent answers %q", answers)
		}
		if n := len(fake.Requests()); n != 2 {
			t.Errorf("the model was called %d times, want 2", n)
		}
		tr := e.turns(t, st.Session.ID)
		if len(tr) != 5 {
			t.Errorf("transcript has %d turns, want 5: %+v", len(tr), tr)
		}
	})
}

// TestOneTurnAtATime: while a turn is being answered, another message
// is refused; afterwards the session takes messages again.
func TestOneTurnAtATime(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		fake := llmtest.NewAnthropic(t, slowed(llmtest.Text("Why put the risk ", "on the offeror?"), 300*time.Millisecond))
		e := newEnvOn(t, db, claude(t, fake))
		ctx := context.Background()
		st := e.start(t, "student")
		done := e.answering(t, st.Session.ID, "It is effective on dispatch.")
		if _, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Hello?", ""); err != ErrBusy {
			t.Errorf("a second message while answering: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := e.say(ctx, "student", st.Session.ID, "Because the offeror chose the mail.", ""); err != nil {
			t.Errorf("after the answer: %v", err)
		}
	})
}

// TestPendingTurnsOfAStoppedServer: a turn left pending by a process that
// died blocks the session only until Recover (at start) or its lease.
func TestPendingTurnsOfAStoppedServer(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		st := e.start(t, "student")
		if _, err := e.db.Write.Exec(`INSERT INTO turns (session_id, role, content, at, state) VALUES (?, 'user', 'lost', ?, 'pending')`,
			st.Session.ID, e.clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")); err != nil {
			t.Fatal(err)
		}
		if _, err := e.say(ctx, "student", st.Session.ID, "Hello?", ""); err != ErrBusy {
			t.Errorf("with a fresh pending turn: %v", err)
		}
		if db.Engine == sqlite.Postgres {
			// Another instance may be answering it: a restart leaves it
			// to its lease (TestRecoverLeavesOtherInstancesTurns).
			if n, err := e.svc.Recover(ctx); err != nil || n != 0 {
				t.Fatalf("recover within the lease on PostgreSQL: %d %v", n, err)
			}
			e.clock.Add(turnLease + time.Second)
		}
		if n, err := e.svc.Recover(ctx); err != nil || n != 1 {
			t.Fatalf("recover: %d %v", n, err)
		}
		if _, err := e.say(ctx, "student", st.Session.ID, "Hello?", ""); err != nil {
			t.Errorf("after recover: %v", err)
		}
		// The lease frees a turn without a restart.
		e.db.Write.Exec(`INSERT INTO turns (session_id, role, content, at, state) VALUES (?, 'user', 'lost', ?, 'pending')`,
			st.Session.ID, e.clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z"))
		e.clock.Add(turnLease + time.Second)
		e.svc.o.MaxDuration = time.Hour // keep the clock out of this
		e.db.Write.Exec(`UPDATE sessions SET expires_at = '2099-01-01T00:00:00.000000Z' WHERE id = ?`, st.Session.ID)
		if _, err := e.say(ctx, "student", st.Session.ID, "Still there?", ""); err != nil {
			t.Errorf("after the lease: %v", err)
		}
		if n := e.count(t, `SELECT count(*) FROM turns WHERE state = 'unanswered'`); n != 2 {
			t.Errorf("%d unanswered turns, want 2", n)
		}
	})
}

func TestOfflineTutorAnswersFromTheReading(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		st := e.start(t, "student")
		a, err := e.say(context.Background(), "student", st.Session.ID, "What did the court hold about acceptance by mail?", "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(a.Text, "?") || len(a.Sources) != 1 || codeOf(err) != errs.Code("") {
			t.Errorf("offline answer %q with %d sources", a.Text, len(a.Sources))
		}
		var provider string
		e.db.Read.QueryRow(`SELECT provider FROM turns WHERE role = 'assistant' ORDER BY id DESC LIMIT 1`).Scan(&provider)
		if provider != "offline" {
			t.Errorf("provider %q", provider)
		}
	})
}

// TestAnswerOnAFullDiskLeavesTheTurnUnanswered: an answer that cannot be
// stored because the database is full (SQLITE_FULL, here from a page
// limit) is "try later" (503 with Retry-After), not an internal error;
// the student's turn is unanswered, no part of the answer is kept, and the
// same message succeeds once there is room.
func TestAnswerOnAFullDiskLeavesTheTurnUnanswered(t *testing.T) {
	testenv.OnlySQLite(t, "fills the database with SQLite's max_page_count; the e2e disk-full test fills a real disk")
	long := strings.Repeat("Why should the offeror bear the risk of a lost letter? ", 4000)
	fake := llmtest.NewAnthropic(t, llmtest.Text(long), llmtest.Text("Who bears the risk?"))
	e := newEnv(t, claude(t, fake))
	ctx := context.Background()
	st := e.start(t, "student")
	p, err := e.svc.Begin(ctx, e.users["student"], st.Session.ID, "Is it effective on dispatch?", "m-1")
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := e.db.Write.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The one write connection may grow the file no further.
	if _, err := e.db.Write.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	_, err = p.Run(ctx, nil)
	var ee *errs.Error
	if !errors.As(err, &ee) || ee.Code != errs.Unavailable || ee.RetryAfter <= 0 || !strings.Contains(ee.Message, "disk is full") {
		t.Fatalf("answer on a full database: %v; want ErrDiskFull", err)
	}
	tr := e.turns(t, st.Session.ID)
	if len(tr) != 2 || tr[1].Role != Student || !tr[1].Unanswered {
		t.Fatalf("after the refused answer: %+v", tr)
	}
	if n := e.count(t, `SELECT count(*) FROM turns WHERE role = 'assistant' AND content LIKE 'Why should%'`); n != 0 {
		t.Fatal("part of the answer was stored")
	}
	if _, err := e.db.Write.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	a, err := e.say(ctx, "student", st.Session.ID, "Is it effective on dispatch?", "m-1")
	if err != nil || a.Text != "Who bears the risk?" {
		t.Fatalf("the same message once there is room: %q %v", a.Text, err)
	}
}
