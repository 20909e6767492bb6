package voice

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// Modes of a session's voice.
const (
	ModeAgent    = "agent"    // ElevenLabs Agents: the platform listens and speaks, our endpoint answers
	ModePipeline = "pipeline" // the browser streams speech-to-text and plays our /speech
	ModeBrowser  = "browser"  // the browser's own speech APIs
	ModeText     = "text"     // typed, no voice at all
)

// Providers.
const (
	ProviderElevenLabs = "elevenlabs"
	ProviderBrowser    = "browser"
)

// Options configure a Service.
type Options struct {
	AgentID      string // ELEVENLABS_AGENT_ID: agent mode when set
	VoiceID      string // the default voice (ELEVENLABS_VOICE_ID)
	TTSModel     string // ELEVENLABS_TTS_MODEL
	VoicesMaxAge time.Duration
	Now          func() time.Time
}

// Service is the ElevenLabs voice layer; a nil *Service is browser mode.
type Service struct {
	c *Client
	o Options

	mu         sync.Mutex
	voices     []Voice
	voicesAt   time.Time
	voicesWait chan struct{} // closed when a listing in flight ends; nil when none
}

// NewService returns the voice layer over c.
func NewService(c *Client, o Options) *Service {
	if o.VoicesMaxAge <= 0 {
		o.VoicesMaxAge = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{c: c, o: o}
}

// Client is the service's ElevenLabs client.
func (s *Service) Client() *Client { return s.c }

// Mode is agent when an agent is configured, else pipeline.
func (s *Service) Mode() string {
	if s.o.AgentID != "" {
		return ModeAgent
	}
	return ModePipeline
}

// AgentID is the configured agent.
func (s *Service) AgentID() string { return s.o.AgentID }

// DefaultVoice is the voice used when a session names none.
func (s *Service) DefaultVoice() string { return s.o.VoiceID }

// Credentials are what the browser needs to talk to ElevenLabs for one
// session, minted at its start.
type Credentials struct {
	Mode string
	// Agent mode.
	SignedURL, ConversationToken string
	// Pipeline mode.
	STTToken, TTSToken string
	// MintedAt: the credentials are good for 15 minutes from then.
	MintedAt time.Time
}

// CredentialLifetime is how long ElevenLabs honours a signed URL, a
// conversation token or a single-use token before it is first used.
const CredentialLifetime = 15 * time.Minute

// Mint asks ElevenLabs for the session's credentials, both at once; either
// failing fails the mint (and nothing minted is handed out).
func (s *Service) Mint(ctx context.Context) (Credentials, error) {
	cr := Credentials{Mode: s.Mode(), MintedAt: s.o.Now()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var a, b string
	var errA, errB error
	var wg sync.WaitGroup
	wg.Add(1)
	first := func(ctx context.Context) (string, error) {
		if cr.Mode == ModeAgent {
			return s.c.SignedURL(ctx, s.o.AgentID)
		}
		return s.c.SingleUseToken(ctx, TokenRealtimeScribe)
	}
	second := func(ctx context.Context) (string, error) {
		if cr.Mode == ModeAgent {
			return s.c.ConversationToken(ctx, s.o.AgentID)
		}
		return s.c.SingleUseToken(ctx, TokenTTSWebsocket)
	}
	go func() {
		defer wg.Done()
		if a, errA = first(ctx); errA != nil {
			cancel() // the other is of no use now
		}
	}()
	if b, errB = second(ctx); errB != nil {
		cancel()
	}
	wg.Wait()
	if errA != nil || errB != nil {
		// The call that failed, not its sibling that was cancelled for it.
		var e *Error
		if errors.As(errA, &e) || errors.As(errB, &e) {
			return Credentials{}, e
		}
		return Credentials{}, errors.Join(errA, errB)
	}
	if cr.Mode == ModeAgent {
		cr.SignedURL, cr.ConversationToken = a, b
	} else {
		cr.STTToken, cr.TTSToken = a, b
	}
	return cr, nil
}

// Voices are the account's voices, listed at most once per VoicesMaxAge;
// when a listing fails, the last good one is served if there is one.
// Concurrent callers share one listing.
func (s *Service) Voices(ctx context.Context) ([]Voice, error) {
	for {
		s.mu.Lock()
		if s.voicesAt != (time.Time{}) && s.o.Now().Sub(s.voicesAt) < s.o.VoicesMaxAge {
			v := s.voices
			s.mu.Unlock()
			return v, nil
		}
		if wait := s.voicesWait; wait != nil {
			s.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		s.voicesWait = done
		s.mu.Unlock()

		v, err := s.c.Voices(ctx)
		s.mu.Lock()
		s.voicesWait = nil
		close(done)
		if err == nil {
			if v == nil {
				v = []Voice{}
			}
			s.voices, s.voicesAt = v, s.o.Now()
		}
		stale := s.voices
		s.mu.Unlock()
		if err != nil {
			if stale != nil {
				return stale, nil
			}
			return nil, err
		}
		return v, nil
	}
}

// Speak streams text in the voice (the default when voiceID is empty).
func (s *Service) Speak(ctx context.Context, voiceID, text string) (io.ReadCloser, error) {
	if voiceID == "" {
		voiceID = s.o.VoiceID
	}
	return s.c.Speech(ctx, SpeechRequest{VoiceID: voiceID, Text: text, ModelID: s.o.TTSModel})
}
