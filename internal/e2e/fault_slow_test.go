package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// background keeps a few clients calling ordinary routes until stopped,
// recording every status and latency: what the rest of the school sees
// while hostile or slow clients hold connections.
type background struct {
	mu      sync.Mutex
	took    map[string][]time.Duration // by route
	sent    map[string][]time.Time     // by route, of the requests answered 200
	bad     []string                   // non-200 answers and transport errors, the first few
	nBad    int
	total   int
	stop    chan struct{}
	stopped sync.WaitGroup
}

func startBackground(c *Client, workers int, calls []backgroundCall) *background {
	b := &background{took: map[string][]time.Duration{}, sent: map[string][]time.Time{}, stop: make(chan struct{})}
	for wk := range workers {
		b.stopped.Go(func() {
			for i := wk; ; i++ {
				select {
				case <-b.stop:
					return
				default:
				}
				call := calls[i%len(calls)]
				sent := time.Now()
				r, err := c.API(context.Background(), "GET", call.path, call.token, nil)
				b.mu.Lock()
				b.total++
				switch {
				case err != nil:
					b.nBad++
					if len(b.bad) < 10 {
						b.bad = append(b.bad, fmt.Sprintf("%s: %v", call.path, err))
					}
				case r.Status != 200:
					b.nBad++
					if len(b.bad) < 10 {
						b.bad = append(b.bad, fmt.Sprintf("%s: %d %s", call.path, r.Status, r.Body))
					}
				default:
					b.took[call.name] = append(b.took[call.name], r.Took)
					b.sent[call.name] = append(b.sent[call.name], sent)
				}
				b.mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	return b
}

type backgroundCall struct{ name, path, token string }

// within fails t unless every route had a request sent after from and
// answered 200 before to: the routes were served while whatever held
// the server between from and to was going on, not after it.
func (b *background) within(t testing.TB, what string, from, to time.Time) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for route, sent := range b.sent {
		n := 0
		for i, at := range sent {
			if at.After(from) && at.Add(b.took[route][i]).Before(to) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no %s was answered while it went on (%s)", what, route, to.Sub(from).Round(time.Millisecond))
		}
	}
}

// end stops the clients, fails t on any answer but 200 (or no requests
// at all), and logs latency by route; it returns the p95 over all.
func (b *background) end(t testing.TB, what string) time.Duration {
	t.Helper()
	close(b.stop)
	b.stopped.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.nBad > 0 {
		t.Errorf("%s: %d of %d other requests failed, e.g.:\n%s", what, b.nBad, b.total, strings.Join(b.bad, "\n"))
	}
	var all []time.Duration
	for _, route := range slices.Sorted(maps.Keys(b.took)) {
		ds := b.took[route]
		all = append(all, ds...)
		t.Logf("%s: %-24s n=%4d p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  max %6.1f ms", what, route, len(ds), ms(Pct(ds, 50)), ms(Pct(ds, 95)), ms(Pct(ds, 99)), ms(Pct(ds, 100)))
	}
	if len(all) == 0 {
		t.Fatalf("%s: no other request was answered", what)
	}
	p95 := Pct(all, 95)
	t.Logf("%s: all %d other requests answered 200: p50 %.1f ms, p95 %.1f ms, max %.1f ms", what, len(all), ms(Pct(all, 50)), ms(p95), ms(Pct(all, 100)))
	return p95
}

// Pct is the p-th percentile (nearest rank) of ds; 100 is the maximum.
func Pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ordinaryCalls are the routes background clients call: the readiness
// probe, a course page, its week's documents, the signed-in user.
func ordinaryCalls(w Course) []backgroundCall {
	return []backgroundCall{
		{"GET /api/health/ready", "/api/health/ready", ""},
		{"GET /api/courses/{id}", fmt.Sprintf("/api/courses/%d", w.CourseID), w.ProfToken},
		{"GET /api/documents", fmt.Sprintf("/api/documents?week_id=%d", w.WeekID), w.ProfToken},
		{"GET /api/auth/me", "/api/auth/me", w.ProfToken},
	}
}

// TestFaultSlowloris is scenario 4's hostile clients: 200 connections
// each send a request line and then one header every 300 ms, never
// finishing. The server must close every one of them by its header
// timeout (HTTP_READ_HEADER_TIMEOUT), while ordinary requests from other
// clients keep being answered 200; their latency is reported (p95 is
// logged, not asserted: CI is 2 cores under -race).
//
// Short: HTTP_READ_HEADER_TIMEOUT=2s. Long (SOCRATIC_FAULT_LONG=1): the
// production 10s. Knobs: SOCRATIC_FAULT_SLOWLORIS (connections),
// SOCRATIC_FAULT_HEADER_TIMEOUT.
func TestFaultSlowloris(t *testing.T) {
	conns := Knob(t, "SOCRATIC_FAULT_SLOWLORIS", 200, 200)
	timeout := DurationKnob(t, "SOCRATIC_FAULT_HEADER_TIMEOUT", 2*time.Second, 10*time.Second)
	s := StartServer(t, "HTTP_READ_HEADER_TIMEOUT="+timeout.String())
	c := s.Client()
	w := SetupCourse(t, s, c, "")

	bg := startBackground(c, 4, ordinaryCalls(w))
	type result struct {
		closedAfter time.Duration
		err         error
	}
	results := make([]result, conns)
	var wg sync.WaitGroup
	var opened atomic.Int64
	var lastIn atomic.Value                // time.Time
	deadline := 2*timeout + 20*time.Second // by then a connection still open has not been closed by the timeout
	start := time.Now()
	for i := range conns {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.Base, "http://"), 10*time.Second)
			if err != nil {
				results[i].err = fmt.Errorf("dial: %w", err)
				return
			}
			defer conn.Close()
			began := time.Now()
			if _, err := fmt.Fprintf(conn, "GET /api/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n"); err != nil {
				results[i].err = fmt.Errorf("request line: %w", err)
				return
			}
			opened.Add(1)
			lastIn.Store(time.Now())
			closed := make(chan time.Duration, 1)
			go func() {
				// The server closes the connection (perhaps after a 408):
				// the read ends.
				conn.SetReadDeadline(began.Add(deadline))
				_, err := io.Copy(io.Discard, conn)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					closed <- -1
					return
				}
				closed <- time.Since(began)
			}()
			tick := time.NewTicker(300 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case d := <-closed:
					if d < 0 {
						results[i].err = fmt.Errorf("still open after %s", deadline)
					}
					results[i].closedAfter = d
					return
				case <-tick.C:
					fmt.Fprintf(conn, "X-Slow-%d: %d\r\n", n, n) // errors once closed: the read tells
				}
			}
		})
	}
	wg.Wait()
	what := fmt.Sprintf("during %d slowloris connections", conns)
	p95 := bg.end(t, what)

	var after []time.Duration
	failed := 0
	for i, r := range results {
		if r.err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("slowloris connection %d: %v", i, r.err)
			}
			continue
		}
		after = append(after, r.closedAfter)
	}
	if failed > 0 {
		t.Errorf("%d of %d slowloris connections were not closed by the server (header timeout %s)", failed, conns, timeout)
	}
	if int(opened.Load()) != conns {
		t.Errorf("only %d of %d slowloris connections got their request line in", opened.Load(), conns)
	}
	if len(after) > 0 && int(opened.Load()) == conns {
		// From when the last one was in (at most) to when the first closed.
		bg.within(t, what, lastIn.Load().(time.Time), start.Add(Pct(after, 0)))
	}
	if len(after) > 0 {
		t.Logf("%d slowloris connections closed by the server %.1f–%.1f s after they opened (HTTP_READ_HEADER_TIMEOUT %s); whole run %s; other requests' p95 %.1f ms",
			len(after), Pct(after, 0).Seconds(), Pct(after, 100).Seconds(), timeout, time.Since(start).Round(time.Millisecond), ms(p95))
	}
	// The server still serves, and says nothing alarming about it.
	c.Must(t, "GET", "/api/health/ready", "", nil, 200, nil)
}

