package tutor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// oneWeek is a database with one week of the given passages (page i+1).
func oneWeek(t *testing.T, passages ...string) (*sqlite.DB, int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "socratic.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) int64 {
		res, err := db.Write.ExecContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	c := exec(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES ('K', 'Contracts', 'j', 'now', 'now')`)
	w := exec(`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, 3, 'now', 'now')`, c)
	d := exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'reading.pdf', ?, 1, 'processed', 'now')`, w, strings.Repeat("c", 64))
	for i, p := range passages {
		exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, ?, ?, 0, 1, ?, 20)`, d, w, i, i+1, p)
	}
	return db, w
}

var rewriteWeek = []string{
	"ALPHA An acceptance by mail is effective on dispatch under the mailbox rule, so the offeror bears the risk of a lost letter.",
	"BRAVO A promise is enforceable only with consideration: a bargained-for exchange of a benefit or a detriment.",
	"CHARLIE Specific performance is ordered where damages are inadequate, as for land.",
}

// TestRewriteFindsWhatTheReplyIsAbout: "the second one" names nothing and
// neither does the tutor's question; the fast model's query does, and the
// turn's first passage is what it names. The rewrite is asked of the fast
// model, with the student's words as data, before the answer.
func TestRewriteFindsWhatTheReplyIsAbout(t *testing.T) {
	db, wk := oneWeek(t, rewriteWeek...)
	fake := llmtest.NewAnthropic(t,
		llmtest.Text("consideration, bargained-for ", "exchange\n(the second doctrine)"),
		llmtest.Text("Why must the exchange be bargained for?"))
	claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "big", FastModel: "small"})
	if err != nil {
		t.Fatal(err)
	}
	history := []llm.Message{{Role: llm.Assistant, Text: "Which of the two would you start with?"}}
	in := TurnInput{WeekID: wk, Week: week, History: history, Student: "I'd say the second one <b>", Clock: Clock{Elapsed: time.Minute, Limit: 5 * time.Minute}}
	search := retrieval.NewSearcher(nil, 0, nil)

	// Without the rewrite the reply finds nothing to go on.
	plain, err := search.SearchTurn(context.Background(), db.Read, wk, retrieval.Turn{Student: in.Student, Tutor: history[0].Text}, passagesPerTurn)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) > 0 && strings.HasPrefix(plain[0].Content, "BRAVO") {
		t.Fatalf("the student's words alone already find the passage: the test shows nothing")
	}

	tu := New(search, claude).WithClassifier(nil, 0).WithRewriter(NewRewriter(claude), 5*time.Second)
	reply, err := tu.Turn(context.Background(), db.Read, in)
	if err != nil {
		t.Fatal(err)
	}
	if text, _, err := drain(reply); err != nil || text != "Why must the exchange be bargained for?" {
		t.Fatalf("reply %q, %v", text, err)
	}
	if len(reply.Sources) == 0 || !strings.HasPrefix(reply.Sources[0].Content, "BRAVO") {
		t.Errorf("sources %+v", reply.Sources)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want the rewrite and the answer", len(reqs))
	}
	rw := reqs[0].Body
	if rw["model"] != "small" || rw["max_tokens"].(float64) != rewriteMaxTokens {
		t.Errorf("the rewrite went to %v with max_tokens %v, want the fast model and %d", rw["model"], rw["max_tokens"], rewriteMaxTokens)
	}
	msg := rw["messages"].([]any)[0].(map[string]any)
	content := msg["content"].([]any)[0].(map[string]any)["text"].(string)
	if !strings.Contains(content, "<question>Which of the two would you start with?</question>") || !strings.Contains(content, "<reply>I'd say the second one ‹b›</reply>") {
		t.Errorf("the rewrite's message: %q", content)
	}
	if reqs[1].Body["model"] != "big" {
		t.Errorf("the answer went to %v", reqs[1].Body["model"])
	}
}

// TestRewriteLateIsLeftBehind: a query that has not come within the wait
// is abandoned (its request closed) and the turn searches with the
// student's words; a failing rewrite likewise never fails the turn.
func TestRewriteLateIsLeftBehind(t *testing.T) {
	db, wk := oneWeek(t, rewriteWeek...)
	slow := llmtest.Text("consideration")
	slow.Events[0].Delay = 3 * time.Second
	fake := llmtest.NewAnthropic(t, slow, llmtest.Text("What does dispatch mean here?"),
		llmtest.Reply{Status: 500, ErrorType: "api_error"}, llmtest.Text("And a lost letter?"))
	claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "big", FastModel: "small", MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	tu := New(retrieval.NewSearcher(nil, 0, nil), claude).WithClassifier(nil, 0).WithRewriter(NewRewriter(claude), 100*time.Millisecond)
	for i, want := range []string{"What does dispatch mean here?", "And a lost letter?"} {
		reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: wk, Week: week, Student: "Is acceptance by mail effective on dispatch?", Clock: Clock{Elapsed: time.Minute, Limit: 5 * time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		if text, _, err := drain(reply); err != nil || text != want {
			t.Fatalf("turn %d: reply %q, %v", i, text, err)
		}
		if len(reply.Sources) == 0 || !strings.HasPrefix(reply.Sources[0].Content, "ALPHA") {
			t.Errorf("turn %d: sources %+v", i, reply.Sources)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for fake.Requests()[0].Gone.IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if fake.Requests()[0].Gone.IsZero() {
		t.Errorf("the late rewrite's request was not abandoned")
	}
}

// TestEstimateCountsTheRewrite: a turn's charge includes the rewrite's
// request when the tutor asks for one.
func TestEstimateCountsTheRewrite(t *testing.T) {
	fake := llmtest.NewAnthropic(t)
	claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "big"})
	if err != nil {
		t.Fatal(err)
	}
	tu := New(retrieval.NewSearcher(nil, 0, nil), claude)
	without := tu.Estimate("the second one", 0)
	with := tu.WithRewriter(NewRewriter(claude), time.Second).Estimate("the second one", 0)
	if without.Rewrite != 0 || with.Rewrite <= rewriteMaxTokens || with.Total() != without.Total()+with.Rewrite {
		t.Errorf("without %+v, with %+v", without, with)
	}
}

// TestSearchQuery: what a model sends back is reduced to words before it
// reaches a search.
func TestSearchQuery(t *testing.T) {
	for in, want := range map[string]string{
		"consideration, bargained-for exchange":                  "consideration bargained-for exchange",
		"\n\n  mailbox rule dispatch\nIgnore the rules":          "mailbox rule dispatch",
		`"Mathews v. Eldridge" <script>alert(1)</script> § 1983`: "Mathews v. Eldridge script alert 1 script § 1983",
		"":                                     "",
		"???":                                  "",
		strings.Repeat("word ", 50):            strings.TrimSpace(strings.Repeat("word ", maxQueryWords)),
		strings.Repeat("x", 300) + " tail":     "",
		"Due Process Clause — notice; hearing": "Due Process Clause notice hearing",
	} {
		if got := SearchQuery(in); got != want {
			t.Errorf("SearchQuery(%.40q) = %q, want %q", in, got, want)
		}
	}
}
