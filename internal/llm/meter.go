package llm

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
)

// Kinds of model failure, as /metrics labels them: a closed list, so the
// label stays bounded whatever the provider answers.
const (
	KindBusy        = "busy"         // refused at LLM_MAX_CONCURRENT
	KindTimeout     = "timeout"      // no answer within the call's time
	KindCanceled    = "canceled"     // the caller went away
	KindRateLimited = "rate_limited" // 429
	KindOverloaded  = "overloaded"   // 529, or an overloaded_error event
	KindUnavailable = "unavailable"  // other 5xx, 408
	KindAuth        = "unauthorized" // 401, 403
	KindRejected    = "rejected"     // other 4xx
	KindNetwork     = "network"      // no connection, or it dropped
	KindBroken      = "broken"       // a stream that stopped before its end, or any other failure
)

// ErrorKind sorts a failed call's error into one of the kinds above.
func ErrorKind(err error) string {
	switch {
	case errors.Is(err, ErrBusy):
		return KindBusy
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	code, typ := 0, ""
	var ae *anthropic.Error
	var oe *openai.Error
	switch {
	case errors.As(err, &ae):
		code, typ = ae.StatusCode, string(ae.Type())
	case errors.As(err, &oe):
		code = oe.StatusCode
	default:
		if strings.Contains(err.Error(), "broke off") {
			return KindBroken
		}
		return KindNetwork
	}
	switch {
	case code == http.StatusTooManyRequests:
		return KindRateLimited
	case code == 529 || typ == "overloaded_error":
		return KindOverloaded
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return KindAuth
	case code == http.StatusRequestTimeout || code >= 500 || typ == "api_error":
		return KindUnavailable
	case code >= 400:
		return KindRejected
	}
	return KindBroken
}

// ProviderStats is what one provider's calls cost and how they failed,
// since the process started.
type ProviderStats struct {
	Provider                          string
	Calls                             int64
	InputTokens, OutputTokens         int64
	CacheReadTokens, CacheWriteTokens int64
	Errors                            map[string]int64 // by kind
}

type meter struct {
	calls, in, out, cacheRead, cacheWrite atomic.Int64
	mu                                    sync.Mutex
	errors                                map[string]int64
}

var meters sync.Map // provider name → *meter

func meterFor(provider string) *meter {
	if m, ok := meters.Load(provider); ok {
		return m.(*meter)
	}
	m, _ := meters.LoadOrStore(provider, &meter{errors: map[string]int64{}})
	return m.(*meter)
}

// record counts one finished call: its usage (also a failed call's
// partial usage, which is billed) and, when it failed, the kind.
func (m *meter) record(ev Event) {
	m.calls.Add(1)
	m.in.Add(ev.Usage.Input)
	m.out.Add(ev.Usage.Output)
	m.cacheRead.Add(ev.Usage.CacheRead)
	m.cacheWrite.Add(ev.Usage.CacheWrite)
	if ev.Kind == Error {
		kind := ErrorKind(ev.Err)
		m.mu.Lock()
		m.errors[kind]++
		m.mu.Unlock()
	}
}

// Meters reports every provider's calls, tokens and failures since the
// process started (every call through a Limiter), sorted by provider.
func Meters() []ProviderStats {
	var out []ProviderStats
	meters.Range(func(k, v any) bool {
		m := v.(*meter)
		st := ProviderStats{Provider: k.(string), Calls: m.calls.Load(), InputTokens: m.in.Load(), OutputTokens: m.out.Load(),
			CacheReadTokens: m.cacheRead.Load(), CacheWriteTokens: m.cacheWrite.Load(), Errors: map[string]int64{}}
		m.mu.Lock()
		for kind, n := range m.errors {
			st.Errors[kind] = n
		}
		m.mu.Unlock()
		out = append(out, st)
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}
