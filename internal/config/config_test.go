package config_test

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/config"
)

const goodKey = "q3J9vYt2Wm8xLpZr4Nf6Hs1Kd7Bc5Ge0Ua2Tj9Xw4Vn8Ri6" // 48 random characters

func load(t *testing.T, environ ...string) config.Config {
	t.Helper()
	c, err := config.Load(environ, "")
	if err != nil {
		t.Fatalf("Load(%q): %v", environ, err)
	}
	return c
}

// refused loads environ and returns the error text, failing if it loaded.
func refused(t *testing.T, environ ...string) string {
	t.Helper()
	_, err := config.Load(environ, "")
	if err == nil {
		t.Fatalf("Load(%q) succeeded", environ)
	}
	return err.Error()
}

func TestDefaults(t *testing.T) {
	c := load(t)
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"PORT", c.Port, 8000},
		{"HOST", c.Host, "0.0.0.0"},
		{"DATA_DIR", c.DataDir, "./data"},
		{"database path", c.DatabasePath, filepath.Join("data", "socratic.db")},
		{"CHUNK_SIZE", c.ChunkSize, 1000},
		{"CHUNK_OVERLAP", c.ChunkOverlap, 200},
		{"RATE_LIMIT_CONVERSATIONS_PER_WEEK", c.RateLimitConversationsPerWeek, 3},
		{"SESSION_MAX_DURATION_SECONDS", c.SessionMaxDurationSeconds, 300},
		{"WEEK_TIMEZONE", c.WeekTimezone, "America/Chicago"},
		{"SESSION_MIN_TURN_INTERVAL_SECONDS", c.SessionMinTurnIntervalSeconds, 2},
		{"SESSION_MAX_TURNS", c.SessionMaxTurns, 40},
		{"STUDENT_DAILY_TOKEN_BUDGET", c.StudentDailyTokenBudget, int64(200000)},
		{"LLM_HISTORY_TOKEN_BUDGET", c.LLMHistoryTokenBudget, 4000},
		{"LLM_MAX_TOKENS", c.LLMMaxTokens, 1024},
		{"LLM_MAX_CONCURRENT", c.LLMMaxConcurrent, 64},
		{"LLM_TIMEOUT", c.LLMTimeout, time.Minute},
		{"QUERY_REWRITE", c.QueryRewrite, false},
		{"QUERY_REWRITE_WAIT", c.QueryRewriteWait, 800 * time.Millisecond},
		{"HTTP_READ_HEADER_TIMEOUT", c.ReadHeaderTimeout, 10 * time.Second},
		{"AUDIO_RETENTION_DAYS keeps recordings", c.AudioRetentionDays, 0},
		{"JWT_ALGORITHM", c.JWTAlgorithm, "HS256"},
		{"ENV", c.Env, "development"},
		{"BACKUP_DIR off", c.BackupDir, ""},
		{"BACKUP_INTERVAL", c.BackupInterval, 24 * time.Hour},
		{"PDF_IDLE_TIMEOUT", c.PDFIdleTimeout, time.Minute},
		{"BACKUP_KEEP", c.BackupKeep, 7},
		{"CACHE_DIR", c.CacheDir, filepath.Join("data", "cache")},
		{"production", c.Production(), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// DATABASE_URL follows SQLAlchemy: three slashes then a relative path, four
// for an absolute one.
func TestDatabaseURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"sqlite:///abs/path.db", "abs/path.db"},
		{"sqlite:///./data/app.db", "./data/app.db"},
		{"sqlite:////abs/path.db", "/abs/path.db"},
	} {
		if got := load(t, "DATABASE_URL="+tc.url).DatabasePath; got != tc.want {
			t.Errorf("%s -> %q, want %q", tc.url, got, tc.want)
		}
	}
	for _, bad := range []string{"sqlite:///", "sqlite://x.db", "/abs/path.db", "sqlite:///x.db?mode=ro", "mysql://u:p@db/socratic"} {
		if msg := refused(t, "DATABASE_URL="+bad); !strings.Contains(msg, "DATABASE_URL") {
			t.Errorf("%s: error does not name DATABASE_URL: %s", bad, msg)
		}
	}
	if c := load(t, "DATABASE_URL=sqlite:///x.db"); c.DatabaseEngine != "sqlite" {
		t.Errorf("sqlite:///x.db: engine %q, want sqlite", c.DatabaseEngine)
	}
	if c := load(t); c.DatabaseEngine != "sqlite" {
		t.Errorf("no DATABASE_URL: engine %q, want sqlite", c.DatabaseEngine)
	}
}

