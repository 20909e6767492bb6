package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/session"
)

// Session is a tutoring session.
type Session struct {
	ID              int64      `json:"id"`
	UserID          int64      `json:"user_id"`
	WeekID          int64      `json:"week_id"`
	CourseID        int64      `json:"course_id"`
	CourseCode      string     `json:"course_code"`
	CourseName      string     `json:"course_name"`
	WeekNumber      int        `json:"week_number"`
	WeekTitle       string     `json:"week_title"`
	Status          string     `json:"status" enum:"active,ended"`
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at"`
	ExpiresAt       time.Time  `json:"expires_at"`
	DurationSeconds *int       `json:"duration_seconds" doc:"Set once the session has ended; at most the session's clock"`
	Theme           string     `json:"theme"`
	VoiceID         string     `json:"voice_id"`
	ModeratedCount  int        `json:"moderated_count"`
	HasAudio        bool       `json:"has_audio"`
	Student         *Student   `json:"student,omitempty" doc:"Who held the session; for professors and admins only, absent from a student's own sessions"`
}

// Student names a session's student for those who review it.
type Student struct {
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Email    string `json:"email"`
}

// SessionDetail is a session with its transcript.
type SessionDetail struct {
	Session
	Transcript      []Turn         `json:"transcript"`
	ModerationFlags []session.Flag `json:"moderation_flags" doc:"Each moderated turn: the student's turn, the reply, what moderation found and which layer found it"`
}

// Turn is one message of a transcript.
type Turn struct {
	ID         int64     `json:"id" doc:"The turn's id: a tutor turn's is what POST /api/sessions/{id}/speech takes as turn_id"`
	Role       string    `json:"role" enum:"assistant,user"`
	Content    string    `json:"content"`
	At         time.Time `json:"at"`
	Sources    *[]Source `json:"sources,omitempty" doc:"The passages a tutor's turn drew on (assistant turns)"`
	Moderated  bool      `json:"moderated"`
	Categories []string  `json:"categories,omitempty" doc:"What moderation found, on a moderated turn"`
	Unanswered bool      `json:"unanswered,omitempty" doc:"A student's turn whose answer failed or was cancelled; the tutor did not see it"`
}

func toSession(s session.Session) Session {
	out := Session{ID: s.ID, UserID: s.UserID, WeekID: s.WeekID, CourseID: s.CourseID, CourseCode: s.CourseCode,
		CourseName: s.CourseName, WeekNumber: s.WeekNumber, WeekTitle: s.WeekTitle, Status: string(s.Status),
		StartedAt: s.StartedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(), DurationSeconds: s.Duration, Theme: s.Theme,
		VoiceID: s.VoiceID, ModeratedCount: s.ModeratedCount, HasAudio: s.HasAudio()}
	if s.EndedAt != nil {
		t := s.EndedAt.UTC()
		out.EndedAt = &t
	}
	if s.Student != nil {
		out.Student = &Student{Username: s.Student.Username, FullName: s.Student.FullName, Email: s.Student.Email}
	}
	return out
}

func toSources(in []session.Source) []Source {
	out := make([]Source, 0, len(in))
	for _, r := range in {
		out = append(out, Source{ChunkID: r.ChunkID, DocumentID: r.DocumentID, Filename: r.Filename, Page: r.Page, Content: r.Content})
	}
	return out
}

func toTurns(in []session.Turn) []Turn {
	out := make([]Turn, 0, len(in))
	for _, t := range in {
		turn := Turn{ID: t.ID, Role: string(t.Role), Content: t.Content, At: t.At.UTC(), Moderated: t.Moderated, Unanswered: t.Unanswered}
		for _, c := range t.Categories {
			turn.Categories = append(turn.Categories, string(c))
		}
		if t.Role == session.Tutor {
			src := toSources(t.Sources)
			turn.Sources = &src
		}
		out = append(out, turn)
	}
	return out
}

