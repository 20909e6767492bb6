package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/voice"
)

// The custom LLM of an ElevenLabs agent: the platform sends the
// conversation in OpenAI's chat-completions format, with the session token
// from start in elevenlabs_extra_body, and speaks what we stream back. The
// student's last utterance is a turn like any other (/message): stored
// before the model is called, moderated, on the session's clock, once.

const (
	// voiceLLMBodyLimit bounds a chat request: the platform sends the
	// whole conversation (system prompt and every turn) each time.
	voiceLLMBodyLimit = 512 << 10
	// wrapUpWindow is how long past a session's clock its token is still
	// taken, to say goodbye (no model is called, nothing is stored): the
	// platform's own clock started a little after ours.
	wrapUpWindow = 2 * time.Minute
	// fillerAfter is how long the model may keep silent before a filler
	// ("Let me think about that... ") is streamed, which the platform
	// starts speaking while the answer comes. The stored answer is the
	// tutor's alone.
	fillerAfter = time.Second
	// busyWait is how long a new utterance waits for the turn before it
	// (the student interrupted: the platform hung up on that request, and
	// its turn is being given up) before it is refused as busy.
	busyWait = 2 * time.Second
)

// FillerText is streamed when the tutor is slow to begin; it ends in an
// ellipsis and a space, which the platform reads as "more is coming".
const FillerText = "Let me think about that... "

// WrapUpText is the tutor's last word when the session's clock has run out.
const WrapUpText = "We're out of time for today, so let's stop here: good work, and bring one question from this week's readings next time."

// ChatMessage is one message of an OpenAI chat request.
type ChatMessage struct {
	Role    string   `json:"role" maxLength:"32" doc:"system, user, assistant or tool"`
	Content any      `json:"content,omitempty" doc:"A string, or an array of parts of which the text parts are read"`
	_       struct{} `json:"-" additionalProperties:"true"`
}

// ChatTool is a tool the platform offers the model.
type ChatTool struct {
	Type     string        `json:"type,omitempty" maxLength:"32"`
	Function *ChatFunction `json:"function,omitempty"`
	_        struct{}      `json:"-" additionalProperties:"true"`
}

// ChatFunction names a tool.
type ChatFunction struct {
	Name string   `json:"name" maxLength:"128"`
	_    struct{} `json:"-" additionalProperties:"true"`
}

// ChatExtraBody is what the client put in custom_llm_extra_body at the
// start of the conversation, relayed by the platform.
type ChatExtraBody struct {
	SessionToken string   `json:"session_token,omitempty" maxLength:"256" doc:"The session_token from POST /api/sessions/start"`
	_            struct{} `json:"-" additionalProperties:"true"`
}

type chatInput struct {
	Authorization string `header:"Authorization" doc:"Bearer $ELEVENLABS_LLM_SECRET, required when that is set"`
	Body          struct {
		Model               string         `json:"model,omitempty" maxLength:"200"`
		Messages            []ChatMessage  `json:"messages" maxItems:"2000"`
		Stream              bool           `json:"stream,omitempty" doc:"true: chat.completion.chunk events ending in [DONE]; false: one chat.completion"`
		Tools               []ChatTool     `json:"tools,omitempty" maxItems:"128"`
		ElevenLabsExtraBody *ChatExtraBody `json:"elevenlabs_extra_body,omitempty"`
		_                   struct{}       `json:"-" additionalProperties:"true"`
	}
}

// ChatChunk is one streamed piece of the answer (chat.completion.chunk).
type ChatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object" enum:"chat.completion.chunk"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
}

// ChunkChoice is the one choice of a chunk.
type ChunkChoice struct {
	Index        int        `json:"index"`
	Delta        ChunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason" nullable:"true" doc:"null until the last chunk: stop, or tool_calls"`
}

// ChunkDelta is what a chunk adds to the answer.
type ChunkDelta struct {
	Role      string      `json:"role,omitempty" enum:"assistant"`
	Content   *string     `json:"content,omitempty"`
	ToolCalls []ToolCallD `json:"tool_calls,omitempty"`
}