// DATABASE_URL=postgres://… (or postgresql://) chooses PostgreSQL; a URL
// pgx cannot read is refused naming the variable, and the password shows
// neither in the error nor in the settings' log line.
func TestDatabaseURLPostgres(t *testing.T) {
	for _, u := range []string{
		"postgres://socratic:hunter2secret@db.example.edu:5432/socratic?sslmode=require",
		"postgresql://socratic:hunter2secret@db.example.edu/socratic",
		"postgres://socratic:hunter2secret@/socratic?host=/run/postgresql",
	} {
		c := load(t, "DATABASE_URL="+u)
		if c.DatabaseEngine != "postgres" || c.DatabasePath != "" || c.DatabaseURL != u {
			t.Errorf("%s: engine %q path %q url %q, want postgres, no path, the URL", u, c.DatabaseEngine, c.DatabasePath, c.DatabaseURL)
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("settings", "config", c)
		if strings.Contains(buf.String(), "hunter2secret") {
			t.Errorf("the settings' log line shows the password: %s", buf.String())
		}
		if !strings.Contains(buf.String(), "database=postgres://socratic@") || !strings.Contains(buf.String(), "/socratic") {
			t.Errorf("the settings' log line does not name the database: %s", buf.String())
		}
	}
	for _, bad := range []string{"postgres://socratic:hunter2secret@db:notaport/socratic", "postgres://socratic:hunter2secret@db/socratic?sslmode=sometimes"} {
		msg := refused(t, "DATABASE_URL="+bad)
		if !strings.Contains(msg, "DATABASE_URL") || !strings.Contains(msg, "postgres://") {
			t.Errorf("%s: error does not name DATABASE_URL and its form: %s", bad, msg)
		}
		if strings.Contains(msg, "hunter2secret") {
			t.Errorf("%s: the error shows the password: %s", bad, msg)
		}
	}
}

func TestProductionRefusesWeakSecretKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		why  string
	}{
		{"unset", []string{"ENV=production"}, "not set"},
		{"published default", []string{"ENV=production", "SECRET_KEY=your-secret-key-change-in-production"}, "published default"},
		{"published default in other case", []string{"ENV=production", "SECRET_KEY= Your-Secret-Key-Change-In-Production "}, "published default"},
		{"20 characters", []string{"ENV=production", "SECRET_KEY=" + goodKey[:20]}, "20 characters"},
		{"31 characters", []string{"ENV=production", "SECRET_KEY=" + goodKey[:31]}, "31 characters"},
		{"ENV in capitals is still production", []string{"ENV=Production", "SECRET_KEY=" + goodKey[:20]}, "20 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := refused(t, tc.env...)
			for _, want := range []string{"SECRET_KEY", tc.why, "at least 32"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
		})
	}
}

// A key of only whitespace (SECRET_KEY="   ..." from a templated value that
// came out empty) is not set in any useful sense: anyone can sign with it.
func TestProductionRefusesABlankSecretKey(t *testing.T) {
	msg := refused(t, "ENV=production", "SECRET_KEY="+strings.Repeat(" ", 40))
	if !strings.Contains(msg, "SECRET_KEY") {
		t.Errorf("error does not name SECRET_KEY: %s", msg)
	}
}

func TestProductionLoadsWithAStrongKey(t *testing.T) {
	for _, key := range []string{goodKey, goodKey[:32]} {
		if c := load(t, "ENV=production", "SECRET_KEY="+key); !c.Production() || c.SecretKey != key {
			t.Errorf("production=%v key=%q", c.Production(), c.SecretKey)
		}
	}
	// Development without a key generates one (EnsureSecretKey) later.
	if c := load(t, "ENV=development"); c.SecretKey != "" {
		t.Errorf("development key %q before EnsureSecretKey", c.SecretKey)
	}
}

