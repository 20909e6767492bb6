package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTimers is deltaFlusher's clock and timer, moved by the test.
type fakeTimers struct {
	now     time.Time
	f       func()
	made    int
	waits   []time.Duration // each arming's wait
	stopped bool
}

func (ft *fakeTimers) after(d time.Duration, f func()) timer {
	ft.made++
	ft.f = f
	ft.Reset(d)
	return ft
}

func (ft *fakeTimers) Reset(d time.Duration) bool {
	ft.waits = append(ft.waits, d)
	ft.stopped = false
	return true
}

func (ft *fakeTimers) Stop() bool {
	was := !ft.stopped
	ft.stopped = true
	return was
}

// wire is what a flush has sent: the writes up to the last flush.
type wire struct {
	written bytes.Buffer
	sent    []string // what each flush sent
	flushed int      // bytes of written that were flushed
}

func (w *wire) Write(p []byte) (int, error) { return w.written.Write(p) }

func (w *wire) flush() error {
	w.sent = append(w.sent, w.written.String()[w.flushed:])
	w.flushed = w.written.Len()
	return nil
}

func deltaEvents(texts ...string) string {
	var b strings.Builder
	for _, t := range texts {
		ev, _ := appendDeltaEvent(nil, t)
		b.Write(ev)
	}
	return b.String()
}

// TestDeltaFlusherGathersWithinTheWindow: the first delta, one that ends
// a sentence, one that brings the space after a sentence's end and one
// that holds a sentence's end and a space go out at once; the others go
// with the first delta that comes deltaWindow or more after the last
// flush, or by the timer, armed for deltaWait after it, when the model
// pauses; a timer that fires after a write has flushed, or after close,
// sends nothing.
func TestDeltaFlusherGathersWithinTheWindow(t *testing.T) {
	ft := &fakeTimers{now: time.Unix(1000, 0)}
	w := &wire{}
	d := newDeltaFlusher(w, w.flush)
	d.now = func() time.Time { return ft.now }
	d.after = ft.after
	var want [][]string
	write := func(ms int, text string) {
		t.Helper()
		ft.now = time.Unix(1000, 0).Add(time.Duration(ms) * time.Millisecond)
		if err := d.write(text); err != nil {
			t.Fatal(err)
		}
	}
	fire := func(ms int) {
		ft.now = time.Unix(1000, 0).Add(time.Duration(ms) * time.Millisecond)
		ft.f()
	}
	sent := func(when string, flushed ...string) {
		t.Helper()
		if flushed != nil {
			want = append(want, flushed)
		}
		var events []string
		for _, e := range want {
			events = append(events, deltaEvents(e...))
		}
		if strings.Join(w.sent, "|") != strings.Join(events, "|") {
			t.Fatalf("%s: sent\n%q\nwant\n%q", when, w.sent, events)
		}
	}
	write(0, "Why")
	sent("the first delta", "Why")
	write(10, " would")
	write(25, " the")
	sent("two deltas within the window")
	if ft.made != 1 || len(ft.waits) != 1 || ft.waits[0] != 140*time.Millisecond || ft.stopped {
		t.Fatalf("two deltas within the window: %d timers, waits %v, stopped %v; want one armed for the 140 ms to deltaWait", ft.made, ft.waits, ft.stopped)
	}
	write(100, " court")
	sent("a delta as the window closes", " would", " the", " court")
	if !ft.stopped {
		t.Error("the flush left the timer armed")
	}
	write(110, " care?”")
	sent("a sentence's end", " care?”")
	write(115, " Suppose")
	sent("the space after a sentence's end", " Suppose")
	write(125, " that")
	sent("a delta after a flush")
	if ft.made != 1 || len(ft.waits) != 2 || ft.waits[1] != 140*time.Millisecond {
		t.Fatalf("a delta after a flush: %d timers made, waits %v; want the one timer reset for 140 ms", ft.made, ft.waits)
	}
	fire(265) // the model pauses
	sent("the timer", " that")
	fire(266) // again, late
	sent("the timer fired twice")
	write(270, " the")
	write(365, " notice")
	sent("a delta as the window closes, the timer armed", " the", " notice")
	fire(366) // fired as that write stopped it
	sent("a timer that fired as a write flushed")
	write(370, " came. Then")
	sent("a sentence's end and a space inside a delta", " came. Then")
	write(380, " end")
	d.close()
	if !ft.stopped {
		t.Error("close left the timer armed")
	}
	fire(400) // fired as close stopped it
	sent("a timer that fired as close stopped it")
	all := deltaEvents("Why", " would", " the", " court", " care?”", " Suppose", " that", " the", " notice", " came. Then", " end")
	if w.written.String() != all {
		t.Errorf("written:\n%q\nwant\n%q", w.written.String(), all)
	}
}