// ToolCallD is a call of a tool the request offered (end_call).
type ToolCallD struct {
	Index    int          `json:"index"`
	ID       string       `json:"id"`
	Type     string       `json:"type" enum:"function"`
	Function ToolCallFunc `json:"function"`
}

// ToolCallFunc is the called function and its JSON arguments.
type ToolCallFunc struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatCompletion is the whole answer to a request with stream false.
type ChatCompletion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object" enum:"chat.completion"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	Usage   CompletionUsage    `json:"usage"`
}

// CompletionChoice is the one choice of a completion.
type CompletionChoice struct {
	Index        int               `json:"index"`
	Message      CompletionMessage `json:"message"`
	FinishReason string            `json:"finish_reason" enum:"stop,tool_calls"`
}

// CompletionMessage is the tutor's answer.
type CompletionMessage struct {
	Role      string      `json:"role" enum:"assistant"`
	Content   string      `json:"content"`
	ToolCalls []ToolCallD `json:"tool_calls,omitempty"`
}

// CompletionUsage is left at zero: the tutor's model use is counted
// against the student, not reported to the platform.
type CompletionUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ErrVoicePlatform refuses a caller without the platform's secret.
var ErrVoicePlatform = errs.New(errs.Unauthorized, "the voice platform's secret is missing or wrong")

// errNoSessionToken refuses a request without a session token.
var errNoSessionToken = errs.New(errs.Unauthorized, "the request carries no session token (elevenlabs_extra_body.session_token): enable the custom LLM extra body on the agent, and pass custom_llm_extra_body.session_token from start")

// errNoUserMessage refuses a conversation with nothing the student said.
var errNoUserMessage = errs.InvalidFields(errs.FieldError{Field: "messages", Message: "has no user message to answer"})

