package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/voice"
)

// Paths of ours that the voice platform calls.
const (
	voiceLLMPath     = "/api/voice/llm" // the platform appends /v1/chat/completions
	voiceWebhookPath = "/api/voice/webhook"
)

// voiceCmd is `socratic voice setup-agent`.
func voiceCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "setup-agent" {
		return errors.New("usage: socratic voice setup-agent [--agent-id ID] [--name N] [--language L] [--webhook-id ID]")
	}
	cfg, err := loadConfigAnyEngine(environ)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("voice setup-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agentID := fs.String("agent-id", cfg.ElevenLabsAgentID, "the agent to update (default ELEVENLABS_AGENT_ID; none: create one)")
	name := fs.String("name", cfg.AppName, "the agent's name")
	lang := fs.String("language", "en", "the conversation's language (ISO 639-1)")
	webhookID := fs.String("webhook-id", "", "the workspace webhook for post-call data (default: the one whose URL is PUBLIC_URL/api/voice/webhook)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, commandUsage("voice setup-agent"))
		return &usageError{"voice setup-agent takes no arguments"}
	}
	var missing []string
	if strings.TrimSpace(cfg.ElevenLabsAPIKey) == "" {
		missing = append(missing, "ELEVENLABS_API_KEY (from elevenlabs.io, Developers → API keys)")
	}
	if cfg.PublicURL == "" {
		missing = append(missing, "PUBLIC_URL (the server's address as ElevenLabs reaches it, e.g. https://tutor.law.example.edu)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("voice setup-agent needs %s", strings.Join(missing, " and "))
	}
	c := voice.NewClient(voice.ClientOptions{BaseURL: cfg.ElevenLabsBaseURL, APIKey: cfg.ElevenLabsAPIKey, Timeout: max(cfg.ElevenLabsTimeout, 30*time.Second)})
	return setupAgent(ctx, c, cfg, agentSetup{agentID: *agentID, name: *name, language: *lang, webhookID: *webhookID}, stdout)
}

func commandUsage(name string) string {
	for _, c := range commands {
		if c.name == name {
			return c.usage
		}
	}
	return usage
}

type agentSetup struct {
	agentID, name, language, webhookID string
}

// setupAgent creates or updates the agent so that it speaks our tutor:
// custom LLM at PUBLIC_URL/api/voice/llm (with ELEVENLABS_LLM_SECRET as a
// workspace secret when set), the session's clock as its limit, the
// overrides and extra body the web client sends, signed-URL auth, and the
// post-call webhook with audio.
func setupAgent(ctx context.Context, c *voice.Client, cfg config.Config, a agentSetup, out io.Writer) error {
	base := strings.TrimRight(cfg.PublicURL, "/")
	llmURL, hookURL := base+voiceLLMPath, base+voiceWebhookPath
	customLLM := map[string]any{"url": llmURL, "model_id": "socratic-tutor"}
	secretNote := "none (ELEVENLABS_LLM_SECRET is not set: the endpoint takes the session token alone)"
	if cfg.ElevenLabsLLMSecret != "" {
		id, err := c.CreateSecret(ctx, "socratic-llm-secret-"+time.Now().UTC().Format("20060102-150405"), cfg.ElevenLabsLLMSecret)
		if err != nil {
			return fmt.Errorf("store ELEVENLABS_LLM_SECRET in the workspace: %w", err)
		}
		customLLM["api_key"] = map[string]any{"secret_id": id}
		secretNote = "ELEVENLABS_LLM_SECRET, stored as workspace secret " + id + " (sent as Authorization: Bearer)"
	}
	hookID, hookNote := a.webhookID, ""
	if hookID == "" {
		hooks, err := c.Webhooks(ctx)
		if err != nil {
			return fmt.Errorf("list the workspace's webhooks: %w", err)
		}
		for _, h := range hooks {
			if strings.TrimRight(h.WebhookURL, "/") == hookURL && !h.Disabled {
				hookID = h.WebhookID
				break
			}
		}
	}
	maxSecs := cfg.SessionMaxDurationSeconds
	agentCfg := map[string]any{
		"name": a.name,
		"conversation_config": map[string]any{
			"agent": map[string]any{
				// The web client overrides it with the session's opening.
				"first_message": "Hello. Let's talk about this week's readings.",
				"language":      a.language,
				"dynamic_variables": map[string]any{"dynamic_variable_placeholders": map[string]any{
					"session_id": "0", "student_first_name": "there", "course_code": "", "course_name": "",
					"week_number": 0, "week_title": "", "theme": "", "max_duration_seconds": maxSecs,
				}},
				"prompt": map[string]any{
					// The custom LLM is our tutor, which keeps its own
					// rules; this prompt is what the platform shows.
					"prompt":     "You are the Socratic law tutor of {{course_name}}, week {{week_number}}: {{week_title}}. Answers come from the tutor service.",
					"llm":        "custom-llm",
					"custom_llm": customLLM,
					"built_in_tools": map[string]any{"end_call": map[string]any{
						"name": "end_call", "description": "End the conversation when the tutor says the session is over.",
						"params": map[string]any{"system_tool_type": "end_call"},
					}},
				},
			},
			"conversation": map[string]any{"max_duration_seconds": maxSecs},
			"tts":          map[string]any{"voice_id": cfg.ElevenLabsVoiceID},
		},
		"platform_settings": map[string]any{
			"auth": map[string]any{"enable_auth": true},
			"overrides": map[string]any{
				"conversation_config_override": map[string]any{
					"agent": map[string]any{"first_message": true, "language": true},
					"tts":   map[string]any{"voice_id": true},
				},
				"custom_llm_extra_body": true,
			},
		},
	}
	if hookID != "" {
		agentCfg["platform_settings"].(map[string]any)["workspace_overrides"] = map[string]any{
			"webhooks": map[string]any{"post_call_webhook_id": hookID, "send_audio": true}}
		hookNote = hookID + " (post-call transcript and audio)"
	} else {
		hookNote = "not set: no workspace webhook calls " + hookURL + ". Create one in ElevenLabs (Agents → Settings → Webhooks, HMAC, its secret in ELEVENLABS_WEBHOOK_SECRET) and run this again, or pass --webhook-id"
	}
	verb := "updated"
	id := a.agentID
	if id == "" {
		var err error
		if id, err = c.CreateAgent(ctx, agentCfg); err != nil {
			return fmt.Errorf("create the agent: %w", err)
		}
		verb = "created"
	} else if err := c.UpdateAgent(ctx, id, agentCfg); err != nil {
		return fmt.Errorf("update agent %s: %w", id, err)
	}
	fmt.Fprintf(out, "%s agent %s (%q)\n", verb, id, a.name)
	fmt.Fprintf(out, "  custom LLM:            %s (the platform calls %s/v1/chat/completions)\n", llmURL, llmURL)
	fmt.Fprintf(out, "  custom LLM key:        %s\n", secretNote)
	fmt.Fprintf(out, "  custom LLM extra body: enabled (the web client sends the session token there)\n")
	fmt.Fprintf(out, "  max_duration_seconds:  %d (SESSION_MAX_DURATION_SECONDS)\n", maxSecs)
	fmt.Fprintf(out, "  overrides enabled:     first_message, language, tts voice_id\n")
	fmt.Fprintf(out, "  dynamic variables:     session_id, student_first_name, course_code, course_name, week_number, week_title, theme, max_duration_seconds\n")
	fmt.Fprintf(out, "  language:              %s; voice: %s; end_call tool on\n", a.language, cfg.ElevenLabsVoiceID)
	fmt.Fprintf(out, "  authentication:        signed URL or conversation token required\n")
	fmt.Fprintf(out, "  webhook:               %s\n", hookNote)
	if verb == "created" {
		fmt.Fprintf(out, "Set ELEVENLABS_AGENT_ID=%s and restart the server for agent mode.\n", id)
	}
	return nil
}