// Development signs tokens anyone on its network can present, so a key it
// is given is held to production's rules: a published default or a short
// key is refused, by name and without echoing it.
func TestDevelopmentRefusesPublishedAndShortSecretKeys(t *testing.T) {
	for _, tc := range []struct{ name, key, why string }{
		{"published default", "your-secret-key-change-in-production", "published default"},
		{"published default, other spelling", "YOUR_SECRET_KEY_CHANGE_IN_PRODUCTION", "published default"},
		{"FastAPI tutorial key", "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7", "published default"},
		{"short", "short-dev-key", "13 characters"},
		{"31 characters", goodKey[:31], "31 characters"},
		{"blank", strings.Repeat(" ", 40), "blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := refused(t, "ENV=development", "SECRET_KEY="+tc.key)
			for _, want := range []string{"SECRET_KEY", tc.why} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
			if k := strings.TrimSpace(tc.key); k != "" && strings.Contains(msg, k) {
				t.Errorf("error echoes the key: %s", msg)
			}
		})
	}
	if c := load(t, "ENV=development", "SECRET_KEY="+goodKey[:32]); c.SecretKey != goodKey[:32] {
		t.Errorf("a 32-character key in development: %q", c.SecretKey)
	}
}

func TestRegistrationAndThrottleSettings(t *testing.T) {
	c := load(t)
	if c.LoginMaxFailuresPerAddress != 100 || c.RegistrationMaxPerAddress != 100 || c.RegistrationRequiresJoinCode || len(c.EmailDomains) != 0 {
		t.Errorf("defaults: per-address %d, registrations %d, join code %v, domains %v", c.LoginMaxFailuresPerAddress, c.RegistrationMaxPerAddress, c.RegistrationRequiresJoinCode, c.EmailDomains)
	}
	c = load(t, "ALLOWED_EMAIL_DOMAINS= OU.edu, @law.ou.edu ,", "REGISTRATION_REQUIRES_JOIN_CODE=true", "REGISTRATION_MAX_PER_ADDRESS=0")
	if strings.Join(c.EmailDomains, ",") != "ou.edu,law.ou.edu" || !c.RegistrationRequiresJoinCode || c.RegistrationMaxPerAddress != 0 {
		t.Errorf("domains %v, join code %v, registrations %d", c.EmailDomains, c.RegistrationRequiresJoinCode, c.RegistrationMaxPerAddress)
	}
	for _, tc := range []struct{ env, want string }{
		{"ALLOWED_EMAIL_DOMAINS=ou.edu,not a domain", "ALLOWED_EMAIL_DOMAINS"},
		{"ALLOWED_EMAIL_DOMAINS=eve@ou.edu", "ALLOWED_EMAIL_DOMAINS"},
		{"ALLOWED_EMAIL_DOMAINS=-ou.edu", "ALLOWED_EMAIL_DOMAINS"},
		{"REGISTRATION_MAX_PER_ADDRESS=-1", "REGISTRATION_MAX_PER_ADDRESS"},
		{"LOGIN_MAX_FAILURES_PER_ADDRESS=3", "LOGIN_MAX_FAILURES_PER_ADDRESS"},
	} {
		if msg := refused(t, tc.env); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error does not name %s: %s", tc.env, tc.want, msg)
		}
	}
}