// SessionIDPath is exported for huma, as CourseIDPath is.
type SessionIDPath struct {
	SessionID int64 `path:"session_id" minimum:"1"`
}

// Voice is how the client speaks with the tutor: which provider and mode,
// and for ElevenLabs the credentials minted for this session.
type Voice struct {
	Provider          string         `json:"provider" enum:"elevenlabs,browser"`
	Mode              string         `json:"mode" enum:"agent,pipeline,browser,text" doc:"agent: connect to the ElevenLabs agent with signed_url or conversation_token, passing session_token as custom_llm_extra_body.session_token and first_message and dynamic_variables in the initiation data; pipeline: realtime speech-to-text with stt_token, replies spoken by POST /api/sessions/{id}/speech (or the TTS websocket with tts_token); browser: the browser's own speech; text: typed only"`
	VoiceID           string         `json:"voice_id"`
	Token             *string        `json:"token" doc:"The conversation token (agent mode) or TTS token (pipeline mode); null otherwise"`
	SignedURL         *string        `json:"signed_url,omitempty" doc:"Agent mode: the signed WebSocket URL of the conversation"`
	ConversationToken *string        `json:"conversation_token,omitempty" doc:"Agent mode: the WebRTC conversation token"`
	AgentID           *string        `json:"agent_id,omitempty"`
	SessionToken      *string        `json:"session_token,omitempty" doc:"Agent mode: this session's secret, for custom_llm_extra_body.session_token; good until the session expires"`
	DynamicVariables  map[string]any `json:"dynamic_variables,omitempty" doc:"Agent mode: the conversation's dynamic variables (session_id, student_first_name, course_code, course_name, week_number, week_title, theme, max_duration_seconds)"`
	FirstMessage      *string        `json:"first_message,omitempty" doc:"Agent mode: the opening message, for the first_message override"`
	STTToken          *string        `json:"stt_token,omitempty" doc:"Pipeline mode: a single-use realtime speech-to-text (realtime_scribe) token"`
	TTSToken          *string        `json:"tts_token,omitempty" doc:"Pipeline mode: a single-use TTS websocket token"`
	ExpiresAt         *time.Time     `json:"expires_at,omitempty" doc:"When the credentials stop working: 15 minutes after minting, or the session's end if sooner"`
}

type startInput struct {
	Body struct {
		WeekID  int64  `json:"week_id" minimum:"1"`
		VoiceID string `json:"voice_id,omitempty" maxLength:"128"`
		Mode    string `json:"mode,omitempty" enum:"voice,text" doc:"voice (default): the configured voice provider; text: typed only, never calls the voice provider"`
	}
}

type startOutput struct {
	Body struct {
		SessionID         int64     `json:"session_id"`
		InitialTheme      string    `json:"initial_theme"`
		OpeningMessage    string    `json:"opening_message"`
		MaxDuration       int       `json:"max_duration" doc:"The session's clock, in seconds"`
		ExpiresAt         time.Time `json:"expires_at"`
		RemainingThisWeek *int      `json:"remaining_this_week" doc:"Sessions the student may still start this week; null for professors and admins, who are not counted"`
		Voice             Voice     `json:"voice"`
		VoiceToken        *string   `json:"voice_token" doc:"voice.token again, for older clients; null in browser and text modes"`
	}
}

// startSession starts a session. With ElevenLabs, the session's
// credentials are minted after the access and quota checks and before the
// session is written: when ElevenLabs fails, the start is 503 with
// Retry-After and nothing is written, so the week's quota is not spent.
func (s *Server) startSession(ctx context.Context, in *startInput) (*startOutput, error) {
	u := currentUser(ctx)
	sv := s.newStartVoice(in.Body.Mode)
	st, err := s.sessions.StartWith(withIP(ctx), u, in.Body.WeekID, in.Body.VoiceID, sv.mint(in.Body.VoiceID))
	if err != nil {
		return nil, err
	}
	out := &startOutput{}
	b := &out.Body
	b.SessionID, b.InitialTheme, b.OpeningMessage = st.Session.ID, st.Session.Theme, st.Opening
	b.MaxDuration = int(s.sessions.MaxDuration() / time.Second)
	b.ExpiresAt = st.Session.ExpiresAt.UTC()
	b.RemainingThisWeek = st.Remaining
	b.Voice = sv.block(u, st)
	b.VoiceToken = b.Voice.Token
	return out, nil
}