// voiceChat answers the platform's chat completion for the session its
// token names.
func (s *Server) voiceChat(ctx context.Context, in *chatInput) (*huma.StreamResponse, error) {
	if secret := s.cfg.ElevenLabsLLMSecret; secret != "" {
		got, _ := strings.CutPrefix(in.Authorization, "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			return nil, ErrVoicePlatform
		}
	}
	b := &in.Body
	token := ""
	if b.ElevenLabsExtraBody != nil {
		token = strings.TrimSpace(b.ElevenLabsExtraBody.SessionToken)
	}
	if token == "" {
		return nil, errNoSessionToken
	}
	now := s.sessions.Now()
	// Taken a little past its expiry, for the goodbye only (below).
	id, expires, err := voice.VerifySessionToken(s.voiceKey, token, now.Add(-wrapUpWindow))
	if err != nil {
		return nil, session.ErrVoiceToken
	}
	reply := chatReply{model: b.Model, stream: b.Stream, endCall: offersEndCall(b.Tools), created: now.Unix(),
		id: "chatcmpl-" + strconv.FormatInt(id, 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	if reply.model == "" {
		reply.model = "socratic-tutor"
	}
	u, sess, err := s.sessions.VoiceSession(ctx, id, expires)
	if errors.Is(err, session.ErrTimeUp) {
		return reply.wrapUp(), nil
	}
	if err != nil {
		return nil, err
	}
	text, position := lastUserMessage(b.Messages)
	if position == 0 {
		return nil, errNoUserMessage
	}
	// The conversation's position names the turn: the platform's retry
	// of this request is the same turn, answered once.
	clientMsgID := "el-" + strconv.FormatInt(sess.ID, 10) + "-" + strconv.Itoa(position)
	p, err := s.beginVoiceTurn(ctx, u, sess.ID, text, clientMsgID)
	switch {
	case errors.Is(err, session.ErrTimeUp):
		return reply.wrapUp(), nil
	case errors.Is(err, session.ErrEnded):
		return nil, session.ErrVoiceToken
	case err != nil:
		return nil, err
	}
	if !b.Stream {
		a, err := p.Run(ctx, nil)
		if err != nil {
			return nil, err
		}
		return reply.whole(a.Text, s.closedByTurn(ctx, sess.ID)), nil
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, w := humago.Unwrap(hctx)
		cw := reply.open(w)
		// A failed write means the platform is gone: Run notices it by
		// ctx and gives the turn up.
		_ = cw.role()
		filler := time.AfterFunc(fillerAfter, func() { cw.filler() })
		defer filler.Stop()
		// A filler already running when the handler returns must not
		// write into a response that is no longer ours.
		defer cw.close()
		_, err := p.Run(ctx, func(delta string) error {
			filler.Stop()
			return cw.content(delta)
		})
		filler.Stop()
		if err != nil {
			if ctx.Err() == nil {
				cw.fail(s.streamError(ctx, err))
			}
			return
		}
		if reply.endCall && s.closedByTurn(ctx, sess.ID) {
			_ = cw.endCall()
			return
		}
		_ = cw.finish("stop")
	}}, nil
}

// beginVoiceTurn is Begin, waiting a moment for a turn still in flight:
// the student interrupted the tutor, the platform hung up on the request
// that was answering, and that turn is being given up.
func (s *Server) beginVoiceTurn(ctx context.Context, u auth.User, sessionID int64, text, clientMsgID string) (*session.Pending, error) {
	deadline := time.Now().Add(busyWait)
	for {
		p, err := s.sessions.Begin(ctx, u, sessionID, text, clientMsgID)
		if !errors.Is(err, session.ErrBusy) || time.Now().After(deadline) {
			return p, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// closedByTurn says whether the session ended with the turn just
// answered (its last strike of moderation), so the call should end too.
func (s *Server) closedByTurn(ctx context.Context, sessionID int64) bool {
	active, err := s.sessions.IsActive(context.WithoutCancel(ctx), sessionID)
	return err == nil && !active
}

// offersEndCall says whether the platform offered the end_call system tool.
func offersEndCall(tools []ChatTool) bool {
	for _, t := range tools {
		if t.Function != nil && t.Function.Name == "end_call" && (t.Type == "" || t.Type == "function") {
			return true
		}
	}
	return false
}

// lastUserMessage is the text of the conversation's last user message and
// its position among the user messages (1 for the first; 0: none).
func lastUserMessage(msgs []ChatMessage) (string, int) {
	n, last := 0, -1
	for i, m := range msgs {
		if m.Role == "user" {
			n, last = n+1, i
		}
	}
	if last < 0 {
		return "", 0
	}
	return chatMessageText(msgs[last].Content), n
}

// chatMessageText is a message's text: a string, or the text parts of an
// array of parts, joined.
func chatMessageText(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, p := range v {
			if m, ok := p.(map[string]any); ok {
				if t, ok := m["text"].(string); ok && (m["type"] == nil || m["type"] == "text") {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// chatReply is one answer being made: streamed or whole.
type chatReply struct {
	id, model string
	created   int64
	stream    bool
	endCall   bool // the request offered end_call
}

var endCallArgs = func() string {
	b, _ := json.Marshal(map[string]string{"reason": "The session's time is up."})
	return string(b)
}()

func (r chatReply) toolCall() ToolCallD {
	return ToolCallD{ID: "call_" + r.id, Type: "function", Function: ToolCallFunc{Name: "end_call", Arguments: endCallArgs}}
}

// whole is a non-streamed completion of text, calling end_call when the
// session is over and the request offered it.
func (r chatReply) whole(text string, over bool) *huma.StreamResponse {
	msg := CompletionMessage{Role: "assistant", Content: text}
	finish := "stop"
	if over && r.endCall {
		msg.ToolCalls, finish = []ToolCallD{r.toolCall()}, "tool_calls"
	}
	c := ChatCompletion{ID: r.id, Object: "chat.completion", Created: r.created, Model: r.model,
		Choices: []CompletionChoice{{Message: msg, FinishReason: finish}}}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, w := humago.Unwrap(hctx)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(c)
	}}
}

// wrapUp is the answer past the clock: one sentence, and end_call when
// offered. Nothing is stored and no model is called.
func (r chatReply) wrapUp() *huma.StreamResponse {
	if !r.stream {
		return r.whole(WrapUpText, true)
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		_, w := humago.Unwrap(hctx)
		cw := r.open(w)
		if cw.role() != nil || cw.content(WrapUpText) != nil {
			return
		}
		if r.endCall {
			_ = cw.endCall()
			return
		}
		_ = cw.finish("stop")
	}}
}

// chunkWriter streams chat.completion.chunk events; the filler's timer
// and the answer write through it in turn.
type chunkWriter struct {
	r      chatReply
	w      http.ResponseWriter
	rc     *http.ResponseController
	mu     sync.Mutex
	spoke  bool // a content delta was sent
	closed bool // the handler is done with the stream: nothing more is written
	buf    []byte
}

func (r chatReply) open(w http.ResponseWriter) *chunkWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &chunkWriter{r: r, w: w, rc: http.NewResponseController(w)}
}

// send writes one event: a chunk, or raw data ([DONE], an error).
func (c *chunkWriter) send(delta ChunkDelta, finish string, raw []byte) error {
	c.buf = append(c.buf[:0], "data: "...)
	if raw != nil {
		c.buf = append(c.buf, raw...)
	} else {
		ch := ChatChunk{ID: c.r.id, Object: "chat.completion.chunk", Created: c.r.created, Model: c.r.model,
			Choices: []ChunkChoice{{Delta: delta}}}
		if finish != "" {
			ch.Choices[0].FinishReason = &finish
		}
		b, err := json.Marshal(ch)
		if err != nil {
			return err
		}
		c.buf = append(c.buf, b...)
	}
	c.buf = append(c.buf, "\n\n"...)
	if _, err := c.w.Write(c.buf); err != nil {
		return err
	}
	return c.rc.Flush()
}

func (c *chunkWriter) role() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(ChunkDelta{Role: "assistant"}, "", nil)
}

func (c *chunkWriter) content(text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spoke = true
	return c.send(ChunkDelta{Content: &text}, "", nil)
}

// filler speaks while the tutor has said nothing yet.
func (c *chunkWriter) filler() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spoke || c.closed {
		return
	}
	c.spoke = true
	text := FillerText
	_ = c.send(ChunkDelta{Content: &text}, "", nil)
}

// close marks the stream done: a late filler writes nothing.
func (c *chunkWriter) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// finish ends the answer: its finish reason, then [DONE].
func (c *chunkWriter) finish(reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.send(ChunkDelta{}, reason, nil); err != nil {
		return err
	}
	return c.send(ChunkDelta{}, "", []byte("[DONE]"))
}

// endCall calls the platform's end_call tool, then finishes.
func (c *chunkWriter) endCall() error {
	c.mu.Lock()
	call := c.r.toolCall()
	err := c.send(ChunkDelta{ToolCalls: []ToolCallD{call}}, "", nil)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.finish("tool_calls")
}

// fail ends the stream with an error event in OpenAI's shape (OpenAI's
// SDKs raise it); no [DONE] follows.
func (c *chunkWriter) fail(detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spoke = true // no filler after the error
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"message": detail, "type": "server_error"}})
	_ = c.send(ChunkDelta{}, "", b)
}

