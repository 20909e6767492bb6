package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/voice"
)

// voiceRetry is the Retry-After of a start or speech refused because
// ElevenLabs failed: long enough for a blip to pass.
const voiceRetry = 5 * time.Second

// errVoiceDown answers a start or speech when ElevenLabs fails (5xx,
// timeout, refusal). The kind is in the logs and /api/health, not here.
var errVoiceDown = &errs.Error{Code: errs.Unavailable, RetryAfter: voiceRetry,
	Message: `the voice service is not answering just now; try again shortly, or start with {"mode": "text"}; nothing was counted against your week`}

var errSpeechDown = &errs.Error{Code: errs.Unavailable, RetryAfter: voiceRetry,
	Message: "the voice service is not answering just now; try again shortly"}

var errNoServerSpeech = errs.New(errs.NotImplemented, "the server does not speak in browser voice mode: the browser speaks the reply itself (VOICE_PROVIDER is browser)")

// newVoice builds the voice layer the configuration selects: nil for the
// browser's own speech.
func newVoice(d Deps) *voice.Service {
	if d.Voice != nil {
		return d.Voice
	}
	if d.Config.VoiceProviderName() != voice.ProviderElevenLabs {
		return nil
	}
	return NewVoice(d.Config)
}

// NewVoice is the ElevenLabs voice layer of the configuration.
func NewVoice(cfg config.Config) *voice.Service {
	c := voice.NewClient(voice.ClientOptions{BaseURL: cfg.ElevenLabsBaseURL, APIKey: cfg.ElevenLabsAPIKey, Timeout: cfg.ElevenLabsTimeout})
	return voice.NewService(c, voice.Options{AgentID: cfg.ElevenLabsAgentID, VoiceID: cfg.ElevenLabsVoiceID, TTSModel: cfg.ElevenLabsTTSModel})
}

// voiceError turns an ElevenLabs failure into down (503 with Retry-After),
// logged once with its kind; a caller that went away keeps its error.
func (s *Server) voiceError(ctx context.Context, err error, down *errs.Error) error {
	var e *voice.Error
	if errors.As(err, &e) {
		s.log.WarnContext(ctx, "elevenlabs call failed", "op", e.Op, "kind", e.Kind, "status", e.Status, "code", e.Code, "request_id", requestID(ctx))
		return down
	}
	return err
}

// startVoice is the voice block of a start, and the step that mints the
// session's ElevenLabs credentials between the start's checks and its
// write (session.StartWith): a failed mint refuses the start with nothing
// written.
type startVoice struct {
	s     *Server
	mode  string
	creds voice.Credentials
}

func (s *Server) newStartVoice(asked string) *startVoice {
	sv := &startVoice{s: s}
	switch {
	case asked == "text":
		sv.mode = voice.ModeText
	case s.voice == nil:
		sv.mode = voice.ModeBrowser
	default:
		sv.mode = s.voice.Mode()
	}
	return sv
}

// mint is the step StartWith runs; nil when the mode needs no credentials.
// A voice_id the account does not have is refused here (422), before
// anything is minted: otherwise every reply of the session would fail to
// be spoken. When the voices cannot be listed, the id is let through.
func (sv *startVoice) mint(voiceID string) func(context.Context) error {
	if sv.mode != voice.ModeAgent && sv.mode != voice.ModePipeline {
		return nil
	}
	return func(ctx context.Context) error {
		if id := strings.TrimSpace(voiceID); id != "" {
			if vs, err := sv.s.voice.Voices(ctx); err == nil && !hasVoice(vs, id) {
				return errs.InvalidFields(errs.FieldError{Field: "voice_id", Message: "is not one of this school's voices (GET /api/voice/voices lists them)"})
			}
		}
		creds, err := sv.s.voice.Mint(ctx)
		if err != nil {
			return sv.s.voiceError(ctx, err, errVoiceDown)
		}
		sv.creds = creds
		return nil
	}
}

func hasVoice(vs []voice.Voice, id string) bool {
	for _, v := range vs {
		if v.VoiceID == id {
			return true
		}
	}
	return false
}

