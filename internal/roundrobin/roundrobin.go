// Package roundrobin is the load balancer that `socratic bench sessions
// --instances N` and the two-instance tests put in front of several
// instances: each request goes to the next instance in turn (round robin,
// Caddy's and nginx's usual policy), request bodies are read whole before
// they are sent on (nginx's default, proxy_request_buffering on), and
// server-sent events pass through unbuffered (FlushInterval -1; Caddy's
// flush_interval -1, nginx's proxy_buffering off).
//
// Why the bodies are read first: with net/http's HTTP/1 server and
// httputil.ReverseProxy streaming the body as it comes, an answer whose
// headers arrive before the Transport has finished with the request body
// is cut. Writing those headers makes the proxy's server drain and close
// the incoming body; the Transport's last read of it (after the declared
// length, to check nothing follows) then fails with "invalid Read on
// closed Body", and its write loop closes the connection to the instance
// in the middle of the answer (golang/go#40747). The instances send a
// streamed turn's headers as soon as the turn is accepted, so about one
// streamed turn in a few hundred was cut that way.
package roundrobin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
)

// MaxBody is the largest request body the proxy accepts (it holds each
// one in memory while it is sent on): above the instances' default limits
// (MAX_UPLOAD_SIZE 50 MB, MAX_AUDIO_SIZE 25 MB).
const MaxBody = 256 << 20

// Proxy sends each request to the next backend in turn.
type Proxy struct {
	next     atomic.Uint64
	backends []*httputil.ReverseProxy
	maxBody  int64 // MaxBody; tests lower it
}

// New is a proxy in front of the backends' base URLs. tr carries the
// requests (nil: http.DefaultTransport); modify, when not nil, sees every
// backend's answer with the backend's index before it is sent on.
func New(bases []string, tr http.RoundTripper, modify func(backend int, res *http.Response)) (*Proxy, error) {
	if len(bases) == 0 {
		return nil, errors.New("roundrobin: no backends")
	}
	p := &Proxy{backends: make([]*httputil.ReverseProxy, len(bases)), maxBody: MaxBody}
	for i, base := range bases {
		u, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("roundrobin: backend %q: %w", base, err)
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = tr
		rp.FlushInterval = -1
		if modify != nil {
			rp.ModifyResponse = func(res *http.Response) error {
				modify(i, res)
				return nil
			}
		}
		p.backends[i] = rp
	}
	return p, nil
}

// ServeHTTP reads the request's body whole and sends the request to the
// next backend.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.ContentLength != 0 {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.maxBody))
		if err != nil {
			status, detail := http.StatusBadRequest, "the proxy could not read the request's body: "+err.Error()
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				status, detail = http.StatusRequestEntityTooLarge, fmt.Sprintf("the proxy takes request bodies of at most %d bytes", p.maxBody)
			}
			b, _ := json.Marshal(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			w.Write(b)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
	}
	p.backends[(p.next.Add(1)-1)%uint64(len(p.backends))].ServeHTTP(w, r)
}
