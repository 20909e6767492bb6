package llm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The providers speak their HTTP APIs directly rather than through the
// official SDKs: we use one streaming endpoint of each, a few hundred lines
// here, while the SDKs were 53% of a cold build's compile time and its
// whole peak memory (openai-go's root package alone took 2.75 GB to
// compile, anthropic-sdk-go's 2.45 GB). The fakes in llmtest speak the
// real wire formats, so the tests check these lines against them.

// apiError is a provider's error answer: an HTTP status other than 2xx, or
// (with Status 200) an error event inside a stream.
type apiError struct {
	Provider   string
	Status     int
	Type       string // the error's type as the body names it, e.g. overloaded_error
	Message    string
	RetryAfter string // the retry-after header, when sent
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s answered", e.Provider)
	if e.Status != http.StatusOK {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " %s", e.Type)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// errorBody reads the error both APIs send, {"error":{"type","message"}}.
func errorBody(provider string, status int, body []byte) *apiError {
	var v struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &apiError{Provider: provider, Status: status}
	if json.Unmarshal(body, &v) == nil {
		e.Type, e.Message = v.Error.Type, v.Error.Message
	}
	return e
}

// postJSON sends body to url and returns the response when its status is
// 2xx; any other status is an *apiError (the body read, within reason,
// and closed).
func postJSON(ctx context.Context, client *http.Client, provider, url string, header http.Header, body any) (*http.Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 == 2 {
		return res, nil
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	e := errorBody(provider, res.StatusCode, msg)
	e.RetryAfter = res.Header.Get("Retry-After")
	return nil, e
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Name string // the event: line, if any
	Data string // the data: lines, joined by newlines
}

// readSSE passes each event of r to yield until r ends, yield returns
// false, or a line is longer than 1 MiB. A stream that ends inside an
// event drops that event: the caller's own end-of-answer check then says
// the answer broke off.
func readSSE(r io.Reader, yield func(sseEvent) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if data != nil {
				ev.Data = strings.Join(data, "\n")
				if !yield(ev) {
					return nil
				}
			}
			ev, data = sseEvent{}, nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.Name = value
		case "data":
			data = append(data, value)
		}
	}
	return sc.Err()
}
