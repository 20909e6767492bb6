package voice_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lawtutor/socratic/internal/voice"
	"github.com/lawtutor/socratic/internal/voice/elevenfake"
)

func newClient(fake *elevenfake.Server, key string, timeout time.Duration) *voice.Client {
	return voice.NewClient(voice.ClientOptions{BaseURL: fake.URL, APIKey: key, Timeout: timeout})
}

func TestCredentialsAreMintedAsDocumented(t *testing.T) {
	fake := elevenfake.New(t)
	c := newClient(fake, elevenfake.Key, time.Second)
	ctx := context.Background()
	u, err := c.SignedURL(ctx, "agent_abc")
	if err != nil || !strings.HasPrefix(u, "ws") || !strings.Contains(u, "conversation_signature=") {
		t.Fatalf("signed url %q, %v", u, err)
	}
	tok, err := c.ConversationToken(ctx, "agent_abc")
	if err != nil || tok == "" {
		t.Fatalf("conversation token %q, %v", tok, err)
	}
	for _, kind := range []string{voice.TokenRealtimeScribe, voice.TokenTTSWebsocket} {
		if tok, err := c.SingleUseToken(ctx, kind); err != nil || tok == "" {
			t.Fatalf("%s: %q, %v", kind, tok, err)
		}
	}
	for _, r := range fake.Requests("") {
		if r.Header.Get("xi-api-key") != elevenfake.Key {
			t.Errorf("%s %s without the key", r.Method, r.Path)
		}
	}
	if r := fake.Requests(elevenfake.RouteSignedURL)[0]; r.Path != "/v1/convai/conversation/get-signed-url" || r.Query.Get("agent_id") != "agent_abc" {
		t.Errorf("signed url request %s %v", r.Path, r.Query)
	}
	if r := fake.Requests(elevenfake.RouteConvToken)[0]; r.Query.Get("agent_id") != "agent_abc" {
		t.Errorf("token request %v", r.Query)
	}
	got := []string{}
	for _, r := range fake.Requests(elevenfake.RouteSingleUseToken) {
		got = append(got, r.Method+" "+r.Path)
	}
	if strings.Join(got, ",") != "POST /v1/single-use-token/realtime_scribe,POST /v1/single-use-token/tts_websocket" {
		t.Errorf("single-use requests %v", got)
	}
	if msg, _, _ := c.LastError(); msg != "" {
		t.Errorf("last error %q after successes", msg)
	}
}

// TestFailuresAreKindedCountedAndKeptWithoutSecrets: each kind of failure
// is an *voice.Error of that kind, counted in the metrics, and the last
// one is kept in words that name neither the key nor the URL.
func TestFailuresAreKindedCountedAndKeptWithoutSecrets(t *testing.T) {
	fake := elevenfake.New(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		key    string
		status int
		delay  time.Duration
		kind   string
	}{
		{"bad key", "xi-wrong-key-must-not-show", 0, 0, voice.KindAuth},
		{"503", elevenfake.Key, 503, 0, voice.KindUnavailable},
		{"429", elevenfake.Key, 429, 0, voice.KindRateLimited},
		{"422", elevenfake.Key, 422, 0, voice.KindRejected},
		{"slow", elevenfake.Key, 0, 2 * time.Second, voice.KindTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(fake, tc.key, 150*time.Millisecond)
			fake.Behave(elevenfake.RouteSignedURL, elevenfake.Behavior{Status: tc.status, Delay: tc.delay})
			start := time.Now()
			_, err := c.SignedURL(ctx, "agent_abc")
			took := time.Since(start)
			var e *voice.Error
			if !errors.As(err, &e) || e.Kind != tc.kind || e.Op != voice.OpSignedURL {
				t.Fatalf("error %#v (%v), want kind %s", err, err, tc.kind)
			}
			if tc.kind == voice.KindTimeout && took > time.Second {
				t.Errorf("a 150ms timeout took %s", took)
			}
			msg, at, recovered := c.LastError()
			if msg == "" || at.IsZero() || recovered {
				t.Errorf("last error %q at %v recovered %v", msg, at, recovered)
			}
			for _, secret := range []string{tc.key, fake.URL, "agent_abc", "127.0.0.1"} {
				if strings.Contains(msg, secret) || strings.Contains(err.Error(), secret) {
					t.Errorf("the error names %q: %q", secret, msg)
				}
			}
			if n := testutil.ToFloat64(metric(c, voice.OpSignedURL, tc.kind)); n != 1 {
				t.Errorf("errors{op=signed_url,kind=%s} = %v, want 1", tc.kind, n)
			}
			fake.Behave(elevenfake.RouteSignedURL, elevenfake.Behavior{})
			if tc.key == elevenfake.Key {
				if _, err := c.SignedURL(ctx, "agent_abc"); err != nil {
					t.Fatal(err)
				}
				if _, _, recovered := c.LastError(); !recovered {
					t.Errorf("a success after the failure does not count as recovery")
				}
			}
		})
	}
	// The caller hanging up is not ElevenLabs' failure.
	c := newClient(fake, elevenfake.Key, 5*time.Second)
	fake.Behave(elevenfake.RouteConvToken, elevenfake.Behavior{Delay: time.Second})
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.ConversationToken(cctx, "agent_abc"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled call: %v", err)
	}
	if msg, _, _ := c.LastError(); msg != "" {
		t.Errorf("a cancelled call was kept as the last error: %q", msg)
	}
}

