package tutor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// twoWeeks is a database with two courses' weeks whose readings are on the
// same subject in different words.
func twoWeeks(t *testing.T) (*sqlite.DB, int64, int64) {
	t.Helper()
	return twoWeeksTB(t)
}

// migratedDB is a new, migrated database of the run's engine
// (sqlitetest.OpenMigrated), closed at the end of the test.
func migratedDB(t testing.TB) *sqlite.DB {
	t.Helper()
	return sqlitetest.OpenMigrated(t)
}

// twoWeeksTB is twoWeeks for benchmarks too.
func twoWeeksTB(t testing.TB) (*sqlite.DB, int64, int64) {
	t.Helper()
	db := migratedDB(t)
	weekA, weekB := twoWeeksOn(t, db)
	return db, weekA, weekB
}

// twoWeeksOn is twoWeeks on a migrated database of either engine (see
// sqlitetest.Each).
func twoWeeksOn(t testing.TB, db *sqlite.DB) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) int64 {
		var id int64
		if err := db.Write.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	var weeks []int64
	for i, text := range []string{
		"WEEKA An acceptance by mail is effective on dispatch, the court held, so the offeror bears the risk of a lost letter.",
		"WEEKB The mailbox rule makes an acceptance effective when it is dispatched; a lost letter is the offeror's risk.",
	} {
		c := exec(`INSERT INTO courses (code, name, join_code, created_at, updated_at) VALUES (?, 'Contracts', ?, 'now', 'now')`, fmt.Sprint(i), fmt.Sprint(i))
		w := exec(`INSERT INTO weeks (course_id, week_number, created_at, updated_at) VALUES (?, 3, 'now', 'now')`, c)
		d := exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, 'adams.pdf', ?, 1, 'processed', 'now')`, w, strings.Repeat(string(rune('a'+i)), 64))
		exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, 0, 4, 0, 1, ?, 20)`, d, w, text)
		weeks = append(weeks, w)
	}
	return weeks[0], weeks[1]
}

// TestTurnSendsOnlyTheWeeksReadings: through the real Claude SDK against
// the fake, a turn's prompt carries its week's passage inside the readings
// block, never the other week's, and the reply streams back whole.
func TestTurnSendsOnlyTheWeeksReadings(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		weekA, _ := twoWeeksOn(t, db)
		fake := llmtest.NewAnthropic(t, llmtest.Text("Why put the risk ", "on the offeror?"))
		claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		tu := New(retrieval.NewSearcher(nil, 0, nil), claude).WithClassifier(nil, 0)
		history := []llm.Message{{Role: llm.Assistant, Text: "Let's explore acceptance. What did you find hard?"}}
		reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, History: history,
			Student: "When is an acceptance by mail effective?", Clock: Clock{Elapsed: time.Minute, Limit: 5 * time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		text, usage, err := drain(reply)
		if err != nil || text != "Why put the risk on the offeror?" || usage.Output != 18 {
			t.Fatalf("reply %q, %+v, %v", text, usage, err)
		}
		if len(reply.Sources) != 1 || !strings.Contains(reply.Sources[0].Content, "WEEKA") {
			t.Errorf("sources %+v", reply.Sources)
		}
		body := fake.Requests()[0].Body
		var system strings.Builder
		for _, b := range body["system"].([]any) {
			system.WriteString(b.(map[string]any)["text"].(string))
		}
		s := system.String()
		readings := s[strings.LastIndex(s, "<readings>\n"):strings.LastIndex(s, "</readings>\n")]
		if !strings.Contains(readings, "WEEKA") || strings.Contains(s, "WEEKB") {
			t.Errorf("the prompt's readings:\n%s", readings)
		}
		msgs := body["messages"].([]any)
		if len(msgs) != 3 || msgs[1].(map[string]any)["role"] != "assistant" {
			t.Errorf("messages %v", msgs)
		}
	})
}

func TestOfflineTurnQuotesTheWeek(t *testing.T) {
	db, _, weekB := twoWeeks(t)
	tu := New(retrieval.NewSearcher(nil, 0, nil), nil)
	if tu.Provider() != "offline" {
		t.Errorf("provider %s", tu.Provider())
	}
	reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekB, Week: week, Student: "The mailbox rule puts the risk on the offeror."})
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(reply)
	if err != nil || !strings.HasSuffix(text, "?") || !strings.Contains(text, "In Adams, page 4: “WEEKB") || strings.Contains(text, "WEEKA") {
		t.Errorf("offline reply %q, %v", text, err)
	}
}

func drain(r Reply) (string, llm.Usage, error) {
	var b strings.Builder
	for ev := range r.Events {
		switch ev.Kind {
		case llm.Delta:
			b.WriteString(ev.Text)
		case llm.Done:
			return b.String(), ev.Usage, nil
		case llm.Error:
			return b.String(), ev.Usage, ev.Err
		}
	}
	return b.String(), llm.Usage{}, nil
}

// TestTurnSearchesAtTheCallersVersion: a turn given the week's versions
// (read by the session in the write that stored the student's words)
// passes them to each of its searches, the one for a case the student
// names too, which then read no versions of their own; a turn without
// them reads them for each search.
func TestTurnSearchesAtTheCallersVersion(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	ctx := context.Background()
	v, err := retrieval.ReadWeekVersion(ctx, db.Read, weekA)
	if err != nil {
		t.Fatal(err)
	}
	tu := New(retrieval.NewSearcher(nil, 0, nil), nil)
	for _, tc := range []struct {
		version *retrieval.WeekVersion
		want    int64
	}{{&v, 0}, {nil, 2}} {
		ex := &sqlitetest.Counting{Contains: "week_versions", Execer: db.Read}
		reply, err := tu.Turn(ctx, ex, TurnInput{WeekID: weekA, WeekVersion: tc.version, Week: week, Student: "Did Adams v. Lindsell put the risk of a lost letter on the offeror?"})
		if err != nil {
			t.Fatal(err)
		}
		text, _, err := drain(reply)
		if err != nil || !strings.Contains(text, "WEEKA") {
			t.Fatalf("reply %q, %v", text, err)
		}
		if n := ex.N(); n != tc.want {
			t.Errorf("version %+v given: %d version reads, want %d", tc.version, n, tc.want)
		}
	}
}
