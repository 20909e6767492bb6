package httpapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/voice"
)

// The voice platform's post-call webhooks: after a call, ElevenLabs sends
// its transcript and analysis (post_call_transcription) and, when audio
// saving is on, the whole call as base64 MP3 (post_call_audio), each
// signed with ELEVENLABS_WEBHOOK_SECRET. The body is read once, as it
// arrives: its bytes go through the signature's MAC and a streaming JSON
// reader together, the audio decoded straight to a temporary file and the
// rest (the small part) kept, so a large recording is never in memory.
// Nothing is stored until the whole body has matched its signature.

const (
	// webhookJSONLimit bounds the part of a webhook kept in memory:
	// everything but the audio (a five-minute call's transcript, with the
	// platform's metrics, is tens of kilobytes).
	webhookJSONLimit = 8 << 20
	// webhookDepth bounds the JSON's nesting.
	webhookDepth = 64
)

// errWebhookSignature refuses a webhook whose signature is missing,
// stale or wrong, in the same words for each.
var errWebhookSignature = errs.New(errs.Unauthorized, "the ElevenLabs-Signature header is missing, stale or does not match the body")

type webhookInput struct {
	Signature string `header:"ElevenLabs-Signature" doc:"t=<unix seconds>,v0=<hex HMAC-SHA256 of \"t.\" and the raw body under ELEVENLABS_WEBHOOK_SECRET>"`
}

type webhookOutput struct {
	Body struct {
		Received bool   `json:"received"`
		Stored   bool   `json:"stored" doc:"false for a redelivery, an event of no interest, or a conversation no session holds"`
		Type     string `json:"type" doc:"The event's type, as sent"`
	}
}

// webhookEnvelope is the part of a webhook read after it is verified.
type webhookEnvelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type webhookData struct {
	AgentID        string          `json:"agent_id"`
	ConversationID string          `json:"conversation_id"`
	Status         string          `json:"status"`
	Transcript     json.RawMessage `json:"transcript"`
	Metadata       json.RawMessage `json:"metadata"`
	Analysis       json.RawMessage `json:"analysis"`
	Init           *struct {
		ExtraBody        map[string]any `json:"custom_llm_extra_body"`
		DynamicVariables map[string]any `json:"dynamic_variables"`
	} `json:"conversation_initiation_client_data"`
}

