package tutor

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/llm/llmtest"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/retrieval"
)

// seeingTransport notes, as each of the answer's requests begins, whether
// the classifier has already been asked.
type seeingTransport struct {
	asked *atomic.Int32
	early *atomic.Int32 // requests that began after the classifier was asked
	sent  *atomic.Int32
}

func (s seeingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.asked.Load() > 0 {
		s.early.Add(1)
	}
	s.sent.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestClassifierAskedAfterTheAnswersRequest: a turn's answer is asked for
// first, and the classifier once that request is written; the verdict
// still gates the answer, which arrives whole.
func TestClassifierAskedAfterTheAnswersRequest(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	fake := llmtest.NewAnthropic(t)
	var asked, early, sent atomic.Int32
	claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m", MaxRetries: 0,
		HTTPClient: &http.Client{Transport: seeingTransport{asked: &asked, early: &early, sent: &sent}}})
	if err != nil {
		t.Fatal(err)
	}
	var turn atomic.Int32 // the classifier's calls within the current turn
	c := classifierFunc(func(ctx context.Context, text string) (moderation.Verdict, error) {
		turn.Add(1)
		asked.Store(1)
		return moderation.Verdict{}, nil
	})
	tu := New(retrieval.NewSearcher(nil, 0, nil), claude).WithClassifier(c, 2*time.Second)
	for i := range 10 {
		asked.Store(0)
		turn.Store(0)
		fake.Push(llmtest.Text("Why should the risk ", "fall on the offeror?"))
		reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
		if err != nil {
			t.Fatal(err)
		}
		text, _, err := drain(reply)
		if err != nil || text != "Why should the risk fall on the offeror?" {
			t.Fatalf("turn %d: %q, %v", i, text, err)
		}
		if n := turn.Load(); n != 1 || !reply.Classified {
			t.Fatalf("turn %d: classifier asked %d times, classified %v; want once", i, n, reply.Classified)
		}
	}
	if early.Load() != 0 || sent.Load() != 10 {
		t.Fatalf("%d of %d answers' requests began after the classifier was asked; want none", early.Load(), sent.Load())
	}
}

// TestClassifierAskedWhenTheAnswerFailsFirst: an answer's request that
// fails before it is written (nothing listens) still has the classifier
// asked — the gate waits for a verdict — and the turn ends with the
// model's error, not a wait without end.
func TestClassifierAskedWhenTheAnswerFailsFirst(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connections to it are refused
	claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: "http://" + addr, Model: "m", MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	c := classifierFunc(func(ctx context.Context, text string) (moderation.Verdict, error) {
		asked.Add(1)
		return moderation.Verdict{}, nil
	})
	tu := New(retrieval.NewSearcher(nil, 0, nil), claude).WithClassifier(c, 2*time.Second)
	reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := drain(reply)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a refused connection gave no error")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the turn never ended: the gate waited for a verdict nobody asked for")
	}
	if asked.Load() != 1 {
		t.Fatalf("classifier asked %d times, want 1", asked.Load())
	}
}

// TestTurnFailingBeforeTheAnswerSendsNoClassifier: a turn that fails
// before the answer is asked for (the search fails: the student has gone)
// has sent no classifier request, and says so (nothing is charged for it).
func TestTurnFailingBeforeTheAnswerSendsNoClassifier(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	fake := llmtest.NewAnthropic(t)
	claude, err := llm.NewAnthropic(llm.AnthropicOptions{APIKey: "k", BaseURL: fake.URL, Model: "m", MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	c := classifierFunc(func(ctx context.Context, text string) (moderation.Verdict, error) {
		asked.Add(1)
		return moderation.Verdict{}, nil
	})
	tu := New(retrieval.NewSearcher(nil, 0, nil), claude).WithClassifier(c, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reply, err := tu.Turn(ctx, db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
	if err == nil {
		t.Fatal("a turn whose student has gone searched anyway")
	}
	time.Sleep(50 * time.Millisecond) // a classifier started by mistake would have been called
	if reply.Classified || asked.Load() != 0 || len(fake.Requests()) != 0 {
		t.Fatalf("classified %v, classifier asked %d times, model asked %d times; want none", reply.Classified, asked.Load(), len(fake.Requests()))
	}
}

// TestOfflineTutorIsStillClassified: without a model there is no
// answer's request to wait for; the classifier is asked at once and its
// verdict gates the offline reply.
func TestOfflineTutorIsStillClassified(t *testing.T) {
	db, weekA, _ := twoWeeks(t)
	var asked atomic.Int32
	c := classifierFunc(func(ctx context.Context, text string) (moderation.Verdict, error) {
		asked.Add(1)
		return moderation.Verdict{Flagged: true, Categories: []moderation.Category{moderation.Harassment}, Source: moderation.SourceClassifier}, nil
	})
	tu := New(retrieval.NewSearcher(nil, 0, nil), nil).WithClassifier(c, time.Second)
	reply, err := tu.Turn(context.Background(), db.Read, TurnInput{WeekID: weekA, Week: week, Student: "When is an acceptance by mail effective?"})
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := drain(reply)
	if err != nil || !reply.Classified || asked.Load() != 1 || !reply.Verdict.Flagged {
		t.Fatalf("%q, %v; classified %v, asked %d, verdict %+v", text, err, reply.Classified, asked.Load(), reply.Verdict)
	}
	if text != moderation.Reply(*reply.Verdict) {
		t.Fatalf("the offline reply passed a flagged verdict: %q", text)
	}
}