func TestInvalidSettingsAreRefusedByName(t *testing.T) {
	for _, tc := range []struct{ name, env, want string }{
		{"JWT alg none", "JWT_ALGORITHM=none", "JWT_ALGORITHM"},
		{"JWT alg RS256", "JWT_ALGORITHM=RS256", "JWT_ALGORITHM"},
		{"JWT alg lower-case", "JWT_ALGORITHM=hs256", "JWT_ALGORITHM"},
		{"overlap equals chunk size", "CHUNK_OVERLAP=1000", "CHUNK_OVERLAP"},
		{"overlap above chunk size", "CHUNK_OVERLAP=5000", "CHUNK_OVERLAP"},
		{"negative overlap", "CHUNK_OVERLAP=-1", "CHUNK_OVERLAP"},
		{"unknown time zone", "WEEK_TIMEZONE=Mars/Olympus_Mons", "WEEK_TIMEZONE"},
		{"unknown ENV", "ENV=staging", "ENV"},
		{"port out of range", "PORT=70000", "PORT"},
		{"CORS origin without scheme", "CORS_ORIGINS=example.com", "CORS_ORIGINS"},
		{"CORS broken JSON", `CORS_ORIGINS=["http://a",`, "CORS_ORIGINS"},
		{"unknown embeddings provider", "EMBEDDINGS_PROVIDER=chroma", "EMBEDDINGS_PROVIDER"},
		{"openai embeddings without a server", "EMBEDDINGS_PROVIDER=openai", "EMBEDDINGS_BASE_URL"},
		{"negative turn interval", "SESSION_MIN_TURN_INTERVAL_SECONDS=-1", "SESSION_MIN_TURN_INTERVAL_SECONDS"},
		{"no turns at all", "SESSION_MAX_TURNS=0", "SESSION_MAX_TURNS"},
		{"negative daily budget", "STUDENT_DAILY_TOKEN_BUDGET=-5", "STUDENT_DAILY_TOKEN_BUDGET"},
		{"tiny history budget", "LLM_HISTORY_TOKEN_BUDGET=10", "LLM_HISTORY_TOKEN_BUDGET"},
		{"unbounded answers", "LLM_MAX_TOKENS=0", "LLM_MAX_TOKENS"},
		{"no model calls", "LLM_MAX_CONCURRENT=0", "LLM_MAX_CONCURRENT"},
		{"model timeout too short", "LLM_TIMEOUT=10ms", "LLM_TIMEOUT must be between 1s and 10m"},
		{"query rewrite wait too long", "QUERY_REWRITE_WAIT=30s", "QUERY_REWRITE_WAIT must be between 50ms and 10s"},
		{"query rewrite offline", "QUERY_REWRITE=true", "QUERY_REWRITE needs a language model"},
		{"header timeout too long", "HTTP_READ_HEADER_TIMEOUT=1h", "HTTP_READ_HEADER_TIMEOUT must be between 1s and 5m"},
		{"negative audio retention", "AUDIO_RETENTION_DAYS=-1", "AUDIO_RETENTION_DAYS"},
		{"backup interval not a duration", "BACKUP_INTERVAL=daily", "BACKUP_INTERVAL must be a duration such as 30s, 15m or 24h"},
		{"backup interval zero", "BACKUP_INTERVAL=0s", "BACKUP_INTERVAL must be a duration of at least 1s"},
		{"pdf idle timeout zero", "PDF_IDLE_TIMEOUT=0s", "PDF_IDLE_TIMEOUT must be a duration of at least 1s"},
		{"backups kept zero", "BACKUP_KEEP=0", "BACKUP_KEEP must be between 1 and 10000"},
		{"backups inside the data", "BACKUP_DIR=./data/backups", "BACKUP_DIR (./data/backups) must be outside DATA_DIR"},
		{"backups are the data", "BACKUP_DIR=data", "must be outside DATA_DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := refused(t, tc.env); !strings.Contains(msg, tc.want) {
				t.Errorf("error does not name %s: %s", tc.want, msg)
			}
		})
	}
}

// An operator fixes every problem in one go only if all are reported at once.
func TestEveryProblemIsReportedTogether(t *testing.T) {
	msg := refused(t, "ENV=production", "JWT_ALGORITHM=none", "CHUNK_OVERLAP=5000", "WEEK_TIMEZONE=Nowhere/Town", "SESSION_MAX_DURATION_SECONDS=5")
	for _, want := range []string{"SECRET_KEY", "JWT_ALGORITHM", "CHUNK_OVERLAP", "WEEK_TIMEZONE", "SESSION_MAX_DURATION_SECONDS"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %s: %s", want, msg)
		}
	}
}

func TestDotEnvFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	body := "# comment\nPORT=9001\nCHUNK_SIZE=1500\nAPP_NAME=\"From File\"\nHOST=127.0.0.1\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load([]string{"PORT=9002", "UNRELATED=1"}, path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9002 || c.ChunkSize != 1500 || c.AppName != "From File" || c.Host != "127.0.0.1" {
		t.Fatalf("port %d chunk %d name %q host %q: want the environment's PORT and the file's others",
			c.Port, c.ChunkSize, c.AppName, c.Host)
	}

	if _, err := config.Load(nil, filepath.Join(t.TempDir(), "absent.env")); err != nil {
		t.Errorf("missing .env: %v", err)
	}
	// A .env that exists but cannot be read must not be silently skipped.
	if _, err := config.Load(nil, t.TempDir()); err == nil {
		t.Error(".env path that is a directory: no error")
	}
}

func TestOriginLists(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`["http://a","http://b"]`, []string{"http://a", "http://b"}},
		{"http://a, https://b ,", []string{"http://a", "https://b"}},
		{"*", []string{"*"}},
	} {
		if got := load(t, "CORS_ORIGINS="+tc.in).Origins; !slices.Equal(got, tc.want) {
			t.Errorf("CORS_ORIGINS=%s -> %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c := load(t, "TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.7, ::1,172.16.5.4/12")
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("172.16.0.0/12"),
	}
	if !slices.Equal(c.Proxies, want) {
		t.Fatalf("proxies %v, want %v", c.Proxies, want)
	}
	if c := load(t, `TRUSTED_PROXIES=["127.0.0.1"]`); len(c.Proxies) != 1 {
		t.Errorf("JSON list: %v", c.Proxies)
	}
	for _, bad := range []string{"proxy.internal", "10.0.0.0/33", "10.0.0.1,garbage", "300.1.1.1"} {
		if msg := refused(t, "TRUSTED_PROXIES="+bad); !strings.Contains(msg, "TRUSTED_PROXIES") {
			t.Errorf("%s: %s", bad, msg)
		}
	}
}

func TestEnsureSecretKeyPersistsAPrivateRandomKey(t *testing.T) {
	dir := t.TempDir()
	c := load(t, "DATA_DIR="+dir)
	generated, err := c.EnsureSecretKey()
	if err != nil || !generated {
		t.Fatalf("first call: generated=%v err=%v", generated, err)
	}
	if len(c.SecretKey) < config.MinSecretKeyLength {
		t.Fatalf("generated key has %d characters", len(c.SecretKey))
	}
	path := filepath.Join(dir, ".secret_key")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v, want 0600", path, st.Mode().Perm())
	}

	// A restart must keep the key, or every signed-in user is signed out.
	again := load(t, "DATA_DIR="+dir)
	generated, err = again.EnsureSecretKey()
	if err != nil || generated || again.SecretKey != c.SecretKey {
		t.Fatalf("second call: generated=%v err=%v same key=%v", generated, err, again.SecretKey == c.SecretKey)
	}

	// Another data directory gets its own key, not a fixed one.
	other := load(t, "DATA_DIR="+t.TempDir())
	if _, err := other.EnsureSecretKey(); err != nil || other.SecretKey == c.SecretKey {
		t.Fatalf("second directory: err=%v, same key=%v", err, other.SecretKey == c.SecretKey)
	}

	// A configured key is used as is, and no file is written for it.
	set := load(t, "DATA_DIR="+t.TempDir(), "SECRET_KEY="+goodKey)
	if generated, err := set.EnsureSecretKey(); err != nil || generated || set.SecretKey != goodKey {
		t.Fatalf("configured key: generated=%v err=%v", generated, err)
	}
	if _, err := os.Stat(filepath.Join(set.DataDir, ".secret_key")); !os.IsNotExist(err) {
		t.Errorf("a key file was written although SECRET_KEY was set: %v", err)
	}
}

