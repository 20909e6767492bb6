package main

import (
	"context"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/voice/elevenfake"
)

// TestVoiceSetupAgentCreatesThenUpdates: setup-agent makes an agent whose
// custom LLM is our endpoint, limited to the session's clock, with the
// overrides, extra body, auth and webhook the voice layer relies on; run
// again with the agent's id, it updates that agent.
func TestVoiceSetupAgentCreatesThenUpdates(t *testing.T) {
	fake := elevenfake.New(t)
	fake.AddWebhook("wh_123", "socratic", "https://tutor.example.edu/api/voice/webhook")
	env := []string{"DATA_DIR=" + t.TempDir(), "ELEVENLABS_API_KEY=" + elevenfake.Key, "ELEVENLABS_BASE_URL=" + fake.URL,
		"PUBLIC_URL=https://tutor.example.edu/", "SESSION_MAX_DURATION_SECONDS=240", "ELEVENLABS_LLM_SECRET=llm-bearer-secret-value"}
	var out, errOut syncBuffer
	if err := run(context.Background(), []string{"voice", "setup-agent", "--name", "LAW 101 tutor"}, env, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("setup-agent: %v\n%s", err, errOut.String())
	}
	creates := fake.Requests(elevenfake.RouteAgentCreate)
	if len(creates) != 1 {
		t.Fatalf("%d creates", len(creates))
	}
	var id string
	for _, f := range strings.Fields(out.String()) {
		if strings.HasPrefix(f, "agent_") {
			id = f
			break
		}
	}
	a := fake.Agent(id)
	if a == nil {
		t.Fatalf("no agent %q made; output:\n%s", id, out.String())
	}
	get := func(m map[string]any, path ...string) any {
		var v any = m
		for _, p := range path {
			mm, _ := v.(map[string]any)
			v = mm[p]
		}
		return v
	}
	checks := []struct {
		path []string
		want any
	}{
		{[]string{"name"}, "LAW 101 tutor"},
		{[]string{"conversation_config", "agent", "prompt", "llm"}, "custom-llm"},
		{[]string{"conversation_config", "agent", "prompt", "custom_llm", "url"}, "https://tutor.example.edu/api/voice/llm"},
		{[]string{"conversation_config", "conversation", "max_duration_seconds"}, 240.0},
		{[]string{"conversation_config", "agent", "language"}, "en"},
		{[]string{"conversation_config", "agent", "prompt", "built_in_tools", "end_call", "params", "system_tool_type"}, "end_call"},
		{[]string{"platform_settings", "auth", "enable_auth"}, true},
		{[]string{"platform_settings", "overrides", "custom_llm_extra_body"}, true},
		{[]string{"platform_settings", "overrides", "conversation_config_override", "agent", "first_message"}, true},
		{[]string{"platform_settings", "overrides", "conversation_config_override", "agent", "language"}, true},
		{[]string{"platform_settings", "workspace_overrides", "webhooks", "post_call_webhook_id"}, "wh_123"},
		{[]string{"platform_settings", "workspace_overrides", "webhooks", "send_audio"}, true},
	}
	for _, c := range checks {
		if got := get(a, c.path...); got != c.want {
			t.Errorf("%s = %v, want %v", strings.Join(c.path, "."), got, c.want)
		}
	}
	secretID, _ := get(a, "conversation_config", "agent", "prompt", "custom_llm", "api_key", "secret_id").(string)
	if secretID == "" || fake.Count(elevenfake.RouteSecretCreate) != 1 || !strings.Contains(string(fake.Requests(elevenfake.RouteSecretCreate)[0].Body), "llm-bearer-secret-value") {
		t.Errorf("the LLM secret is not the agent's key: %q", secretID)
	}
	for _, want := range []string{"created agent " + id, "https://tutor.example.edu/api/voice/llm", "240", "wh_123", "ELEVENLABS_AGENT_ID=" + id} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String()+errOut.String(), "llm-bearer-secret-value") || strings.Contains(out.String(), elevenfake.Key) {
		t.Errorf("output shows a secret:\n%s", out.String())
	}

	// Again, for that agent, without a matching webhook: an update, and a
	// note of what to do about the webhook.
	fake2 := elevenfake.New(t)
	fake2.PutAgent("agent_existing", map[string]any{"name": "old", "conversation_config": map[string]any{}})
	env2 := []string{"DATA_DIR=" + t.TempDir(), "ELEVENLABS_API_KEY=" + elevenfake.Key, "ELEVENLABS_BASE_URL=" + fake2.URL,
		"PUBLIC_URL=https://tutor.example.edu", "ELEVENLABS_AGENT_ID=agent_existing"}
	var out2 syncBuffer
	if err := run(context.Background(), []string{"voice", "setup-agent"}, env2, strings.NewReader(""), &out2, &syncBuffer{}); err != nil {
		t.Fatal(err)
	}
	if fake2.Count(elevenfake.RouteAgentCreate) != 0 || fake2.Count(elevenfake.RouteAgentUpdate) != 1 || fake2.Count(elevenfake.RouteSecretCreate) != 0 {
		t.Errorf("requests %v", fake2.Requests(""))
	}
	if got := get(fake2.Agent("agent_existing"), "conversation_config", "conversation", "max_duration_seconds"); got != 300.0 {
		t.Errorf("max duration %v", got)
	}
	if !strings.Contains(out2.String(), "updated agent agent_existing") || !strings.Contains(out2.String(), "Create one in ElevenLabs") {
		t.Errorf("output:\n%s", out2.String())
	}
}

func TestVoiceSetupAgentRefusesWhatCannotWork(t *testing.T) {
	fake := elevenfake.New(t)
	base := []string{"DATA_DIR=" + t.TempDir(), "ELEVENLABS_BASE_URL=" + fake.URL}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no key, no public URL", base, nil, "needs ELEVENLABS_API_KEY"},
		{"no public URL", append(base, "ELEVENLABS_API_KEY="+elevenfake.Key), nil, "PUBLIC_URL"},
		{"unknown agent", append(base, "ELEVENLABS_API_KEY="+elevenfake.Key, "PUBLIC_URL=https://t.example.edu"), []string{"--agent-id", "agent_nope"}, "update agent agent_nope: ElevenLabs agent update: answered 404 Not Found (agent_not_found)"},
		{"wrong key", append(base, "ELEVENLABS_API_KEY=wrong-key-must-not-show", "PUBLIC_URL=https://t.example.edu"), nil, "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"voice", "setup-agent"}, tc.args...), tc.env, strings.NewReader(""), &syncBuffer{}, &syncBuffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "wrong-key-must-not-show") {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
	var errOut syncBuffer
	err := run(context.Background(), []string{"voice", "setup-agent", "extra"}, base, strings.NewReader(""), &syncBuffer{}, &errOut)
	if err == nil || !strings.Contains(errOut.String(), "usage: socratic voice setup-agent") {
		t.Errorf("a stray argument: %v %s", err, errOut.String())
	}
}
