package tutor

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/moderation"
)

// feed is a model's stream under the test's control: each piece sent on
// pieces is yielded as a delta; closing pieces ends the answer with Done.
// It counts the streams still running and how each ended.
type feed struct {
	pieces  chan string
	running *atomic.Int32
	stopped atomic.Bool // a yield returned false: the stream was stopped
	pulls   atomic.Int32
}

func newFeed(running *atomic.Int32) *feed {
	return &feed{pieces: make(chan string, 64), running: running}
}

func (f *feed) seq(ctx context.Context) iter.Seq[llm.Event] {
	return func(yield func(llm.Event) bool) {
		f.running.Add(1)
		defer f.running.Add(-1)
		for {
			select {
			case p, ok := <-f.pieces:
				if !ok {
					yield(llm.Event{Kind: llm.Done, StopReason: "end_turn"})
					return
				}
				f.pulls.Add(1)
				if !yield(llm.Event{Kind: llm.Delta, Text: p}) {
					f.stopped.Store(true)
					return
				}
			case <-ctx.Done():
				yield(llm.Event{Kind: llm.Error, Err: ctx.Err()})
				return
			}
		}
	}
}

// waitZero waits until no stream is running: every one was stopped or
// ended, none left parked in a pull nobody will finish.
func waitZero(t *testing.T, running *atomic.Int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for running.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d model streams still running: a pulled stream was never stopped", running.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGateHandsTheStreamOver: pieces that came before the verdict are
// held, then let out; the rest of the answer, pulled after the hand-over,
// follows them: every word arrives once, in order, and the stream ends.
func TestGateHandsTheStreamOver(t *testing.T) {
	var running atomic.Int32
	f := newFeed(&running)
	ctx, cancel := context.WithCancel(context.Background())
	verdicts := make(chan verdictResult, 1)
	words := strings.Fields("Why should the risk of a lost acceptance fall on the offeror rather than the offeree?")
	for _, w := range words[:3] {
		f.pieces <- w + " "
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		verdicts <- verdictResult{}
		time.Sleep(20 * time.Millisecond)
		for i, w := range words[3:] {
			if i > 0 {
				w = " " + w
			}
			f.pieces <- w
		}
		close(f.pieces)
	}()
	var v moderation.Verdict
	var got strings.Builder
	ended := false
	for ev := range gate(context.Background(), f.seq(ctx), cancel, verdicts, &v, func(error) {}) {
		switch ev.Kind {
		case llm.Delta:
			got.WriteString(ev.Text)
		case llm.Done:
			ended = true
		default:
			t.Fatalf("event %+v", ev)
		}
	}
	if want := strings.Join(words, " "); got.String() != want || !ended {
		t.Fatalf("got %q (ended %v), want %q", got.String(), ended, want)
	}
	if v.Flagged {
		t.Fatalf("verdict %+v", v)
	}
	if n := int(f.pulls.Load()); n != len(words) {
		t.Fatalf("%d pieces pulled, want %d", n, len(words))
	}
	waitZero(t, &running)
}

// TestReaderHandsOverAfterThePieceItAwaits: the reader, told to hand
// over while it waits for a piece, passes that piece on, closes its
// channel without ending the stream, and pulls no more.
func TestReaderHandsOverAfterThePieceItAwaits(t *testing.T) {
	var running atomic.Int32
	f := newFeed(&running)
	next, stopPull := iter.Pull(f.seq(context.Background()))
	r := startReader(next, stopPull)
	f.pieces <- "one"
	if ev := <-r.events; ev.Text != "one" {
		t.Fatalf("first piece %+v", ev)
	}
	close(r.handOver) // the reader is now (or soon) waiting for a second piece
	time.Sleep(20 * time.Millisecond)
	f.pieces <- "two"
	if ev, ok := <-r.events; !ok || ev.Text != "two" {
		t.Fatalf("the piece awaited at the hand-over: %+v %v", ev, ok)
	}
	if _, ok := <-r.events; ok {
		t.Fatal("the reader kept pulling after the hand-over")
	}
	if r.ended || r.state.Load() != handedOver {
		t.Fatalf("ended %v, state %d; want a hand-over", r.ended, r.state.Load())
	}
	f.pieces <- "three"
	if ev, ok := next(); !ok || ev.Text != "three" {
		t.Fatalf("the gate's own pull: %+v %v", ev, ok)
	}
	if n := f.pulls.Load(); n != 3 {
		t.Fatalf("%d pieces pulled, want 3", n)
	}
	stopPull()
	if !f.stopped.Load() {
		t.Fatal("stopping the handed-over stream did not reach the model's stream")
	}
	waitZero(t, &running)
}

// TestGateStopsTheStreamWhoeverHoldsIt: however a turn ends — a flagged
// verdict while the reader holds the stream, a consumer that stops early
// before or after the hand-over, a verdict that races the hand-over — the
// model's stream is stopped or ends, never left parked. Run under -race,
// with random timing.
func TestGateStopsTheStreamWhoeverHoldsIt(t *testing.T) {
	var running atomic.Int32
	for i := range 400 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			f := newFeed(&running)
			ctx, cancel := context.WithCancel(context.Background())
			verdicts := make(chan verdictResult, 1)
			flagged := i%4 == 0
			stopAfter := rand.IntN(6) // deltas the consumer takes before it stops (5: all)
			pieces := 1 + rand.IntN(8)
			go func() {
				time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
				if flagged {
					verdicts <- verdictResult{v: moderation.Verdict{Flagged: true, Categories: []moderation.Category{moderation.Sexual}}}
				} else {
					verdicts <- verdictResult{}
				}
			}()
			go func() {
				defer close(f.pieces)
				for range pieces {
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
					f.pieces <- "Why? "
				}
			}()
			var v moderation.Verdict
			n := 0
			sawEnd := false
			for ev := range gate(context.Background(), f.seq(ctx), cancel, verdicts, &v, func(error) {}) {
				switch ev.Kind {
				case llm.Delta:
					n++
				case llm.Done, llm.Error:
					sawEnd = true
				}
				if stopAfter < 5 && n >= stopAfter {
					break
				}
			}
			if flagged && !v.Flagged {
				t.Fatal("a flagged verdict was not kept")
			}
			if !flagged && stopAfter == 5 && (!sawEnd || n == 0) {
				t.Fatalf("a cleared answer read to its end: %d deltas, end %v", n, sawEnd)
			}
		})
	}
	waitZero(t, &running)
}