func TestLogValueMasksEverySecret(t *testing.T) {
	secrets := map[string]string{
		"SECRET_KEY":                "SK-" + goodKey,
		"ANTHROPIC_API_KEY":         "sk-ant-api03-anthropicsecretvalue",
		"OPENAI_API_KEY":            "sk-proj-openaisecretvalue",
		"ELEVENLABS_API_KEY":        "elevenlabssecretvalue",
		"ELEVENLABS_WEBHOOK_SECRET": "wsec_webhooksecretvalue",
		"METRICS_TOKEN":             "metricstokensecretvalue",
	}
	env := []string{"ENV=production"}
	for k, v := range secrets {
		env = append(env, k+"="+v)
	}
	c := load(t, env...)

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "config", c)
	out := buf.String()
	for name, v := range secrets {
		if strings.Contains(out, v) {
			t.Errorf("log shows the value of %s:\n%s", name, out)
		}
	}
	// The log must still say which secrets are configured.
	for _, want := range []string{"config.secret_key=set", "config.anthropic_api_key=set", "config.metrics_token=set", "config.env=production"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// A malformed .env must not print the file: godotenv's own errors quote
// the rest of the file or an unterminated value, and the file holds keys.
func TestMalformedDotEnvNamesTheLineNotTheSecrets(t *testing.T) {
	const secret = "sk-ant-api03-very-secret-value-1234567890"
	for _, tc := range []struct {
		name, body string
		line       string
	}{
		{"bad name", "PORT=9001\nMY-VAR=1\nANTHROPIC_API_KEY=" + secret + "\n", "line 2 "},
		{"unterminated quote", "PORT=9001\nANTHROPIC_API_KEY=\"" + secret + "\nHOST=127.0.0.1\n", "line 2 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(nil, path)
			if err == nil {
				t.Fatal("a malformed .env loaded")
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "very-secret") {
				t.Fatalf("the error quotes the secret: %s", msg)
			}
			if !strings.Contains(msg, tc.line) || !strings.Contains(msg, "NAME=value") {
				t.Fatalf("the error does not name the line and the form: %s", msg)
			}
		})
	}
}

// TestVoiceMisconfigurationIsRefusedWithWhatToSet: an ElevenLabs voice
// that could not work stops the server at start, naming the variable.
func TestVoiceMisconfigurationIsRefusedWithWhatToSet(t *testing.T) {
	el := "VOICE_PROVIDER=elevenlabs"
	key := "ELEVENLABS_API_KEY=xi-key"
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"elevenlabs without a key", []string{el}, "needs ELEVENLABS_API_KEY"},
		{"unknown provider", []string{"VOICE_PROVIDER=twilio"}, "VOICE_PROVIDER must be elevenlabs or browser"},
		{"base URL not a URL", []string{el, key, "ELEVENLABS_BASE_URL=api.elevenlabs.io"}, "ELEVENLABS_BASE_URL"},
		{"blank voice", []string{el, key, "ELEVENLABS_VOICE_ID= "}, "ELEVENLABS_VOICE_ID"},
		{"voice with a slash", []string{el, key, "ELEVENLABS_VOICE_ID=a/b"}, "ELEVENLABS_VOICE_ID"},
		{"blank TTS model", []string{el, key, "ELEVENLABS_TTS_MODEL= "}, "ELEVENLABS_TTS_MODEL"},
		{"timeout too short", []string{el, key, "ELEVENLABS_TIMEOUT=10ms"}, "ELEVENLABS_TIMEOUT"},
		{"timeout not a duration", []string{el, key, "ELEVENLABS_TIMEOUT=ten"}, "ELEVENLABS_TIMEOUT must be a duration"},
		{"agent id with a query", []string{el, key, "ELEVENLABS_AGENT_ID=agent_1?x=y"}, "ELEVENLABS_AGENT_ID"},
		{"public URL with a query", []string{"PUBLIC_URL=https://tutor.example.edu/?a=b"}, "PUBLIC_URL"},
		{"public URL without a scheme", []string{"PUBLIC_URL=tutor.example.edu"}, "PUBLIC_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := refused(t, tc.env...); !strings.Contains(msg, tc.want) {
				t.Errorf("error does not say %q: %s", tc.want, msg)
			}
		})
	}
	c := load(t, el, key, "PUBLIC_URL=https://tutor.example.edu", "ELEVENLABS_LLM_SECRET=llm-secret-value-123")
	if c.ElevenLabsVoiceID == "" || c.ElevenLabsTTSModel == "" || c.ElevenLabsTimeout != 10*time.Second {
		t.Errorf("defaults: voice %q model %q timeout %s", c.ElevenLabsVoiceID, c.ElevenLabsTTSModel, c.ElevenLabsTimeout)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "config", c)
	if strings.Contains(buf.String(), "llm-secret-value-123") || !strings.Contains(buf.String(), "config.elevenlabs_llm_secret=set") {
		t.Errorf("log: %s", buf.String())
	}
}

