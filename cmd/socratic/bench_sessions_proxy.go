package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/roundrobin"
)

// benchProxy is the load balancer in front of several instances, in the
// bench process (internal/roundrobin: each request to the next instance,
// bodies read whole first, server-sent events unbuffered). It counts, per
// instance, the streamed turns it answered with 200 during the run, so the
// report shows both took turns.
type benchProxy struct {
	base     string
	srv      *http.Server
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
	bases := make([]string, len(backends))
	for i, b := range backends {
		bases[i] = b.base
	}
	rr, err := roundrobin.New(bases, tr, func(i int, res *http.Response) {
		if p.counting.Load() && res.StatusCode == http.StatusOK && res.Request.Method == http.MethodPost && strings.HasSuffix(res.Request.URL.Path, "/message/stream") {
			p.turns[i].Add(1)
		}
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	p.srv = &http.Server{Handler: rr, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// startRun counts the turns from now on.
func (p *benchProxy) startRun() { p.counting.Store(true) }

func (p *benchProxy) close() { p.srv.Close() }
