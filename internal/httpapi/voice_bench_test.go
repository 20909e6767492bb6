package httpapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/voice/elevenfake"
)

// BenchmarkSpeechAddedTimeToFirstByte measures what the /speech proxy adds
// to the time to first audio byte: each iteration asks the fake
// ElevenLabs directly and through /speech (signed-in student, session and
// turn read from SQLite, upstream request, relay), both over loopback, and
// reports the paired difference ("added"), and the time until the request
// reaches the fake ("to-upstream").
//
//	go test ./internal/httpapi -run '^$' -bench SpeechAddedTimeToFirstByte -benchtime 2000x
func BenchmarkSpeechAddedTimeToFirstByte(b *testing.B) {
	w, fake, srv, id := speechWorld(b)
	fake.Chunks = 2
	token := w.persona["enrolled"]
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	ttfb := func(req *http.Request) time.Duration {
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		if _, err := io.ReadFull(res.Body, make([]byte, 1)); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		io.Copy(io.Discard, res.Body)
		return d
	}
	direct := func() *http.Request {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", fake.URL+"/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream?output_format=mp3_44100_128",
			strings.NewReader(`{"text":"What did the court hold?","model_id":"eleven_flash_v2_5"}`))
		req.Header.Set("xi-api-key", elevenfake.Key)
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	proxied := func() *http.Request {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/api/sessions/"+itoa(id)+"/speech", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}
	for range 20 { // warm connections and caches
		ttfb(direct())
		ttfb(proxied())
	}
	var added, viaProxy, straight, toUpstream []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := ttfb(direct())
		n := fake.Count(elevenfake.RouteTTS)
		sent := time.Now()
		p := ttfb(proxied())
		reqs := fake.Requests(elevenfake.RouteTTS)
		if len(reqs) != n+1 {
			b.Fatalf("%d upstream requests for one /speech", len(reqs)-n)
		}
		toUpstream = append(toUpstream, reqs[n].At.Sub(sent))
		straight, viaProxy, added = append(straight, d), append(viaProxy, p), append(added, max(p-d, 0))
	}
	b.StopTimer()
	report(b, "direct", straight)
	report(b, "proxied", viaProxy)
	report(b, "added", added)
	report(b, "to-upstream", toUpstream)
}
