package httpapi

import (
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// deltaWindow is how long a streamed answer's delta may wait to go out
// with the ones after it. A flush is a write to the connection (a system
// call, and on the other end a wake-up), and an answer streams a delta
// per word or two: flushing each was a seventh of the server's CPU for a
// turn. Gathered over a tenth of a second, a reply still reads as it is
// written, while a turn writes a few times a second instead of once a
// word. The first delta goes out at once, and so does one that ends a
// sentence or brings the white space after a sentence's end: the time to
// the first word is unchanged, and so is the time to each whole sentence,
// which a client speaking the reply sentence by sentence waits for (the
// web client speaks a sentence once white space follows its stop, and a
// model's next chunk usually starts with that space).
//
// The window is closed by the delta that arrives after it has passed,
// not by a timer: a timer that fired each window would cost the wake-up
// the gathering saves. The timer is for a model that pauses: a delta
// waits for it at most deltaWait after the last flush.
const (
	deltaWindow = 100 * time.Millisecond
	deltaWait   = 150 * time.Millisecond
)

// A timer is what deltaFlusher needs of one (a *time.Timer).
type timer interface {
	Stop() bool
	Reset(time.Duration) bool
}

// A deltaFlusher writes a streamed answer's delta events to w and flushes
// them: the first at once; at once too a delta that ends a sentence,
// holds a sentence's end and a space, or starts with the space after the
// last delta's sentence end; other deltas with the first that comes
// deltaWindow or more after the last flush, or by a timer deltaWait
// after it. Its write is the answer's
// onDelta; close stops the timer, after which the handler owns w alone
// again (and flushes what is left with its last event).
type deltaFlusher struct {
	w            io.Writer
	flush        func() error
	window, wait time.Duration
	now          func() time.Time
	after        func(time.Duration, func()) timer // time.AfterFunc

	mu      sync.Mutex // w, flush and the fields below
	buf     []byte
	last    time.Time // the last flush; zero before the first
	timer   timer     // made at the first wait, then reset
	armed   bool      // the timer will flush what is pending
	pending bool      // written since the last flush
	stop    bool      // the last delta ended at a sentence's end
	err     error     // the timer's flush failed: the client is gone
}

func newDeltaFlusher(w io.Writer, flush func() error) *deltaFlusher {
	return &deltaFlusher{w: w, flush: flush, window: deltaWindow, wait: deltaWait, now: time.Now,
		after: func(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }}
}

// write writes text's delta event and flushes it, or leaves it for the
// next delta or the timer to flush. An error (the client is gone) stops
// the answer.
func (d *deltaFlusher) write(text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	var err error
	if d.buf, err = appendDeltaEvent(d.buf[:0], text); err != nil {
		return err
	}
	if _, err := d.w.Write(d.buf); err != nil {
		return err
	}
	now := d.now()
	sentence := endsSentence(text) || breaksSentence(text) || d.stop && startsWithSpace(text)
	d.stop = endsSentence(text)
	if d.last.IsZero() || sentence || now.Sub(d.last) >= d.window {
		return d.flushLocked(now)
	}
	d.pending = true
	if !d.armed {
		d.armed = true
		if wait := d.last.Add(d.wait).Sub(now); d.timer == nil {
			d.timer = d.after(wait, d.fire)
		} else {
			d.timer.Reset(wait)
		}
	}
	return nil
}

func (d *deltaFlusher) flushLocked(now time.Time) error {
	if d.armed {
		d.timer.Stop()
		d.armed = false
	}
	d.pending, d.last = false, now
	return d.flush()
}

// fire is the timer's: it flushes what is pending. A timer that fired as
// a write flushed and stopped it, or as close stopped it, finds nothing
// armed; one that fired as a write armed it again flushes early, which
// does no harm.
func (d *deltaFlusher) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.armed {
		return
	}
	d.armed = false
	if d.pending {
		if err := d.flushLocked(d.now()); err != nil {
			d.err = err
		}
	}
}

// close stops the timer: from its return the handler may use w again,
// and what is pending goes out with its next flush.
func (d *deltaFlusher) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.armed {
		d.timer.Stop()
		d.armed = false
	}
}

// sentenceStops end a sentence, and closers may follow them within it.
const sentenceStops, closers = ".?!…", "\"'”’)]"

// endsSentence says whether a delta ends at a sentence's end: its last
// character, past spaces and closers, is a stop. A stop that does not
// end one ("v.") only flushes early.
func endsSentence(text string) bool {
	t := strings.TrimRight(strings.TrimRight(text, " \t\n"), closers)
	return t != "" && strings.ContainsRune(sentenceStops, lastRune(t))
}

// breaksSentence says whether a delta holds a sentence's end followed by
// white space: a stop, any closers, then a space.
func breaksSentence(text string) bool {
	for i, r := range text {
		if !strings.ContainsRune(sentenceStops, r) {
			continue
		}
		rest := strings.TrimLeft(text[i+len(string(r)):], closers)
		if startsWithSpace(rest) {
			return true
		}
	}
	return false
}

func startsWithSpace(text string) bool {
	return text != "" && strings.ContainsRune(" \t\n", rune(text[0]))
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}
