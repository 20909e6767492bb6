package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBinaryRefusesIncompleteSettings: the built binary, in development
// mode, stops at start with what to set when a provider is named but
// incomplete or a value is malformed — it never falls back to the offline
// tutor and serves.
func TestBinaryRefusesIncompleteSettings(t *testing.T) {
	bin := buildBinary(t)
	internals := regexp.MustCompile(`strconv|invalid syntax|of type|field "`)
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"openai-llm-without-server", []string{"LLM_PROVIDER=openai"}, []string{"LLM_PROVIDER=openai needs OPENAI_BASE_URL", "OPENAI_MODEL"}},
		{"anthropic-without-key", []string{"LLM_PROVIDER=anthropic"}, []string{"ANTHROPIC_API_KEY"}},
		{"unknown-llm", []string{"LLM_PROVIDER=chatgpt"}, []string{`LLM_PROVIDER must be anthropic, openai or offline, not "chatgpt"`}},
		{"elevenlabs-without-key", []string{"VOICE_PROVIDER=elevenlabs"}, []string{"ELEVENLABS_API_KEY"}},
		{"openai-embeddings-without-server", []string{"EMBEDDINGS_PROVIDER=openai"}, []string{"EMBEDDINGS_BASE_URL"}},
		{"port-not-a-number", []string{"PORT=abc"}, []string{`PORT must be a number, got "abc"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "serve")
			cmd.Dir = dir
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "ENV=development", "HOST=127.0.0.1", "PORT=" + strconv.Itoa(freePort(t))}, tc.env...)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running after 30s: it started instead of refusing\n%s", errOut.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want 1\n%s", err, errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
			if internals.MatchString(errOut.String()) {
				t.Errorf("Go internals on stderr:\n%s", errOut.String())
			}
			if _, err := os.Stat(dir + "/data"); err == nil {
				t.Error("DATA_DIR was created: the server got past its configuration")
			}
		})
	}
}