// TestGateGoneBeforeTheHandOver: the consumer stops on a piece queued
// after the verdict, so the gate returns after asking for the hand-over
// but before the reader has made it. The reader, when its pull returns,
// finds the gate gone and must stop the stream itself rather than hand
// it to nobody.
func TestGateGoneBeforeTheHandOver(t *testing.T) {
	var running atomic.Int32
	for range 60 {
		f := newFeed(&running)
		ctx, cancel := context.WithCancel(context.Background())
		verdicts := make(chan verdictResult, 1)
		f.pieces <- "Held one. "
		f.pieces <- "Held two. "
		go func() {
			time.Sleep(5 * time.Millisecond)
			verdicts <- verdictResult{}
		}()
		var v moderation.Verdict
		n := 0
		for ev := range gate(context.Background(), f.seq(ctx), cancel, verdicts, &v, func(error) {}) {
			if ev.Kind != llm.Delta {
				continue
			}
			n++
			if n == 1 {
				// While the held pieces go out, two more arrive and queue.
				f.pieces <- "Queued three. "
				f.pieces <- "Queued four. "
				time.Sleep(5 * time.Millisecond)
			}
			if n == 3 {
				break // on a queued piece: the reader is still pulling
			}
		}
	}
	waitZero(t, &running)
}
