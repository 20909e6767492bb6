package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Development mode used to sign tokens with whatever key it was given, so a
// token forged offline with a published default read admin routes. Now the
// server refuses to start, naming SECRET_KEY and never printing the key.
func TestServeRefusesAPublishedKeyInDevelopment(t *testing.T) {
	for _, key := range []string{"your-secret-key-change-in-production", "dev-key-too-short"} {
		t.Run(key, func(t *testing.T) {
			env := []string{"DATA_DIR=" + t.TempDir(), "ENV=development", "SECRET_KEY=" + key, "PORT=0"}
			stdout, stderr := &syncBuffer{}, &syncBuffer{}
			// A server that starts anyway is stopped, so the test fails
			// rather than hangs.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve"}, env, nil, stdout, stderr)
			if err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
				t.Fatalf("err = %v, want a SECRET_KEY refusal", err)
			}
			for where, text := range map[string]string{"error": err.Error(), "stdout": stdout.String(), "stderr": stderr.String()} {
				if strings.Contains(text, key) {
					t.Errorf("the key is printed in %s: %s", where, text)
				}
			}
		})
	}
}