func (s *Server) voiceWebhook(ctx context.Context, in *webhookInput) (*webhookOutput, error) {
	secret := s.cfg.ElevenLabsWebhookSecret
	if secret == "" {
		s.log.WarnContext(ctx, "a voice webhook arrived but ELEVENLABS_WEBHOOK_SECRET is not set: refused")
		return nil, errWebhookSignature
	}
	sig, err := voice.ParseWebhookSignature(in.Signature, s.sessions.Now())
	if err != nil {
		return nil, errWebhookSignature
	}
	mac := sig.Hash(secret)
	body := bodyOf(ctx).r
	if body == nil {
		return nil, errWebhookSignature
	}
	var audio *session.VoiceAudio
	defer func() { audio.Discard() }() // a no-op once stored (or nil)
	walk := &jsonWalker{r: bufio.NewReaderSize(io.TeeReader(body, mac), 64<<10), max: webhookJSONLimit,
		onAudio: func(r io.Reader) error {
			// One recording per event: a body repeating the key would
			// otherwise leave a temporary file per copy, before its
			// signature is known.
			if audio != nil {
				return errs.InvalidFields(errs.FieldError{Field: "data.full_audio", Message: "appears more than once"})
			}
			dec := &firstErr{r: base64.NewDecoder(base64.StdEncoding, r)}
			a, err := s.sessions.ReceiveVoiceAudio(dec)
			audio = a
			var corrupt base64.CorruptInputError
			if errors.As(dec.err, &corrupt) {
				return errs.InvalidFields(errs.FieldError{Field: "data.full_audio", Message: "is not base64 (the standard alphabet, padded)"})
			}
			return err
		}}
	parseErr := walk.document()
	if parseErr != nil && !isSyntax(parseErr) {
		return nil, badBodyErr(parseErr)
	}
	if parseErr != nil {
		// Read the rest, so the signature is checked before any answer
		// says anything of the body.
		if _, err := io.Copy(mac, body); err != nil {
			return nil, badBodyErr(err)
		}
	}
	if sig.Verify(mac) != nil {
		return nil, errWebhookSignature
	}
	switch {
	case parseErr != nil:
		return nil, errs.New(errs.Invalid, "the webhook's body is not valid JSON")
	case walk.over:
		return nil, errs.New(errs.TooLarge, "the webhook's body, without its audio, is larger than "+strconv.Itoa(webhookJSONLimit>>20)+" MB")
	case walk.audioErr != nil:
		return nil, walk.audioErr
	}
	var env webhookEnvelope
	if err := json.Unmarshal(walk.out, &env); err != nil {
		return nil, errs.New(errs.Invalid, "the webhook's body is not a JSON object with a type and data")
	}
	out := &webhookOutput{}
	out.Body.Received, out.Body.Type = true, env.Type
	var d webhookData
	if len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return nil, errs.InvalidFields(errs.FieldError{Field: "data", Message: "is not the object a post-call webhook carries"})
		}
	}
	switch env.Type {
	case "post_call_transcription":
		if d.ConversationID == "" || len(d.ConversationID) > 200 {
			return nil, errs.InvalidFields(errs.FieldError{Field: "data.conversation_id", Message: "is missing or longer than 200 characters"})
		}
		c := session.VoiceConversation{ConversationID: d.ConversationID, AgentID: d.AgentID, Status: d.Status,
			Transcript: d.Transcript, Analysis: d.Analysis, Metadata: d.Metadata}
		stored, err := s.sessions.StoreVoiceTranscript(ctx, s.webhookSession(d), c)
		if errors.Is(err, session.ErrNoConversation) {
			s.log.WarnContext(ctx, "a call's transcript names no session here: not stored", "conversation", d.ConversationID)
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out.Body.Stored = stored
	case "post_call_audio":
		if audio == nil {
			return out, nil // no audio in it: nothing to keep
		}
		if d.ConversationID == "" {
			return nil, errs.InvalidFields(errs.FieldError{Field: "data.conversation_id", Message: "is missing"})
		}
		stored, err := s.sessions.StoreVoiceAudio(ctx, d.ConversationID, audio)
		audio = nil // consumed
		if errors.Is(err, session.ErrNoConversation) {
			s.log.WarnContext(ctx, "a call's audio came before its transcript, or names no session here: not stored", "conversation", d.ConversationID)
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out.Body.Stored = stored
	}
	return out, nil
}

// webhookSession is the session a call's transcript belongs to, from what
// the client sent at the start of the call: the signed session token
// (custom_llm_extra_body, or a dynamic variable); nothing else the
// client sent names a session. 0: none.
func (s *Server) webhookSession(d webhookData) session.VoiceMatch {
	if d.Init == nil {
		return session.VoiceMatch{}
	}
	key := s.voiceKey
	var m session.VoiceMatch
	for _, tok := range []any{d.Init.ExtraBody["session_token"], d.Init.DynamicVariables["session_token"], d.Init.DynamicVariables["secret__session_token"]} {
		t, ok := tok.(string)
		if !ok || t == "" {
			continue
		}
		// The call is over: its token's expiry has passed, and is checked
		// against the session instead.
		if id, expires, err := voice.VerifySessionToken(key, t, time.Time{}); err == nil {
			m.SessionID, m.Expires = id, expires
			return m
		}
	}
	// A bare dynamic_variables.session_id is not trusted: the client
	// chooses it, so a student could file their call into another
	// student's session. Only a session token this server signed names
	// the session (our web client always passes it).
	return m
}

func badBodyErr(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errs.New(errs.TooLarge, "the request is too large")
	}
	return errs.New(errs.Invalid, "the webhook's body was cut short")
}