type quotaOutput struct {
	Body struct {
		Limit     int       `json:"limit"`
		Used      int       `json:"used"`
		Remaining int       `json:"remaining"`
		ResetsAt  time.Time `json:"resets_at"`
		Applies   bool      `json:"applies" doc:"false for professors and admins, whose sessions are not counted"`
	}
}

func (s *Server) sessionQuota(ctx context.Context, _ *struct{}) (*quotaOutput, error) {
	q, err := s.sessions.Quota(ctx, currentUser(ctx))
	if err != nil {
		return nil, err
	}
	out := &quotaOutput{}
	out.Body.Limit, out.Body.Used, out.Body.Remaining, out.Body.ResetsAt, out.Body.Applies = q.Limit, q.Used, q.Remaining, q.ResetsAt.UTC(), q.Applies
	return out, nil
}

// MessageBody is a student's message.
type MessageBody struct {
	Message     string `json:"message" maxLength:"20000" doc:"What the student said; at most 4,000 characters once trimmed"`
	ClientMsgID string `json:"client_msg_id,omitempty" maxLength:"128" doc:"Repeat a message with the same id to get its stored answer instead of a second turn"`
}

type messageInput struct {
	SessionIDPath
	Message string       `query:"message" doc:"The message, for clients of the original API (the JSON body is preferred)"`
	Body    *MessageBody `required:"false"`
}

func (in *messageInput) text() (string, string) {
	if in.Body != nil {
		return in.Body.Message, in.Body.ClientMsgID
	}
	return in.Message, ""
}

type messageOutput struct {
	Body struct {
		Response         string   `json:"response"`
		Sources          []Source `json:"sources"`
		Moderated        bool     `json:"moderated"`
		RemainingSeconds int      `json:"remaining_seconds"`
	}
}

func (s *Server) sendMessage(ctx context.Context, in *messageInput) (*messageOutput, error) {
	text, id := in.text()
	p, err := s.sessions.Begin(ctx, currentUser(ctx), in.SessionID, text, id)
	if err != nil {
		return nil, err
	}
	a, err := p.Run(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := &messageOutput{}
	out.Body.Response, out.Body.Sources, out.Body.Moderated = a.Text, toSources(a.Sources), a.Moderated
	out.Body.RemainingSeconds = int(a.Remaining / time.Second)
	return out, nil
}

// streamMessage answers as server-sent events: delta… sources done, or
// error. Everything that can be refused is refused before the stream
// opens, with an ordinary status and problem+json.
func (s *Server) streamMessage(ctx context.Context, in *messageInput) (*huma.StreamResponse, error) {
	text, id := in.text()
	p, err := s.sessions.Begin(ctx, currentUser(ctx), in.SessionID, text, id)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, w := humago.Unwrap(hctx)
		rc := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no") // proxies: do not hold the deltas back
		w.WriteHeader(http.StatusOK)
		write := func(event string, data any) error {
			b, err := marshalEvent(event, data)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		}
		send := func(event string, data any) error {
			if err := write(event, data); err != nil {
				return err
			}
			return rc.Flush()
		}
		_ = rc.Flush()
		// A turn has a delta per word or two: each is made in one buffer
		// the stream keeps, without encoding/json's reflection when its
		// text allows (appendDeltaEvent), and flushed with those that come
		// within a tenth of a second (deltaFlusher).
		deltas := newDeltaFlusher(w, rc.Flush)
		// Deferred too: a panic mid-answer (recovered by recoverPanics)
		// must not leave the timer to flush a response already finished.
		defer deltas.close()
		a, err := p.Run(ctx, deltas.write)
		deltas.close()
		if err != nil {
			if ctx.Err() != nil {
				return // the client is gone; nobody reads an error event
			}
			_ = send("error", errorEvent{Detail: s.streamError(ctx, err)})
			return
		}
		// sources and done go out together, in one write: the answer is
		// complete, and a write to the connection costs more than either.
		if write("sources", sourcesEvent{Sources: toSources(a.Sources)}) != nil {
			return
		}
		_ = send("done", doneEvent{Response: a.Text, Moderated: a.Moderated, RemainingSeconds: int(a.Remaining / time.Second)})
	}}, nil
}

