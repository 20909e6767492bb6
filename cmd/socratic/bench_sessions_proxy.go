package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// benchProxy is the load balancer in front of several instances, in the
// bench process: each request goes to the next instance in turn (round
// robin, as Caddy's and nginx's default), and server-sent events pass
// through unbuffered (FlushInterval -1, Caddy's flush_interval -1, nginx's
// proxy_buffering off). It counts, per instance, the streamed turns it
// answered with 200 during the run, so the report shows both took turns.
type benchProxy struct {
	base     string
	srv      *http.Server
	next     atomic.Uint64
	counting atomic.Bool
	turns    []atomic.Int64 // per instance: 200s to POST …/message/stream during the run
}

func startBenchProxy(backends []*benchServer, students int) (*benchProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &benchProxy{base: "http://" + ln.Addr().String(), turns: make([]atomic.Int64, len(backends))}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        2*students + 32,
		MaxIdleConnsPerHost: students + 16,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b.base)
		if err != nil {
			ln.Close()
			return nil, err
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = tr
		rp.FlushInterval = -1
		rp.ModifyResponse = func(res *http.Response) error {
			if p.counting.Load() && res.StatusCode == http.StatusOK && res.Request.Method == http.MethodPost && strings.HasSuffix(res.Request.URL.Path, "/message/stream") {
				p.turns[i].Add(1)
			}
			return nil
		}
		proxies[i] = rp
	}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxies[(p.next.Add(1)-1)%uint64(len(proxies))].ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go p.srv.Serve(ln)
	return p, nil
}

// startRun counts the turns from now on.
func (p *benchProxy) startRun() { p.counting.Store(true) }

func (p *benchProxy) close() { p.srv.Close() }