// rawJSONBody hands the handler the request body unread, and documents it
// as JSON of schema.
func rawJSONBody(desc string, schema *huma.Schema) option {
	return option{
		before: func(o *huma.Operation) {
			o.Middlewares = append(o.Middlewares, func(ctx huma.Context, next func(huma.Context)) {
				next(huma.WithValue(ctx, rawBodyKey{}, rawBody{r: ctx.BodyReader(), contentType: ctx.Header("Content-Type")}))
			})
		},
		after: func(o *huma.Operation) {
			o.RequestBody = &huma.RequestBody{Required: true, Description: desc, Content: map[string]*huma.MediaType{
				"application/json": {Schema: schema},
			}}
		},
	}
}

// webhookBodySchema describes the events the webhook reads.
var webhookBodySchema = &huma.Schema{Type: huma.TypeObject, Required: []string{"type", "data"}, Properties: map[string]*huma.Schema{
	"type":            {Type: huma.TypeString, Description: "post_call_transcription or post_call_audio (others are acknowledged and ignored)"},
	"event_timestamp": {Type: huma.TypeInteger},
	"data": {Type: huma.TypeObject, Description: "The conversation: conversation_id, agent_id, transcript, analysis, metadata, conversation_initiation_client_data; or, for audio, full_audio (base64 MP3)",
		Properties: map[string]*huma.Schema{
			"conversation_id": {Type: huma.TypeString},
			"full_audio":      {Type: huma.TypeString, Description: "base64 MP3 of the whole call"},
		}},
}}

// errSyntax is malformed JSON in a webhook's body.
type errSyntax struct{ msg string }

func (e errSyntax) Error() string { return "webhook json: " + e.msg }

func isSyntax(err error) bool {
	var e errSyntax
	return errors.As(err, &e)
}

// jsonWalker reads one JSON document from r as it arrives, copying it to
// out except the string at data.full_audio, which it hands to onAudio as a
// reader of its (unescaped) contents. What it copies is checked to be
// JSON by the caller's json.Unmarshal; the walker only follows the
// structure, with bounded nesting and copy.
type jsonWalker struct {
	r        *bufio.Reader
	out      []byte
	max      int
	over     bool // out passed max: the copy was dropped
	onAudio  func(io.Reader) error
	audioErr error
	depth    int
}

