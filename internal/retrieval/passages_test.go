package retrieval

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestPassagesFromMemoryAreTheDatabases: a search that takes its passages
// and their neighbours from the week's copy in memory returns exactly what
// the same search reading them from the database returns (every field,
// extended passages included), over the corpus QA file's questions, with
// overlapping passages in three documents, one of them not processed, and
// another week beside.
func TestPassagesFromMemoryAreTheDatabases(t *testing.T) {
	d := newDB(t)
	c := d.course("A")
	wk, other := d.week(c, 1), d.week(c, 2)
	questions, quotes := qaPairs(t)
	if len(questions) < 20 || slices.Contains(quotes, "") {
		t.Fatalf("%d questions, quotes %q", len(questions), quotes)
	}
	// Each document's text is a third of the quotes; its passages are
	// 200-byte windows every 180 bytes, spans as the ingester stores them.
	addDoc := func(week int64, status string, text string) {
		d.seq++
		doc := d.exec(`INSERT INTO documents (week_id, original_filename, sha256, file_size, status, uploaded_at) VALUES (?, ?, ?, 1, ?, 'now')`,
			week, "reading"+strings.Repeat("x", d.seq)+".pdf", strings.Repeat(string(rune('a'+d.seq)), 64), status)
		for i, start := 0, 0; start < len(text); i, start = i+1, start+180 {
			end := min(len(text), start+200)
			d.exec(`INSERT INTO chunks (document_id, week_id, chunk_index, page, char_start, char_end, content, token_count) VALUES (?, ?, ?, ?, ?, ?, ?, 10)`,
				doc, week, i, 1+i/3, start, end, text[start:end])
		}
	}
	n := len(quotes) / 3
	// Questions in the words either side of an edge between passages.
	first := strings.Join(quotes[:n], " ")
	for edge := 200; edge+40 < len(first); edge += 180 * 3 {
		questions = append(questions, first[edge-40:edge+40])
	}
	addDoc(wk, "processed", first)
	addDoc(wk, "processed", strings.Join(quotes[n:2*n], " "))
	addDoc(wk, "queued", strings.Join(quotes[2*n:], " "))
	addDoc(other, "processed", strings.Join(quotes, " "))

	ctx := context.Background()
	mem := NewSearcher(nil, 0, nil)
	db := NewSearcher(nil, 0, nil)
	if _, err := db.cache.week(ctx, d.Read, wk, ""); err != nil {
		t.Fatal(err)
	}
	db.cache.weeks[wk].pass = nil // every passage read from the database
	extended := 0
	for _, q := range append(questions, "the second one", "Mathews v. Eldridge") {
		for _, turn := range []Turn{{Student: q}, {Student: "I think so", Tutor: q}} {
			got, err := mem.SearchTurn(ctx, d.Read, wk, turn, 5)
			if err != nil {
				t.Fatal(err)
			}
			want, err := db.SearchTurn(ctx, d.Read, wk, turn, 5)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%+v:\n from memory %+v\n from the database %+v", turn, got, want)
			}
			for _, s := range got {
				if len(s.Content) > 200 {
					extended++
				}
			}
		}
	}
	if mem.cache.weeks[wk].pass == nil || db.cache.weeks[wk].pass != nil {
		t.Fatal("the two searchers did not read as meant")
	}
	if extended == 0 {
		t.Error("no passage was extended by a neighbour: the comparison did not cover neighbours")
	}
}

// qaPairs is testdata/corpus/qa.jsonl's questions and their answer
// quotes, in its order.
func qaPairs(t *testing.T) (questions, quotes []string) {
	t.Helper()
	f, err := os.Open("../../testdata/corpus/qa.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q struct {
			Question    string `json:"question"`
			AnswerQuote string `json:"answer_quote"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		questions = append(questions, q.Question)
		quotes = append(quotes, q.AnswerQuote)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return questions, quotes
}