type deltaEvent struct {
	Text string `json:"text"`
}

type sourcesEvent struct {
	Sources []Source `json:"sources"`
}

type doneEvent struct {
	Response         string `json:"response"`
	Moderated        bool   `json:"moderated"`
	RemainingSeconds int    `json:"remaining_seconds"`
}

type errorEvent struct {
	Detail string `json:"detail"`
}

// streamError is the detail of an error event: a domain error's message,
// or "internal error" (logged here, once).
func (s *Server) streamError(ctx context.Context, err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Message
	}
	s.logError(ctx, "streamed turn", err)
	return "internal error"
}

func marshalEvent(event string, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	// "event: %s\ndata: %s\n\n", without fmt: one per streamed piece.
	b := make([]byte, 0, len("event: \ndata: \n\n")+len(event)+len(raw))
	b = append(append(b, "event: "...), event...)
	b = append(append(b, "\ndata: "...), raw...)
	return append(b, "\n\n"...), nil
}

// appendDeltaEvent appends the delta event of text to b: the bytes of
// marshalEvent("delta", deltaEvent{Text: text}) (TestDeltaEventBytes).
// A text of printable ASCII that JSON (with encoding/json's HTML escapes)
// writes as it is, nearly every piece of an answer, is copied between
// the event's fixed parts; any other goes through marshalEvent.
func appendDeltaEvent(b []byte, text string) ([]byte, error) {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			ev, err := marshalEvent("delta", deltaEvent{Text: text})
			return append(b, ev...), err
		}
	}
	b = append(b, "event: delta\ndata: {\"text\":\""...)
	b = append(b, text...)
	return append(b, "\"}\n\n"...), nil
}

type endOutput struct {
	Body struct {
		Message         string        `json:"message"`
		Transcript      []SummaryTurn `json:"transcript" doc:"The session's turns, without their sources"`
		DurationSeconds int           `json:"duration_seconds"`
	}
}

func (s *Server) endSession(ctx context.Context, in *SessionIDPath) (*endOutput, error) {
	b := bodyOf(ctx)
	res, err := s.sessions.End(withIP(ctx), currentUser(ctx), in.SessionID, b.r, b.contentType)
	if err != nil {
		return nil, err
	}
	out := &endOutput{}
	out.Body.Message = "Session ended successfully"
	out.Body.Transcript = toSummary(res.Transcript)
	if res.Session.Duration != nil {
		out.Body.DurationSeconds = *res.Session.Duration
	}
	return out, nil
}

// SummaryTurn is a turn in the summary that ends a session: what was
// said, without the passages behind each answer (GET /api/sessions/{id}
// has those), so ending a long session answers in a few kilobytes.
type SummaryTurn struct {
	Role       string    `json:"role" enum:"assistant,user"`
	Content    string    `json:"content"`
	At         time.Time `json:"at"`
	Moderated  bool      `json:"moderated"`
	Categories []string  `json:"categories,omitempty" doc:"What moderation found, on a moderated turn"`
	Unanswered bool      `json:"unanswered,omitempty" doc:"A student's turn whose answer failed or was cancelled; the tutor did not see it"`
}