// block is the answer's voice block for the started session.
func (sv *startVoice) block(u auth.User, st session.Started) Voice {
	sess := st.Session
	v := Voice{Provider: sv.s.cfg.VoiceProviderName(), Mode: sv.mode, VoiceID: sess.VoiceID}
	if sv.s.voice != nil && v.VoiceID == "" {
		v.VoiceID = sv.s.voice.DefaultVoice()
	}
	if sv.mode == voice.ModeText || sv.mode == voice.ModeBrowser {
		return v
	}
	// The credentials are good for 15 minutes; the session is over sooner.
	exp := sv.creds.MintedAt.Add(voice.CredentialLifetime)
	if sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	exp = exp.UTC()
	v.ExpiresAt = &exp
	if sv.mode == voice.ModePipeline {
		v.STTToken, v.TTSToken = &sv.creds.STTToken, &sv.creds.TTSToken
		v.Token = v.TTSToken
		return v
	}
	agent := sv.s.voice.AgentID()
	tok := voice.SessionToken(sv.s.voiceKey, sess.ID, sess.ExpiresAt)
	first := st.Opening
	v.AgentID, v.SignedURL, v.ConversationToken, v.SessionToken, v.FirstMessage = &agent, &sv.creds.SignedURL, &sv.creds.ConversationToken, &tok, &first
	v.Token = v.ConversationToken
	v.DynamicVariables = map[string]any{
		"session_id":           strconv.FormatInt(sess.ID, 10),
		"student_first_name":   firstName(u),
		"course_code":          sess.CourseCode,
		"course_name":          sess.CourseName,
		"week_number":          sess.WeekNumber,
		"week_title":           sess.WeekTitle,
		"theme":                sess.Theme,
		"max_duration_seconds": int(sv.s.sessions.MaxDuration() / time.Second),
	}
	return v
}

// firstName is what the tutor calls the student: the first word of their
// full name, else their username.
func firstName(u auth.User) string {
	if f := strings.Fields(u.FullName); len(f) > 0 {
		return f[0]
	}
	return u.Username
}

// VoiceItem is one of the account's voices.
type VoiceItem struct {
	VoiceID    string `json:"voice_id"`
	Name       string `json:"name"`
	PreviewURL string `json:"preview_url,omitempty" doc:"A short sample, where ElevenLabs has one"`
}

type voicesOutput struct {
	Body struct {
		Items []VoiceItem `json:"items"`
	}
}

// listVoices answers the account's voices, cached 10 minutes (a start
// page must not cost an ElevenLabs call per student); none in browser
// mode, where the browser picks among its own.
func (s *Server) listVoices(ctx context.Context, _ *struct{}) (*voicesOutput, error) {
	out := &voicesOutput{}
	out.Body.Items = []VoiceItem{}
	if s.voice == nil {
		return out, nil
	}
	vs, err := s.voice.Voices(ctx)
	if err != nil {
		return nil, s.voiceError(ctx, err, errSpeechDown)
	}
	for _, v := range vs {
		out.Body.Items = append(out.Body.Items, VoiceItem{VoiceID: v.VoiceID, Name: v.Name, PreviewURL: v.PreviewURL})
	}
	return out, nil
}

type speechInput struct {
	SessionIDPath
	Body *struct {
		TurnID int64 `json:"turn_id,omitempty" minimum:"1" doc:"A tutor turn of this session (the id in its transcript); default: the latest"`
	} `required:"false"`
}

// speech speaks a stored tutor reply: the words come from the transcript,
// never from the request, so the route cannot become a free text-to-speech
// service on the school's account. The audio is passed on as it arrives;
// when the client hangs up, the request context ends and with it the
// upstream request.
func (s *Server) speech(ctx context.Context, in *speechInput) (*huma.StreamResponse, error) {
	var turnID int64
	if in.Body != nil {
		turnID = in.Body.TurnID
	}
	sess, text, err := s.sessions.Speech(ctx, currentUser(ctx), in.SessionID, turnID)
	if err != nil {
		return nil, err
	}
	if s.voice == nil {
		return nil, errNoServerSpeech
	}
	audio, err := s.voice.Speak(ctx, sess.VoiceID, text)
	if err != nil {
		return nil, s.voiceError(ctx, err, errSpeechDown)
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer audio.Close()
		_, w := humago.Unwrap(hctx)
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "audio/mpeg")
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		relay(w, rc, audio)
	}}, nil
}

// relay copies audio to the client chunk by chunk, flushing each, until
// the audio ends or either side fails.
func relay(w io.Writer, rc *http.ResponseController, audio io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := audio.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// speechResponse documents the audio answer.
var speechResponse = media("The reply spoken, as MP3, streamed as ElevenLabs makes it", map[string]*huma.Schema{
	"audio/mpeg": {Type: huma.TypeString, Format: "binary"}})

// voiceHealth is the voice component of /api/health: from what the last
// calls found, never from a call of its own.
func (s *Server) voiceHealth(b *healthBody) {
	v := &b.Components.Voice
	v.Provider = s.cfg.VoiceProviderName()
	v.Status = "ok"
	if s.voice == nil {
		return
	}
	msg, at, recovered := s.voice.Client().LastError()
	if msg == "" {
		return
	}
	t := at.UTC()
	v.LastError, v.LastErrorAt = &msg, &t
	if !recovered {
		v.Status = "error"
		b.Status = "degraded"
	}
}