// BLOB_URL=s3://bucket/prefix chooses the S3 store: the bucket and prefix
// are read from it; a malformed URL, a bucket name S3 refuses, credentials
// in the URL, missing credentials or an endpoint with a path are refused
// in words naming the variable; the secret key is masked in the settings'
// log line.
func TestBlobURL(t *testing.T) {
	creds := []string{"AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIsecretvalue"}
	c := load(t, append(creds, "BLOB_URL=s3://law-uploads/school/a/", "AWS_ENDPOINT_URL=http://127.0.0.1:9000", "AWS_DEFAULT_REGION=eu-west-1")...)
	if c.BlobBucket != "law-uploads" || c.BlobPrefix != "school/a" || c.AWSRegion != "eu-west-1" {
		t.Errorf("bucket %q prefix %q region %q", c.BlobBucket, c.BlobPrefix, c.AWSRegion)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("settings", "config", c)
	if strings.Contains(buf.String(), "wJalrXUtnFEMIsecretvalue") || !strings.Contains(buf.String(), "blob_url=s3://law-uploads/school/a/") {
		t.Errorf("settings' log line: %s", buf.String())
	}
	if c := load(t, "BLOB_URL=s3://uploads", creds[0], creds[1]); c.BlobBucket != "uploads" || c.BlobPrefix != "" {
		t.Errorf("no prefix: bucket %q prefix %q", c.BlobBucket, c.BlobPrefix)
	}
	if c := load(t); c.BlobURL != "" || c.BlobBucket != "" {
		t.Errorf("no BLOB_URL: %q %q", c.BlobURL, c.BlobBucket)
	}
	for _, tc := range []struct {
		env   []string
		words string
	}{
		{[]string{"BLOB_URL=/srv/uploads"}, "BLOB_URL must look like s3://bucket/prefix"},
		{[]string{"BLOB_URL=gs://bucket/x"}, "BLOB_URL must look like s3://bucket/prefix"},
		{[]string{"BLOB_URL=s3://Uploads_Bucket/x"}, "a bucket name is 3 to 63 lower-case letters"},
		{[]string{"BLOB_URL=s3://key:secret@uploads/x"}, "credentials go in AWS_ACCESS_KEY_ID"},
		{[]string{"BLOB_URL=s3://uploads/a/../b"}, "'..' segment"},
		{[]string{"BLOB_URL=s3://uploads/x", creds[0]}, "needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{append([]string{"BLOB_URL=s3://uploads/x", "AWS_ENDPOINT_URL=minio:9000"}, creds...), "AWS_ENDPOINT_URL must be the S3 service's address"},
		{append([]string{"BLOB_URL=s3://uploads/x", "AWS_ENDPOINT_URL=https://minio.example.edu/bucket"}, creds...), "without a path"},
	} {
		msg := refused(t, tc.env...)
		if !strings.Contains(msg, tc.words) {
			t.Errorf("%v: %s, want it to say %q", tc.env, msg, tc.words)
		}
		if strings.Contains(msg, "secret") && strings.Contains(strings.Join(tc.env, " "), "key:secret") && strings.Contains(msg, "key:secret") {
			t.Errorf("the error shows the URL's credentials: %s", msg)
		}
	}
}