// chatResponses documents the answer: a stream of chunks, or one
// completion.
func (s *Server) chatResponses() option {
	return option{after: func(o *huma.Operation) {
		event := &huma.Schema{Type: huma.TypeObject, Required: []string{"data"}, Properties: map[string]*huma.Schema{
			"event": {Type: huma.TypeString, Description: "Empty: the stream's events are unnamed"},
			"data": {OneOf: []*huma.Schema{
				s.schemaOf(ChatChunk{}, "ChatChunk"),
				{Type: huma.TypeString, Enum: []any{"[DONE]"}, Description: "The end of the stream"},
				{Type: huma.TypeObject, Description: "A failure after the stream began", Required: []string{"error"},
					Properties: map[string]*huma.Schema{"error": {Type: huma.TypeObject}}},
			}},
		}}
		o.Responses["200"] = &huma.Response{Description: "With `stream: true`, server-sent `chat.completion.chunk` events (the role, content deltas, the finish reason) then `[DONE]`; otherwise one `chat.completion`.",
			Content: map[string]*huma.MediaType{
				"text/event-stream": {Schema: &huma.Schema{Type: huma.TypeArray, Items: event}},
				"application/json":  {Schema: s.schemaOf(ChatCompletion{}, "ChatCompletion")},
			}}
	}}
}