// metric finds one child of the client's error counter.
func metric(c *voice.Client, op, kind string) prometheus.Collector {
	return c.Collectors()[1].(*prometheus.CounterVec).WithLabelValues(op, kind)
}

func TestVoicesArePagedAndCachedTenMinutes(t *testing.T) {
	fake := elevenfake.New(t)
	var many []elevenfake.Voice
	for i := range 250 {
		many = append(many, elevenfake.Voice{VoiceID: fmt.Sprintf("v%03d", i), Name: fmt.Sprintf("Voice %d", i)})
	}
	fake.SetVoices(many)
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	svc := voice.NewService(newClient(fake, elevenfake.Key, time.Second), voice.Options{Now: clock})
	ctx := context.Background()
	vs, err := svc.Voices(ctx)
	if err != nil || len(vs) != 250 || vs[249].VoiceID != "v249" {
		t.Fatalf("%d voices, %v", len(vs), err)
	}
	if n := fake.Count(elevenfake.RouteVoices); n != 3 {
		t.Errorf("%d pages fetched, want 3 of 100", n)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Voices(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	advance(9 * time.Minute)
	if _, err := svc.Voices(ctx); err != nil {
		t.Fatal(err)
	}
	if n := fake.Count(elevenfake.RouteVoices); n != 3 {
		t.Errorf("within 10 minutes the fake was asked again: %d requests", n)
	}
	advance(2 * time.Minute)
	fake.SetVoices(many[:5])
	if vs, err := svc.Voices(ctx); err != nil || len(vs) != 5 {
		t.Fatalf("after 11 minutes: %d voices, %v", len(vs), err)
	}
	// A failed refresh serves the last good listing.
	advance(11 * time.Minute)
	fake.Behave(elevenfake.RouteVoices, elevenfake.Behavior{Status: 503})
	if vs, err := svc.Voices(ctx); err != nil || len(vs) != 5 {
		t.Fatalf("stale listing: %d voices, %v", len(vs), err)
	}
}

// TestMintFailsWholeWhenEitherCallFails: agent mode needs both the signed
// URL and the conversation token.
func TestMintFailsWholeWhenEitherCallFails(t *testing.T) {
	fake := elevenfake.New(t)
	c := newClient(fake, elevenfake.Key, time.Second)
	agent := voice.NewService(c, voice.Options{AgentID: "agent_1"})
	cr, err := agent.Mint(context.Background())
	if err != nil || cr.Mode != voice.ModeAgent || cr.SignedURL == "" || cr.ConversationToken == "" || cr.STTToken != "" {
		t.Fatalf("agent mint %+v, %v", cr, err)
	}
	fake.Behave(elevenfake.RouteConvToken, elevenfake.Behavior{Status: 500})
	if _, err := agent.Mint(context.Background()); err == nil {
		t.Fatal("mint succeeded without a conversation token")
	}
	pipe := voice.NewService(c, voice.Options{})
	cr, err = pipe.Mint(context.Background())
	if err != nil || cr.Mode != voice.ModePipeline || cr.STTToken == "" || cr.TTSToken == "" || cr.STTToken == cr.TTSToken {
		t.Fatalf("pipeline mint %+v, %v", cr, err)
	}
}

// TestSpeechStreamsAndClosingEndsTheUpstreamRequest: the first chunk is
// readable while the fake holds the rest; closing the stream ends the
// request at the fake.
func TestSpeechStreamsAndClosingEndsTheUpstreamRequest(t *testing.T) {
	fake := elevenfake.New(t)
	fake.Hold = make(chan struct{})
	svc := voice.NewService(newClient(fake, elevenfake.Key, time.Second), voice.Options{VoiceID: "JBFqnCBsd6RMkjVDRZzb", TTSModel: "eleven_flash_v2_5"})
	audio, err := svc.Speak(context.Background(), "", "What did the court hold?")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(audio, buf); err != nil || buf[0] != 0xFF {
		t.Fatalf("first bytes %x, %v", buf, err)
	}
	closed := time.Now()
	audio.Close()
	select {
	case gone := <-fake.Gone():
		if d := gone.Sub(closed); d > 100*time.Millisecond {
			t.Errorf("the fake saw the hang-up %s after it", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the fake never saw the hang-up")
	}
	r := fake.Requests(elevenfake.RouteTTS)[0]
	if r.Path != "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream" || r.Query.Get("output_format") != "mp3_44100_128" ||
		!strings.Contains(string(r.Body), `"text":"What did the court hold?"`) || !strings.Contains(string(r.Body), `"model_id":"eleven_flash_v2_5"`) {
		t.Errorf("request %s %v %s", r.Path, r.Query, r.Body)
	}
}
