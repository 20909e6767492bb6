package llm

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy is a call refused because as many model calls as allowed
// (LLM_MAX_CONCURRENT) are already running.
var ErrBusy = errors.New("llm: as many model calls as allowed are already running")

// Limiter caps the model calls running at once, for the whole process:
// each upstream request holds one of its slots from the moment it is sent
// until its stream ends. A full limiter refuses rather than queues, so a
// burst beyond what the model (or the budget) can take is told to come
// back instead of piling up in memory and hanging.
//
// A student's turn takes its slot before the turn is stored (Reserve), so
// the refusal comes first, as a plain status, with nothing half-written;
// the calls made for that turn (the answer and its moderation check) run
// under the context the slot is bound to and share it. Any other call
// (the week's themes) waits a moment for a slot of its own.
type Limiter struct {
	p       Provider
	slots   chan struct{}
	wait    time.Duration
	refused atomic.Int64
}

// DefaultSlotWait is how long a call with no reserved slot waits for one.
const DefaultSlotWait = 5 * time.Second

// NewLimiter returns p behind a cap of n calls at once (at least 1); wait
// bounds how long a call without a reserved slot waits for one (0:
// DefaultSlotWait).
func NewLimiter(p Provider, n int, wait time.Duration) *Limiter {
	if wait <= 0 {
		wait = DefaultSlotWait
	}
	return &Limiter{p: p, slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// Name is the wrapped provider's.
func (l *Limiter) Name() string { return l.p.Name() }

// Slot is one of a limiter's places, held until Release.
type Slot struct {
	l        *Limiter
	released atomic.Bool
	once     sync.Once
}

// TryAcquire takes a free slot at once, or reports (and counts) that none
// is free.
func (l *Limiter) TryAcquire() (*Slot, bool) {
	s, ok := l.take()
	if !ok {
		l.refused.Add(1)
	}
	return s, ok
}

// take is TryAcquire without counting a refusal.
func (l *Limiter) take() (*Slot, bool) {
	select {
	case l.slots <- struct{}{}:
		return &Slot{l: l}, true
	default:
		return nil, false
	}
}

// Release gives the slot back; later calls are no-ops, as is a nil slot.
func (s *Slot) Release() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.released.Store(true)
		<-s.l.slots
	})
}

type slotKey struct{}

// Bind returns ctx carrying the slot: calls of the slot's limiter under
// it use the slot instead of taking another. A nil slot returns ctx.
func (s *Slot) Bind(ctx context.Context) context.Context {
	if s == nil {
		return ctx
	}
	return context.WithValue(ctx, slotKey{}, s)
}

// Stream runs the call in the slot bound to ctx, or in a slot of its own
// once one is free (at most the limiter's wait, and never past ctx); when
// none comes, the stream is one Error event wrapping ErrBusy.
func (l *Limiter) Stream(ctx context.Context, req Request) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		m := meterFor(l.p.Name())
		if s, ok := ctx.Value(slotKey{}).(*Slot); !ok || s.l != l || s.released.Load() {
			own, err := l.acquire(ctx)
			if err != nil {
				ev := Event{Kind: Error, Err: err}
				m.record(ev)
				yield(ev)
				return
			}
			defer own.Release()
		}
		for ev := range l.p.Stream(ctx, req) {
			if ev.Kind != Delta {
				m.record(ev) // the call's end: its usage, or how it failed
			}
			if !yield(ev) {
				if ev.Kind == Delta {
					// The caller stopped listening mid-answer.
					m.record(Event{Kind: Error, Err: context.Canceled})
				}
				return
			}
		}
	}
}

func (l *Limiter) acquire(ctx context.Context) (*Slot, error) {
	if s, ok := l.take(); ok {
		return s, nil
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return &Slot{l: l}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		l.refused.Add(1)
		return nil, ErrBusy
	}
}

// Load is a limiter's state, for the admin's figures.
type Load struct {
	InFlight, Max int
	Refused       int64 // calls refused since the process started
}

// Load is how many slots are held, of how many, and the refusals so far.
func (l *Limiter) Load() Load {
	return Load{InFlight: len(l.slots), Max: cap(l.slots), Refused: l.refused.Load()}
}

// Reserve takes a slot of p's limiter for a caller about to make calls on
// p; a p without a limiter needs none (nil, nil). A full limiter is
// ErrBusy.
func Reserve(p Provider) (*Slot, error) {
	l, ok := p.(*Limiter)
	if !ok {
		return nil, nil
	}
	s, ok := l.TryAcquire()
	if !ok {
		return nil, ErrBusy
	}
	return s, nil
}
