package config_test

import (
	"regexp"
	"strings"
	"testing"
)

// goInternals are words an operator editing .env should never read: Go
// field and type names and strconv's text.
var goInternals = regexp.MustCompile(`strconv|Parse(Int|Float|Bool)|invalid syntax|field "|of type|int64|float64|"bool"|env:`)

func TestMalformedValuesAreExplainedInWords(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"PORT=abc", `PORT must be a number, got "abc"`},
		{"PORT=80.5", `PORT must be a whole number, got "80.5"`},
		{"MAX_UPLOAD_SIZE=50MB", `MAX_UPLOAD_SIZE must be a number, got "50MB"`},
		{"MAX_UPLOAD_SIZE=99999999999999999999999", `MAX_UPLOAD_SIZE must be a number small enough to store, got "99999999999999999999999"`},
		{"TEMPERATURE=warm", `TEMPERATURE must be a number, got "warm"`},
		{"DEBUG=maybe", `DEBUG must be true or false, got "maybe"`},
		{"ALLOW_REGISTRATION=yes please", `ALLOW_REGISTRATION must be true or false, got "yes please"`},
		{"SESSION_MAX_DURATION_SECONDS=5m", `SESSION_MAX_DURATION_SECONDS must be a number, got "5m"`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			msg := refused(t, tc.env)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("got %q, want it to say %q", msg, tc.want)
			}
			if goInternals.MatchString(msg) {
				t.Errorf("Go internals in %q", msg)
			}
		})
	}
	// Every malformed value is named at once.
	msg := refused(t, "PORT=abc", "DEBUG=maybe", "CHUNK_SIZE=big")
	for _, want := range []string{"PORT", "DEBUG", "CHUNK_SIZE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %s", msg, want)
		}
	}
}

// A provider that is named must be complete, in every mode: an incomplete
// one is refused with what to set, never replaced by the offline tutor or
// the browser's voice.
func TestNamedProvidersMustBeComplete(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"anthropic without a key", []string{"LLM_PROVIDER=anthropic"}, []string{"ANTHROPIC_API_KEY"}},
		{"openai without a server", []string{"LLM_PROVIDER=openai"}, []string{"OPENAI_BASE_URL", "OPENAI_MODEL"}},
		{"openai without a model", []string{"LLM_PROVIDER=openai", "OPENAI_BASE_URL=http://localhost:11434"}, []string{"OPENAI_MODEL"}},
		{"unknown llm", []string{"LLM_PROVIDER=gpt"}, []string{`LLM_PROVIDER must be anthropic, openai or offline, not "gpt"`}},
		{"unknown llm in production", []string{"ENV=production", "SECRET_KEY=" + strings.Repeat("k", 40), "LLM_PROVIDER=claude"}, []string{"LLM_PROVIDER"}},
		{"elevenlabs without a key", []string{"VOICE_PROVIDER=elevenlabs"}, []string{"ELEVENLABS_API_KEY"}},
		{"unknown voice", []string{"VOICE_PROVIDER=siri"}, []string{`VOICE_PROVIDER must be elevenlabs or browser, not "siri"`}},
		{"openai embeddings without a server", []string{"EMBEDDINGS_PROVIDER=openai"}, []string{"EMBEDDINGS_BASE_URL"}},
		{"unknown embeddings", []string{"EMBEDDINGS_PROVIDER=chroma"}, []string{"EMBEDDINGS_PROVIDER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := refused(t, tc.env...)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not say %s", msg, w)
				}
			}
		})
	}
	for _, tc := range []struct {
		name      string
		env       []string
		llm, voic string
	}{
		{"nothing set", nil, "offline", "browser"},
		{"explicit offline and browser", []string{"LLM_PROVIDER=offline", "VOICE_PROVIDER=browser"}, "offline", "browser"},
		{"a key picks its provider", []string{"ANTHROPIC_API_KEY=k", "ELEVENLABS_API_KEY=k"}, "anthropic", "elevenlabs"},
		{"openai complete", []string{"LLM_PROVIDER=OpenAI", "OPENAI_BASE_URL=http://localhost:11434", "OPENAI_MODEL=llama3.1"}, "openai", "browser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := load(t, tc.env...)
			if c.LLMProviderName() != tc.llm || c.VoiceProviderName() != tc.voic {
				t.Errorf("llm %q voice %q, want %q %q", c.LLMProviderName(), c.VoiceProviderName(), tc.llm, tc.voic)
			}
		})
	}
}