// slowReader yields its bytes at rate bytes a second, in 1 KB pieces.
type slowReader struct {
	r    io.Reader
	rate int
	next time.Time
}

func (s *slowReader) Read(p []byte) (int, error) {
	if d := time.Until(s.next); d > 0 {
		time.Sleep(d)
	}
	n, err := s.r.Read(p[:min(len(p), 1024)])
	s.next = time.Now().Add(time.Duration(n) * time.Second / time.Duration(s.rate))
	return n, err
}

// TestFaultSlowUploads is scenario 4's slow clients: 50 professors'
// uploads of a reading at 10 KB/s each (the smallest corpus PDF, 44 KB:
// about 4.5 s apiece, all at once). Other routes must keep answering 200
// meanwhile (latency reported), and every upload must be accepted once
// its last byte arrives (all name the same document: the same bytes in
// the same week are stored once).
//
// Knobs: SOCRATIC_FAULT_SLOW_UPLOADS (50), SOCRATIC_FAULT_UPLOAD_RATE
// (bytes a second, 10240); the long version is the same.
func TestFaultSlowUploads(t *testing.T) {
	n := Knob(t, "SOCRATIC_FAULT_SLOW_UPLOADS", 50, 50)
	rate := Knob(t, "SOCRATIC_FAULT_UPLOAD_RATE", 10<<10, 10<<10)
	s := StartServer(t)
	c := s.Client()
	w := SetupCourse(t, s, c, "")
	body, ct := UploadForm(t, testenv.CorpusPDF("ca1-calvary-chapel-of-bangor-v-mills-2020.pdf"))

	bg := startBackground(c, 4, ordinaryCalls(w))
	type result struct {
		r   Response
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			results[i].r, results[i].err = c.Do(context.Background(), "POST", fmt.Sprintf("/api/documents/upload?week_id=%d", w.WeekID), w.ProfToken, ct, &slowReader{r: bytes.NewReader(body), rate: rate})
		})
	}
	wg.Wait()
	wall := time.Since(start)
	what := fmt.Sprintf("during %d uploads at %d KB/s", n, rate>>10)
	bg.end(t, what)

	ids := map[string]int{}
	var took []time.Duration
	shed := 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("upload %d: %v", i, r.err)
		case r.r.Status == 503 && r.r.Header.Get("Retry-After") != "" && strings.HasPrefix(r.r.Header.Get("Content-Type"), "application/problem+json"):
			// PDFium's sandboxes all busy when the bodies all ended at
			// once on a loaded machine: an honest "try again" (the client
			// keeps its file), not a failure of this property.
			shed++
		case r.r.Status != 202 && r.r.Status != 200:
			t.Errorf("upload %d: %d %s", i, r.r.Status, r.r.Body)
		default:
			var d struct {
				DocumentID int64 `json:"document_id"`
			}
			r.r.JSON(&d)
			ids[fmt.Sprint(d.DocumentID)]++
			took = append(took, r.r.Took)
		}
	}
	if len(ids) != 1 {
		t.Errorf("the same reading uploaded %d times (%d refused for now with 503) became documents %v, want one", n, shed, ids)
	}
	if shed > 0 {
		t.Logf("%d of %d uploads were refused for now (503, Retry-After: PDFium busy)", shed, n)
	}
	want := time.Duration(len(body)) * time.Second / time.Duration(rate)
	if len(took) > 0 {
		// While every upload was still sending.
		bg.within(t, what, start, start.Add(Pct(took, 0)))
	}
	if len(took) > 0 {
		t.Logf("%d uploads of %d KB at %d KB/s (%.1f s of sending each): answered after %.1f–%.1f s; all done in %s",
			len(took), len(body)>>10, rate>>10, want.Seconds(), Pct(took, 0).Seconds(), Pct(took, 100).Seconds(), wall.Round(time.Millisecond))
		if Pct(took, 0) < want-time.Second {
			t.Errorf("an upload was answered after %s, before its body could have arrived (%s): the throttle did not work", Pct(took, 0), want)
		}
	}
	for id := range ids {
		var docID int64
		fmt.Sscan(id, &docID)
		c.WaitDocument(t, w.ProfToken, docID, 3*time.Minute, "processed")
	}
}
