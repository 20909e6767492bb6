package httpapi

import (
	"net/http"
	"sync"
	"time"
)

// deltaFlushEvery is the least time between two flushes of a streamed
// answer's deltas that the deltas themselves cause. A delta written
// sooner after the last flush is held, and goes out with the first delta
// written deltaFlushEvery or more after that flush, or, if none comes, at
// the next tick of one ticker the server shares among all held answers
// (every deltaFlushEvery): no piece reaches the client more than twice
// deltaFlushEvery (100 ms) after it was written, and the first delta goes
// out at once (the time to the first word is unchanged). A model sending
// a word every 25 ms costs a write to the connection every 50 ms rather
// than every 25. One shared ticker, not a timer per answer: a timer set
// on every held delta woke the runtime's timer thread as often as the
// writes it saved. A reader sees text appear 20 times a second; speech,
// which waits for whole sentences, starts a sentence at most 50 ms later
// while the model keeps writing.
const deltaFlushEvery = 50 * time.Millisecond

// deltaWriter writes a streamed answer's events to the client, flushing
// each at once unless the last flush was less than every ago; then what is
// held goes with the next delta's flush, or the shared ticker's (held).
// Its methods and the ticker take turns under mu: the response is never
// written from two goroutines at once, and never after close.
type deltaWriter struct {
	mu         sync.Mutex
	w          http.ResponseWriter
	rc         *http.ResponseController
	every      time.Duration
	ticks      *heldWriters
	last       time.Time // the last flush
	held       bool      // written since the last flush
	registered bool      // in ticks
	err        error     // the ticker's failed flush: the client is gone
	closed     bool
}

func newDeltaWriter(w http.ResponseWriter, rc *http.ResponseController, every time.Duration, ticks *heldWriters) *deltaWriter {
	return &deltaWriter{w: w, rc: rc, every: every, ticks: ticks}
}

// flush flushes now. mu is held.
func (d *deltaWriter) flush(now time.Time) error {
	d.held = false
	d.last = now
	return d.rc.Flush()
}

// delta writes b (a whole event), flushing it at once or holding it for
// the next delta or the ticker.
func (d *deltaWriter) delta(b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	if _, err := d.w.Write(b); err != nil {
		return err
	}
	now := time.Now()
	if now.Sub(d.last) >= d.every || d.closed {
		return d.flush(now)
	}
	d.held = true
	if !d.registered {
		d.registered = true
		d.ticks.add(d)
	}
	return nil
}

// tick is the ticker's visit: it flushes what has been held long enough,
// and reports whether the writer should stay on the ticker's list.
func (d *deltaWriter) tick(now time.Time) (keep bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || !d.held {
		d.registered = false
		return false
	}
	if now.Sub(d.last) < d.every {
		return true
	}
	if err := d.flush(now); err != nil {
		d.err = err
	}
	d.registered = false
	return false
}

// final writes b (the last events), flushes it with anything held, and
// closes the writer: the ticker no longer touches the response.
func (d *deltaWriter) final(b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if _, err := d.w.Write(b); err != nil {
		return err
	}
	return d.flush(time.Now())
}

// close closes the writer (what is held is left to the caller's last
// write, or dropped with a client that is gone). Safe to call twice.
func (d *deltaWriter) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

// heldWriters is the ticker shared by the streamed answers holding
// deltas: while any is on its list it wakes every `every` and visits
// each; with none it stops.
type heldWriters struct {
	every   time.Duration
	mu      sync.Mutex
	list    []*deltaWriter
	running bool
}

func newHeldWriters(every time.Duration) *heldWriters {
	return &heldWriters{every: every}
}

func (h *heldWriters) add(d *deltaWriter) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.list = append(h.list, d)
	if !h.running {
		h.running = true
		go h.run()
	}
}

func (h *heldWriters) run() {
	t := time.NewTicker(h.every)
	defer t.Stop()
	var visit []*deltaWriter
	for now := range t.C {
		h.mu.Lock()
		visit = append(visit[:0], h.list...)
		h.list = h.list[:0]
		h.mu.Unlock()
		var keep []*deltaWriter
		for _, d := range visit {
			if d.tick(now) {
				keep = append(keep, d)
			}
		}
		clear(visit)
		h.mu.Lock()
		h.list = append(h.list, keep...)
		if len(h.list) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}
