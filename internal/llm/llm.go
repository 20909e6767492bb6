// Package llm is the tutor's language model: one streaming interface over
// Claude (the official Anthropic SDK), OpenAI-compatible chat servers, and
// an offline tutor that needs neither key nor network.
package llm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"
)

// Role is who said a message.
type Role string

// The two roles; a conversation starts with the user and alternates.
const (
	User      Role = "user"
	Assistant Role = "assistant"
)

// Message is one turn of the conversation.
type Message struct {
	Role Role
	Text string
}

// Block is a part of the system prompt. Cache marks the end of the stable
// prefix (tutor rules, the week's digest) that providers may cache across
// turns; at most one block should carry it.
type Block struct {
	Text  string
	Cache bool
}

// Request is one call to the model.
type Request struct {
	System      []Block
	Messages    []Message
	MaxTokens   int
	Temperature float64 // sent when above 0; else the provider's default
	// Deterministic sends temperature 0 (the moderation classifier, the
	// search query rewrite), which Temperature's zero value cannot say.
	Deterministic bool
	// Fast asks for the faster, cheaper model (themes, digests), not the
	// tutor's.
	Fast bool
	// UserID is an opaque identifier of the student (a hash, never a name
	// or address) that providers may use to detect abuse.
	UserID string
	// ReadPace, when above 0, is the least time between two reads of the
	// answer's stream after its first text has been passed on and until
	// its stop reason comes, the text of the events between two reads
	// passed on as one: the tutor's answers set AnswerReadPace. 0 reads
	// each event as it comes.
	ReadPace time.Duration
}

// DefaultMaxTokens is the most tokens one answer may have when a
// provider is given no ceiling (LLM_MAX_TOKENS).
const DefaultMaxTokens = 1024

// maxTokens is the max_tokens sent upstream: what the request asks for,
// never more than the provider's ceiling, and the ceiling when the caller
// named none, so no call is ever sent unbounded (or, as a zero once was,
// capped at one token).
func maxTokens(asked, ceiling int) int64 {
	if ceiling <= 0 {
		ceiling = DefaultMaxTokens
	}
	if asked <= 0 || asked > ceiling {
		return int64(ceiling)
	}
	return int64(asked)
}

// Usage is what a call cost, in tokens.
type Usage struct {
	Input, Output         int64
	CacheRead, CacheWrite int64
}

// EventKind says what an Event carries.
type EventKind int

// The kinds of event a stream yields, in this order: Deltas, then one Done
// or one Error, which ends it.
const (
	Delta EventKind = iota // Text is the next piece of the answer
	Done                   // the answer is complete; Usage and StopReason are set
	Error                  // the call failed; Err says why (Usage may be partial)
)

// Event is one step of a streamed answer.
type Event struct {
	Kind       EventKind
	Text       string
	Usage      Usage
	StopReason string
	Err        error
}

// Provider is a language model. Stream yields the answer as it is made;
// cancelling ctx, or stopping the iteration, ends the upstream request at
// once.
type Provider interface {
	Name() string
	Stream(ctx context.Context, req Request) iter.Seq[Event]
}

// Parallel reports whether p's server is known to answer several
// requests at once: Anthropic's API does. An OpenAI-compatible server may
// be a local model that runs one request at a time (llama.cpp with one
// slot, Ollama with OLLAMA_NUM_PARALLEL=1): a second request waits for
// the whole of the first.
func Parallel(p Provider) bool { return p != nil && p.Name() == "anthropic" }

// Complete runs a request to the end and returns the whole answer.
func Complete(ctx context.Context, p Provider, req Request) (string, Usage, error) {
	var b strings.Builder
	for ev := range p.Stream(ctx, req) {
		switch ev.Kind {
		case Delta:
			b.WriteString(ev.Text)
		case Done:
			return b.String(), ev.Usage, nil
		case Error:
			return "", ev.Usage, ev.Err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", Usage{}, err
	}
	return "", Usage{}, errors.New("llm: the stream ended without an answer")
}

// progress is how far an attempt got with the caller.
type progress int

const (
	nothing  progress = iota // no token passed on: a retry is invisible
	passedOn                 // tokens passed on: never retried
	stopped                  // the caller stopped listening
)

// retries is a provider's retry policy: how many, and the wait before
// retry n (from 0) when the server names none.
type retries struct {
	max     int
	timeout time.Duration
	backoff func(n int) time.Duration
}

// newRetries fills the defaults: 2 retries, a 60 s deadline for the whole
// call, and 0.5 s doubling waits with jitter.
func newRetries(max int, timeout time.Duration, backoff func(int) time.Duration) retries {
	if max == 0 {
		max = 2
	}
	if timeout <= 0 {
		timeout = time.Minute
	}
	if backoff == nil {
		backoff = func(n int) time.Duration {
			d := 500 * time.Millisecond << n
			return d/2 + rand.N(d/2+1)
		}
	}
	return retries{max: max, timeout: timeout, backoff: backoff}
}

// stream runs attempts until one ends the call: once makes one attempt,
// passing text on to yield; retryable judges a failure and may name the
// wait the server asked for. A failure is retried only while no token has
// reached the caller: a retry after that would make the student hear the
// start of an answer twice.
func (r retries) stream(ctx context.Context, name string,
	once func(ctx context.Context, yield func(Event) bool) (progress, Usage, string, error),
	retryable func(error) (time.Duration, bool)) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		ctx, cancel := context.WithTimeout(ctx, r.timeout)
		defer cancel()
		for attempt := 0; ; attempt++ {
			got, usage, stop, err := once(ctx, yield)
			if got == stopped {
				return // the caller stopped listening; the request is closed
			}
			if err == nil {
				yield(Event{Kind: Done, Usage: usage, StopReason: stop})
				return
			}
			if ctx.Err() != nil {
				yield(Event{Kind: Error, Usage: usage, Err: fmt.Errorf("%s: %w", name, context.Cause(ctx))})
				return
			}
			wait, retry := retryable(err)
			if got == passedOn || !retry || attempt >= r.max {
				yield(Event{Kind: Error, Usage: usage, Err: fmt.Errorf("%s: %w", name, err)})
				return
			}
			if wait == 0 {
				wait = r.backoff(attempt)
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				yield(Event{Kind: Error, Err: fmt.Errorf("%s: %w", name, context.Cause(ctx))})
				return
			}
		}
	}
}