// TestDeltaFlusherStopsOnAFailedFlush: when the timer's flush fails (the
// client has gone), the next write says so, and the answer stops.
func TestDeltaFlusherStopsOnAFailedFlush(t *testing.T) {
	ft := &fakeTimers{now: time.Unix(1000, 0)}
	gone := errors.New("broken pipe")
	flushes := 0
	d := newDeltaFlusher(&bytes.Buffer{}, func() error {
		flushes++
		if flushes > 1 {
			return gone
		}
		return nil
	})
	d.now = func() time.Time { return ft.now }
	d.after = ft.after
	if err := d.write("One"); err != nil {
		t.Fatal(err)
	}
	if err := d.write(" two"); err != nil {
		t.Fatal(err)
	}
	ft.f()
	if err := d.write(" three"); !errors.Is(err, gone) {
		t.Errorf("the write after a failed flush: %v, want %v", err, gone)
	}
}

func TestEndsSentence(t *testing.T) {
	for text, want := range map[string]bool{
		" court.": true, " why? ": true, " it!": true, ` "the rule."`: true, " (see p. 4.)": true, " it?’": true, " and so…": true,
		" court": false, " the": false, "": false, " v": false, " p. 4,": false, " 4.5 pages": false, " ”": false,
	} {
		if got := endsSentence(text); got != want {
			t.Errorf("endsSentence(%q) = %v", text, got)
		}
	}
	for text, want := range map[string]bool{
		" came. Then": true, " so?” Why": true, "… and": true, " it. ": true,
		" came.": false, " 4.5 pages": false, " p.4": false, " court": false, "": false,
	} {
		if got := breaksSentence(text); got != want {
			t.Errorf("breaksSentence(%q) = %v", text, got)
		}
	}
}

// TestDeltaFlusherWithRealTimers: writes at random intervals around the
// window, with the real clock and timers flushing beside them (under
// -race in CI): every event goes out once, whole and in order, and
// nothing is flushed after close.
func TestDeltaFlusherWithRealTimers(t *testing.T) {
	for run := range 20 {
		var mu sync.Mutex
		var written bytes.Buffer
		var sent strings.Builder
		flushed, closed := 0, false
		w := writerFunc(func(p []byte) (int, error) { return written.Write(p) })
		d := newDeltaFlusher(w, func() error {
			if closed {
				t.Error("flushed after close")
			}
			mu.Lock()
			sent.WriteString(written.String()[flushed:])
			flushed = written.Len()
			mu.Unlock()
			return nil
		})
		d.window, d.wait = 2*time.Millisecond, 3*time.Millisecond
		var texts []string
		for i := range 40 {
			text := fmt.Sprintf(" w%d-%d", run, i)
			if rand.IntN(8) == 0 {
				text += "."
			}
			texts = append(texts, text)
			if err := d.write(text); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		}
		d.close()
		d.mu.Lock()
		closed = true
		d.mu.Unlock()
		time.Sleep(5 * time.Millisecond) // a timer would have fired by now
		mu.Lock()
		all := sent.String() + written.String()[flushed:]
		mu.Unlock()
		if all != deltaEvents(texts...) {
			t.Fatalf("run %d: sent\n%q\nwant\n%q", run, all, deltaEvents(texts...))
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