func toSummary(in []session.Turn) []SummaryTurn {
	out := make([]SummaryTurn, 0, len(in))
	for _, t := range toTurns(in) {
		out = append(out, SummaryTurn{Role: t.Role, Content: t.Content, At: t.At, Moderated: t.Moderated, Categories: t.Categories, Unanswered: t.Unanswered})
	}
	return out
}

type listSessionsInput struct {
	Page
	CourseID  int64 `query:"course_id" minimum:"0"`
	WeekID    int64 `query:"week_id" minimum:"0"`
	UserID    int64 `query:"user_id" minimum:"0"`
	Moderated bool  `query:"moderated" doc:"Only sessions with a moderated turn"`
}

type listSessionsOutput struct {
	Body struct {
		Items []Session `json:"items"`
		Total int       `json:"total"`
	}
}

func (s *Server) listSessions(ctx context.Context, in *listSessionsInput) (*listSessionsOutput, error) {
	items, total, err := s.sessions.List(ctx, currentUser(ctx), session.Filter{CourseID: in.CourseID, WeekID: in.WeekID,
		UserID: in.UserID, Moderated: in.Moderated, Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, err
	}
	out := &listSessionsOutput{}
	out.Body.Items = make([]Session, 0, len(items))
	for _, it := range items {
		out.Body.Items = append(out.Body.Items, toSession(it))
	}
	out.Body.Total = total
	return out, nil
}

type sessionOutput struct{ Body SessionDetail }

func (s *Server) getSession(ctx context.Context, in *SessionIDPath) (*sessionOutput, error) {
	sess, err := s.sessions.Get(ctx, currentUser(ctx), in.SessionID)
	if err != nil {
		return nil, err
	}
	flags := sess.Flags
	if flags == nil {
		flags = []session.Flag{}
	}
	return &sessionOutput{Body: SessionDetail{Session: toSession(sess), Transcript: toTurns(sess.Transcript), ModerationFlags: flags}}, nil
}

// sessionAudio serves the recording, with ranges (audio players seek).
func (s *Server) sessionAudio(ctx context.Context, in *SessionIDPath) (*huma.StreamResponse, error) {
	f, sess, err := s.sessions.Audio(ctx, currentUser(ctx), in.SessionID)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer f.Close()
		r, w := humago.Unwrap(hctx)
		w.Header().Set("Content-Type", sess.AudioType)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="session-%d%s"`, sess.ID, path.Ext(sess.AudioName)))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "private, no-store")
		http.ServeContent(w, r, "", time.Time{}, f)
	}}, nil
}

// audioResponse documents a recording download.
var audioResponse = option{after: func(o *huma.Operation) {
	o.Responses["200"] = &huma.Response{Description: "The recording as stored", Content: map[string]*huma.MediaType{
		"audio/webm": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		"audio/ogg":  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		"audio/wav":  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		"audio/mpeg": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		"audio/mp4":  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
	}}
}}

type csvOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *Server) courseSessionsCSV(ctx context.Context, in *CourseIDPath) (*csvOutput, error) {
	var b bytes.Buffer
	if err := s.sessions.CourseCSV(ctx, currentUser(ctx), in.CourseID, &b); err != nil {
		return nil, err
	}
	return &csvOutput{ContentType: "text/csv; charset=utf-8",
		ContentDisposition: `attachment; filename="course-` + strconv.FormatInt(in.CourseID, 10) + `-sessions.csv"`, Body: b.Bytes()}, nil
}

// csvResponse documents the CSV download.
var csvResponse = option{after: func(o *huma.Operation) {
	o.Responses["200"] = &huma.Response{Description: "One row per session: session_id, student_username, student_name, student_email, week_number, week_title, status, started_at, ended_at, duration_seconds, student_turns, moderated_count, has_audio",
		Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}}}
}}