// document walks the whole body: one value, then only white space.
func (w *jsonWalker) document() error {
	c, err := w.ws()
	if err != nil {
		return w.eof(err)
	}
	if err := w.value(c, ""); err != nil {
		return err
	}
	for {
		c, err := w.r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !isSpace(c) {
			return errSyntax{"more after the document"}
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// eof turns an early end of the body into a syntax error.
func (w *jsonWalker) eof(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errSyntax{"the body ends inside the document"}
	}
	return err
}

func (w *jsonWalker) ws() (byte, error) {
	for {
		c, err := w.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(c) {
			return c, nil
		}
	}
}

func (w *jsonWalker) emit(b ...byte) {
	if w.over {
		return
	}
	if len(w.out)+len(b) > w.max {
		w.over, w.out = true, nil
		return
	}
	w.out = append(w.out, b...)
}

func (w *jsonWalker) value(c byte, path string) error {
	switch c {
	case '{':
		return w.object(path)
	case '[':
		return w.array(path)
	case '"':
		if path == "data.full_audio" && w.onAudio != nil {
			w.emit('"', '"')
			sr := &b64String{r: w.r}
			if err := w.onAudio(sr); err != nil && w.audioErr == nil {
				w.audioErr = err
			}
			// What the audio's reader left (it stopped early on a refusal).
			if _, err := io.Copy(io.Discard, sr); err != nil {
				return w.eof(err)
			}
			if !sr.done {
				return errSyntax{"unterminated string"}
			}
			return nil
		}
		return w.str()
	}
	// A number, true, false or null: copied as it is, checked later.
	w.emit(c)
	for {
		n, err := w.r.ReadByte()
		if err != nil {
			return w.eof(err)
		}
		if !(n >= '0' && n <= '9' || n >= 'a' && n <= 'z' || n == '-' || n == '+' || n == '.' || n == 'E') {
			return w.r.UnreadByte()
		}
		w.emit(n)
	}
}

// str copies a string (its opening quote read), escapes and all.
func (w *jsonWalker) str() error {
	w.emit('"')
	for {
		c, err := w.r.ReadByte()
		if err != nil {
			return w.eof(err)
		}
		w.emit(c)
		switch c {
		case '"':
			return nil
		case '\\':
			n, err := w.r.ReadByte()
			if err != nil {
				return w.eof(err)
			}
			w.emit(n)
		}
	}
}

func (w *jsonWalker) nest() error {
	if w.depth++; w.depth > webhookDepth {
		return errSyntax{"nested too deeply"}
	}
	return nil
}

func (w *jsonWalker) object(path string) error {
	if err := w.nest(); err != nil {
		return err
	}
	defer func() { w.depth-- }()
	w.emit('{')
	c, err := w.ws()
	if err != nil {
		return w.eof(err)
	}
	if c == '}' {
		w.emit('}')
		return nil
	}
	for {
		if c != '"' {
			return errSyntax{"an object key is not a string"}
		}
		start := len(w.out)
		if err := w.str(); err != nil {
			return err
		}
		key := ""
		if !w.over {
			key = string(w.out[start+1 : len(w.out)-1])
		}
		if c, err = w.ws(); err != nil {
			return w.eof(err)
		}
		if c != ':' {
			return errSyntax{"no colon after an object key"}
		}
		w.emit(':')
		if c, err = w.ws(); err != nil {
			return w.eof(err)
		}
		child := key
		if path != "" {
			child = path + "." + key
		}
		if err := w.value(c, child); err != nil {
			return err
		}
		if c, err = w.ws(); err != nil {
			return w.eof(err)
		}
		switch c {
		case '}':
			w.emit('}')
			return nil
		case ',':
			w.emit(',')
			if c, err = w.ws(); err != nil {
				return w.eof(err)
			}
		default:
			return errSyntax{"an object's members are not separated by commas"}
		}
	}
}

func (w *jsonWalker) array(path string) error {
	if err := w.nest(); err != nil {
		return err
	}
	defer func() { w.depth-- }()
	w.emit('[')
	c, err := w.ws()
	if err != nil {
		return w.eof(err)
	}
	if c == ']' {
		w.emit(']')
		return nil
	}
	for {
		if err := w.value(c, path+"[]"); err != nil {
			return err
		}
		if c, err = w.ws(); err != nil {
			return w.eof(err)
		}
		switch c {
		case ']':
			w.emit(']')
			return nil
		case ',':
			w.emit(',')
			if c, err = w.ws(); err != nil {
				return w.eof(err)
			}
		default:
			return errSyntax{"an array's items are not separated by commas"}
		}
	}
}

// b64String reads a JSON string's contents (its opening quote read),
// unescaped, up to its closing quote, then io.EOF. Base64 needs only the
// escapes a JSON encoder may put in it (\/ and, for line breaks, \n \r).
type b64String struct {
	r    *bufio.Reader
	done bool
	err  error // sticky: a string that went wrong stays wrong
}

func (s *b64String) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.done {
		return 0, io.EOF
	}
	n, err := s.read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

func (s *b64String) read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		switch {
		case c == '"':
			s.done = true
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		case c == '\\':
			e, err := s.r.ReadByte()
			if err != nil {
				return n, io.ErrUnexpectedEOF
			}
			switch e {
			case '/', '\\', '"':
				c = e
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			default:
				return n, errSyntax{"an escape a base64 string does not use"}
			}
		case c < 0x20:
			return n, errSyntax{"a control character in a string"}
		}
		p[n] = c
		n++
	}
	return n, nil
}

// firstErr remembers the first error its reader returned.
type firstErr struct {
	r   io.Reader
	err error
}

func (f *firstErr) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF && f.err == nil {
		f.err = err
	}
	return n, err
}
