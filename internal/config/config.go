// Package config reads the server's settings from the environment and an
// optional .env file, using the original design's variable names.
package config

import (
	// WEEK_TIMEZONE must load on machines without a zoneinfo database
	// (containers, static builds).
	_ "time/tzdata"

	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/joho/godotenv"

	"github.com/lawtutor/socratic/internal/blob"
)

// Config is every setting the server reads. Field tags name the variables;
// .env.example documents each one.
type Config struct {
	AppName    string `env:"APP_NAME" envDefault:"Socratic Law Tutor"`
	AppVersion string `env:"APP_VERSION" envDefault:"0.1.0"`
	Env        string `env:"ENV" envDefault:"development"`
	Debug      bool   `env:"DEBUG" envDefault:"false"`
	LogLevel   string `env:"LOG_LEVEL" envDefault:"info"`

	Host    string `env:"HOST" envDefault:"0.0.0.0"`
	Port    int    `env:"PORT" envDefault:"8000"`
	DataDir string `env:"DATA_DIR" envDefault:"./data"`

	// ReadHeaderTimeout is how long a client may take to send a request's
	// headers before the connection is closed (slowloris).
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" envDefault:"10s"`

	SecretKey            string `env:"SECRET_KEY"`
	JWTAlgorithm         string `env:"JWT_ALGORITHM" envDefault:"HS256"`
	JWTExpirationMinutes int    `env:"JWT_EXPIRATION_MINUTES" envDefault:"60"`
	AllowRegistration    bool   `env:"ALLOW_REGISTRATION" envDefault:"true"`
	LoginMaxFailures     int    `env:"LOGIN_MAX_FAILURES" envDefault:"5"`
	TrustedProxies       string `env:"TRUSTED_PROXIES"`
	CORSOrigins          string `env:"CORS_ORIGINS" envDefault:"http://localhost:3000,http://localhost:5173"`
	MetricsToken         string `env:"METRICS_TOKEN"`

	// LoginMaxFailuresPerAddress is the loose limit on one address across
	// every account: a campus NAT holds many honest users.
	LoginMaxFailuresPerAddress int `env:"LOGIN_MAX_FAILURES_PER_ADDRESS" envDefault:"100"`
	// AllowedEmailDomains limits self-registration to addresses at these
	// domains (exact match, any case); empty allows any.
	AllowedEmailDomains          string `env:"ALLOWED_EMAIL_DOMAINS"`
	RegistrationRequiresJoinCode bool   `env:"REGISTRATION_REQUIRES_JOIN_CODE" envDefault:"false"`
	// RegistrationMaxPerAddress is how many registration attempts one
	// address may make per hour; 0 turns the limit off. The default lets a
	// class register at term start behind one campus NAT while still
	// capping bulk account making.
	RegistrationMaxPerAddress int `env:"REGISTRATION_MAX_PER_ADDRESS" envDefault:"100"`

	DatabaseURL  string `env:"DATABASE_URL"`
	VectorDBPath string `env:"VECTOR_DB_PATH"`
	UploadDir    string `env:"UPLOAD_DIR"`
	ProcessedDir string `env:"PROCESSED_DIR"`
	SessionDir   string `env:"SESSION_DIR"`

	// BlobURL chooses where uploaded files are kept: empty keeps them in
	// UPLOAD_DIR; s3://bucket/prefix in an S3-compatible bucket that several
	// instances share (UPLOAD_DIR then holds only files on their way in),
	// reached with AWS's usual variables below.
	BlobURL            string `env:"BLOB_URL"`
	AWSAccessKeyID     string `env:"AWS_ACCESS_KEY_ID"`
	AWSSecretAccessKey string `env:"AWS_SECRET_ACCESS_KEY"`
	AWSSessionToken    string `env:"AWS_SESSION_TOKEN"`
	AWSRegion          string `env:"AWS_REGION"`
	AWSDefaultRegion   string `env:"AWS_DEFAULT_REGION"`
	// AWSEndpointURL is another S3-compatible service's address (MinIO,
	// Ceph, R2…); empty is Amazon S3.
	AWSEndpointURL string `env:"AWS_ENDPOINT_URL"`
	// BlobBucket and BlobPrefix are read from BlobURL.
	BlobBucket, BlobPrefix string `env:"-"`

	// CacheDir holds what is rebuilt when lost (PDFium's compiled code);
	// a container image warms it at build time outside the data volume.
	CacheDir string `env:"CACHE_DIR"`
	// PDFIdleTimeout: PDFium starts with the first document and stops after
	// this long with nothing to read, so an idle server holds none of it.
	PDFIdleTimeout time.Duration `env:"PDF_IDLE_TIMEOUT" envDefault:"1m"`

	// Scheduled backups: BACKUP_DIR turns them on; every BACKUP_INTERVAL
	// serve writes one there and keeps the newest BACKUP_KEEP.
	BackupDir      string        `env:"BACKUP_DIR"`
	BackupInterval time.Duration `env:"BACKUP_INTERVAL" envDefault:"24h"`
	BackupKeep     int           `env:"BACKUP_KEEP" envDefault:"7"`

	MaxUploadSize int64 `env:"MAX_UPLOAD_SIZE" envDefault:"52428800"`
	MaxAudioSize  int64 `env:"MAX_AUDIO_SIZE" envDefault:"26214400"`
	// AudioRetentionDays: recordings are deleted this many days after
	// their session ends; 0 keeps them.
	AudioRetentionDays int `env:"AUDIO_RETENTION_DAYS" envDefault:"0"`
	MaxPDFPages        int `env:"MAX_PDF_PAGES" envDefault:"500"`
	ChunkSize          int `env:"CHUNK_SIZE" envDefault:"1000"`
	ChunkOverlap       int `env:"CHUNK_OVERLAP" envDefault:"200"`

	RateLimitConversationsPerWeek int    `env:"RATE_LIMIT_CONVERSATIONS_PER_WEEK" envDefault:"3"`
	SessionMaxDurationSeconds     int    `env:"SESSION_MAX_DURATION_SECONDS" envDefault:"300"`
	WeekTimezone                  string `env:"WEEK_TIMEZONE" envDefault:"America/Chicago"`
	// What one student may cost: the pace and number of turns in a
	// session, and model tokens a day (0: no daily limit).
	SessionMinTurnIntervalSeconds int   `env:"SESSION_MIN_TURN_INTERVAL_SECONDS" envDefault:"2"`
	SessionMaxTurns               int   `env:"SESSION_MAX_TURNS" envDefault:"40"`
	StudentDailyTokenBudget       int64 `env:"STUDENT_DAILY_TOKEN_BUDGET" envDefault:"200000"`

	LLMProvider      string  `env:"LLM_PROVIDER"`
	AnthropicAPIKey  string  `env:"ANTHROPIC_API_KEY"`
	AnthropicBaseURL string  `env:"ANTHROPIC_BASE_URL"`
	ClaudeModel      string  `env:"CLAUDE_MODEL" envDefault:"claude-sonnet-4-5"`
	ClaudeFastModel  string  `env:"CLAUDE_FAST_MODEL" envDefault:"claude-haiku-4-5"`
	Temperature      float64 `env:"TEMPERATURE" envDefault:"0.7"`
	OpenAIBaseURL    string  `env:"OPENAI_BASE_URL"`
	OpenAIAPIKey     string  `env:"OPENAI_API_KEY"`
	OpenAIModel      string  `env:"OPENAI_MODEL"`
	// What one model call may cost, and how many may run at once.
	LLMHistoryTokenBudget int `env:"LLM_HISTORY_TOKEN_BUDGET" envDefault:"4000"`
	LLMMaxTokens          int `env:"LLM_MAX_TOKENS" envDefault:"1024"`
	LLMMaxConcurrent      int `env:"LLM_MAX_CONCURRENT" envDefault:"64"`
	// LLMTimeout bounds one model call, retries included: a provider that
	// accepts the connection and never answers ends the turn with an
	// error after this long.
	LLMTimeout time.Duration `env:"LLM_TIMEOUT" envDefault:"60s"`
	// QueryRewrite asks the fast model, beside the moderation classifier,
	// for each turn's search query; a turn waits at most QueryRewriteWait
	// for it, then searches with the student's words alone.
	QueryRewrite     bool          `env:"QUERY_REWRITE" envDefault:"false"`
	QueryRewriteWait time.Duration `env:"QUERY_REWRITE_WAIT" envDefault:"800ms"`

	EmbeddingsProvider  string `env:"EMBEDDINGS_PROVIDER"`
	EmbeddingsModel     string `env:"EMBEDDINGS_MODEL" envDefault:"sentence-transformers/all-MiniLM-L6-v2"`
	EmbeddingsModelPath string `env:"EMBEDDINGS_MODEL_PATH"`
	EmbeddingsBaseURL   string `env:"EMBEDDINGS_BASE_URL"`
	// ONNXRuntimeLibPath is ONNX Runtime's shared library (or its folder)
	// for the local embedder; empty looks in DATA_DIR/models and the usual
	// library folders.
	ONNXRuntimeLibPath string `env:"ONNXRUNTIME_LIB_PATH"`

	VoiceProvider           string `env:"VOICE_PROVIDER"`
	ElevenLabsAPIKey        string `env:"ELEVENLABS_API_KEY"`
	ElevenLabsBaseURL       string `env:"ELEVENLABS_BASE_URL" envDefault:"https://api.elevenlabs.io"`
	ElevenLabsAgentID       string `env:"ELEVENLABS_AGENT_ID"`
	ElevenLabsWebhookSecret string `env:"ELEVENLABS_WEBHOOK_SECRET"`
	// ElevenLabsLLMSecret, when set, is the bearer token the agent must
	// present to our custom-LLM endpoint (setup-agent stores it in the
	// ElevenLabs workspace).
	ElevenLabsLLMSecret string `env:"ELEVENLABS_LLM_SECRET"`
	// ElevenLabsVoiceID is the voice spoken when a session names none
	// (George, a premade voice every account has).
	ElevenLabsVoiceID  string        `env:"ELEVENLABS_VOICE_ID" envDefault:"JBFqnCBsd6RMkjVDRZzb"`
	ElevenLabsTTSModel string        `env:"ELEVENLABS_TTS_MODEL" envDefault:"eleven_flash_v2_5"`
	ElevenLabsTimeout  time.Duration `env:"ELEVENLABS_TIMEOUT" envDefault:"10s"`
	// PublicURL is where the server is reached from outside
	// (https://tutor.law.example.edu): the voice platform calls back there.
	PublicURL string `env:"PUBLIC_URL"`

	// Derived by Load; not read from the environment.
	// DatabaseEngine is "sqlite" (DatabasePath is the file) or "postgres"
	// (DATABASE_URL=postgres://… or postgresql://…, read by pgx;
	// DatabasePath is empty).
	DatabaseEngine string         `env:"-"`
	DatabasePath   string         `env:"-"`
	Origins        []string       `env:"-"`
	Proxies        []netip.Prefix `env:"-"`
	EmailDomains   []string       `env:"-"` // ALLOWED_EMAIL_DOMAINS, lower-case
}

// MinSecretKeyLength is the shortest SECRET_KEY accepted, in development as
// in production: 32 bytes is the HS256 key size; anything shorter can be
// brute-forced offline from one stolen token.
const MinSecretKeyLength = 32

// knownDefaultSecrets are keys that shipped in examples of the original design
// and in tutorials; no server, development included, may sign tokens with
// them: a development server on a laptop in a classroom is reachable too.
// They are compared after normalizeSecret, so case and -/_ do not matter.
var knownDefaultSecrets = []string{
	"your-secret-key-change-in-production",
	"your-secret-key-change-this-in-production",
	"change-this-secret-key-in-production",
	"your-secret-key-here",
	"your-super-secret-key",
	"your-256-bit-secret", // jwt.io's example
	"super-secret-key",
	"supersecretkey",
	"secret-key",
	"secretkey",
	"change-me",
	"changeme",
	"secret",
	"dev-secret-key",
	"development-secret-key",
	// FastAPI's OAuth2/JWT tutorial, which the original design followed.
	"09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
}

// Load reads the environment (environ, as os.Environ gives it) over the
// optional .env file at dotenvPath, then derives and validates.
// Variables set in the environment win over the .env file.
func Load(environ []string, dotenvPath string) (Config, error) {
	vars := map[string]string{}
	if dotenvPath != "" {
		fileVars, err := godotenv.Read(dotenvPath)
		switch {
		case err == nil:
			vars = fileVars
		case errors.Is(err, fs.ErrNotExist):
		default:
			return Config{}, dotenvError(dotenvPath, err)
		}
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: vars}); err != nil {
		return Config{}, explainParse(err, vars)
	}
	if err := c.derive(); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// explainParse turns the env library's errors ("parse error on field
// \"Port\" of type \"int\": strconv.ParseInt: ...") into the operator's words:
// the variable's name, what it must be, and what it got. The Go field and
// type names mean nothing to whoever edits a .env file.
func explainParse(err error, vars map[string]string) error {
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	problems := make([]string, 0, len(errs))
	for _, e := range errs {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			problems = append(problems, e.Error())
			continue
		}
		key := envKey(pe.Name)
		got := vars[key]
		what := "a valid value"
		switch pe.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			what = "a number"
			if pe.Type == reflect.TypeOf(time.Duration(0)) {
				what = "a duration such as 30s, 15m or 24h"
			} else if _, ferr := strconv.ParseFloat(strings.TrimSpace(got), 64); ferr == nil {
				what = "a whole number"
			}
			if errors.Is(pe.Err, strconv.ErrRange) {
				what = "a number small enough to store"
			}
		case reflect.Float32, reflect.Float64:
			what = "a number"
		case reflect.Bool:
			what = "true or false"
		}
		problems = append(problems, fmt.Sprintf("%s must be %s, got %q", key, what, got))
	}
	return errors.New("configuration: " + strings.Join(problems, "; "))
}

// envKey is the variable a Config field is read from.
func envKey(field string) string {
	if f, ok := reflect.TypeOf(Config{}).FieldByName(field); ok {
		if key, _, _ := strings.Cut(f.Tag.Get("env"), ","); key != "" {
			return key
		}
	}
	return field
}

// IsPostgresURL reports whether DATABASE_URL names a PostgreSQL server.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// databaseForLog names the database without a password: SQLite's file, or
// PostgreSQL's user, host, port and database.
func (c *Config) databaseForLog() string {
	if c.DatabaseEngine != "postgres" {
		return c.DatabasePath
	}
	pc, err := pgconn.ParseConfig(c.DatabaseURL)
	if err != nil {
		return "postgres (unreadable URL)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
}

func (c *Config) derive() error {
	c.Env = strings.ToLower(strings.TrimSpace(c.Env))
	c.DatabaseEngine = "sqlite"
	if c.DatabaseURL == "" {
		c.DatabasePath = filepath.Join(c.DataDir, "socratic.db")
	} else if IsPostgresURL(c.DatabaseURL) {
		// pgconn's errors name the URL with its password masked.
		if _, err := pgconn.ParseConfig(c.DatabaseURL); err != nil {
			return fmt.Errorf("configuration: DATABASE_URL must look like postgres://user:password@host:5432/database?sslmode=require for PostgreSQL: %w", err)
		}
		c.DatabaseEngine = "postgres"
	} else {
		// SQLAlchemy's form: sqlite:///relative.db, sqlite:////absolute.db.
		p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:///")
		if !ok || p == "" || strings.ContainsAny(p, "?#") {
			return errors.New("configuration: DATABASE_URL must look like sqlite:///relative/file.db or sqlite:////absolute/file.db, without query parameters (or postgres://… for PostgreSQL)")
		}
		c.DatabasePath = p
	}
	if c.UploadDir == "" {
		c.UploadDir = filepath.Join(c.DataDir, "uploads")
	}
	if c.BlobURL != "" {
		bucket, prefix, err := blob.ParseURL(c.BlobURL)
		if err != nil {
			return fmt.Errorf("configuration: BLOB_URL %w", err)
		}
		c.BlobBucket, c.BlobPrefix = bucket, prefix
		if c.AWSAccessKeyID == "" || c.AWSSecretAccessKey == "" {
			return errors.New("configuration: BLOB_URL=s3://… needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the bucket's credentials)")
		}
		if c.AWSEndpointURL != "" {
			if u, err := url.Parse(c.AWSEndpointURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return errors.New("configuration: AWS_ENDPOINT_URL must be the S3 service's address, like https://minio.example.edu:9000, without a path")
			}
		}
		if c.AWSRegion == "" {
			c.AWSRegion = c.AWSDefaultRegion
		}
	}
	if c.ProcessedDir == "" {
		c.ProcessedDir = filepath.Join(c.DataDir, "processed")
	}
	if c.SessionDir == "" {
		c.SessionDir = filepath.Join(c.DataDir, "audio")
	}
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(c.DataDir, "cache")
	}
	origins, err := parseList(c.CORSOrigins)
	if err != nil {
		return fmt.Errorf("configuration: CORS_ORIGINS: %w", err)
	}
	c.Origins = origins
	proxies, err := parseList(c.TrustedProxies)
	if err != nil {
		return fmt.Errorf("configuration: TRUSTED_PROXIES: %w", err)
	}
	domains, err := parseList(c.AllowedEmailDomains)
	if err != nil {
		return fmt.Errorf("configuration: ALLOWED_EMAIL_DOMAINS: %w", err)
	}
	c.EmailDomains = c.EmailDomains[:0]
	for _, d := range domains {
		c.EmailDomains = append(c.EmailDomains, strings.ToLower(strings.TrimPrefix(d, "@")))
	}
	c.Proxies = c.Proxies[:0]
	for _, p := range proxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("configuration: TRUSTED_PROXIES: %q is neither an address nor a CIDR prefix", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.Proxies = append(c.Proxies, prefix.Masked())
	}
	return nil
}

// parseList accepts the original design's JSON list (["a","b"]) or a
// comma-separated list.
func parseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var items []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &items); err != nil {
			return nil, fmt.Errorf("not a JSON list of strings: %w", err)
		}
	} else {
		items = strings.Split(s, ",")
	}
	out := items[:0]
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// Production reports whether ENV=production.
func (c Config) Production() bool { return c.Env == "production" }

// JWTExpiration is the lifetime of an access token.
func (c Config) JWTExpiration() time.Duration {
	return time.Duration(c.JWTExpirationMinutes) * time.Minute
}

// Validate collects every problem with the settings into one error, so an
// operator fixes them all in one go.
func (c Config) Validate() error {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	if c.Env != "development" && c.Env != "production" {
		add("ENV must be development or production, not %q", c.Env)
	}
	// Development without a key generates its own (EnsureSecretKey); a key
	// that is given is held to the same rules in every mode, since a
	// development server signs tokens anyone on its network can present.
	switch key := strings.TrimSpace(c.SecretKey); {
	case key == "" && c.Production():
		add("SECRET_KEY is not set: production needs a random key of at least %d characters (for example: openssl rand -base64 48)", MinSecretKeyLength)
	case key == "" && c.SecretKey != "":
		add("SECRET_KEY is blank: set a random key of at least %d characters, or leave it unset in development to have one generated", MinSecretKeyLength)
	case key == "":
	case isKnownDefault(c.SecretKey):
		add("SECRET_KEY is a published default: anyone could forge tokens; set a random key of at least %d characters (openssl rand -base64 48), or leave it unset in development to have one generated", MinSecretKeyLength)
	case len(key) < MinSecretKeyLength:
		add("SECRET_KEY is %d characters: at least %d are needed so tokens cannot be forged by brute force (openssl rand -base64 48), or leave it unset in development to have one generated", len(key), MinSecretKeyLength)
	}
	if c.JWTAlgorithm != "HS256" {
		add("JWT_ALGORITHM must be HS256 (the only algorithm this server signs and accepts), not %q", c.JWTAlgorithm)
	}
	if c.JWTExpirationMinutes < 1 || c.JWTExpirationMinutes > 7*24*60 {
		add("JWT_EXPIRATION_MINUTES must be between 1 and 10080, not %d", c.JWTExpirationMinutes)
	}
	if c.Port < 0 || c.Port > 65535 {
		add("PORT must be between 0 and 65535, not %d", c.Port)
	}
	if c.DataDir == "" {
		add("DATA_DIR must not be empty")
	}
	if c.LoginMaxFailures < 1 {
		add("LOGIN_MAX_FAILURES must be at least 1, not %d", c.LoginMaxFailures)
	}
	if c.LoginMaxFailuresPerAddress < max(1, c.LoginMaxFailures) {
		add("LOGIN_MAX_FAILURES_PER_ADDRESS must be at least LOGIN_MAX_FAILURES (%d), not %d", c.LoginMaxFailures, c.LoginMaxFailuresPerAddress)
	}
	if c.RegistrationMaxPerAddress < 0 {
		add("REGISTRATION_MAX_PER_ADDRESS must be 0 (no limit) or more, not %d", c.RegistrationMaxPerAddress)
	}
	for _, d := range c.EmailDomains {
		if !validDomain(d) {
			add("ALLOWED_EMAIL_DOMAINS entry %q is not a domain name like ou.edu", d)
		}
	}
	if c.PDFIdleTimeout < time.Second {
		add("PDF_IDLE_TIMEOUT must be a duration of at least 1s, such as 1m, not %s", c.PDFIdleTimeout)
	}
	if c.BackupInterval < time.Second {
		add("BACKUP_INTERVAL must be a duration of at least 1s, such as 6h or 24h, not %s", c.BackupInterval)
	}
	if c.BackupKeep < 1 || c.BackupKeep > 10000 {
		add("BACKUP_KEEP must be between 1 and 10000 (how many scheduled backups to keep), not %d", c.BackupKeep)
	}
	if c.BackupDir != "" && c.DataDir != "" && inside(c.BackupDir, c.DataDir) {
		add("BACKUP_DIR (%s) must be outside DATA_DIR (%s): a backup kept with the data is lost with it, and a restore replaces DATA_DIR", c.BackupDir, c.DataDir)
	}
	if c.MaxUploadSize < 1 {
		add("MAX_UPLOAD_SIZE must be positive")
	}
	if c.MaxAudioSize < 1 {
		add("MAX_AUDIO_SIZE must be positive")
	}
	if c.AudioRetentionDays < 0 || c.AudioRetentionDays > 36500 {
		add("AUDIO_RETENTION_DAYS must be between 0 (keep recordings) and 36500, not %d", c.AudioRetentionDays)
	}
	if c.MaxPDFPages < 1 {
		add("MAX_PDF_PAGES must be positive")
	}
	if c.ChunkSize < 100 {
		add("CHUNK_SIZE must be at least 100, not %d", c.ChunkSize)
	}
	if c.ChunkOverlap < 0 || c.ChunkOverlap >= c.ChunkSize {
		add("CHUNK_OVERLAP must be at least 0 and below CHUNK_SIZE, not %d", c.ChunkOverlap)
	}
	if c.RateLimitConversationsPerWeek < 0 {
		add("RATE_LIMIT_CONVERSATIONS_PER_WEEK must not be negative")
	}
	if c.SessionMaxDurationSeconds < 30 {
		add("SESSION_MAX_DURATION_SECONDS must be at least 30, not %d", c.SessionMaxDurationSeconds)
	}
	if c.SessionMinTurnIntervalSeconds < 0 || c.SessionMinTurnIntervalSeconds > 60 {
		add("SESSION_MIN_TURN_INTERVAL_SECONDS must be between 0 (no pacing) and 60, not %d", c.SessionMinTurnIntervalSeconds)
	}
	if c.SessionMaxTurns < 1 {
		add("SESSION_MAX_TURNS must be at least 1, not %d", c.SessionMaxTurns)
	}
	if c.StudentDailyTokenBudget < 0 {
		add("STUDENT_DAILY_TOKEN_BUDGET must not be negative (0: no daily limit), not %d", c.StudentDailyTokenBudget)
	}
	if c.LLMHistoryTokenBudget < 200 || c.LLMHistoryTokenBudget > 1_000_000 {
		add("LLM_HISTORY_TOKEN_BUDGET must be between 200 and 1000000 tokens, not %d", c.LLMHistoryTokenBudget)
	}
	if c.LLMMaxTokens < 64 || c.LLMMaxTokens > 64_000 {
		add("LLM_MAX_TOKENS must be between 64 and 64000 (a tutor's answer takes about 300), not %d", c.LLMMaxTokens)
	}
	if c.LLMMaxConcurrent < 1 || c.LLMMaxConcurrent > 10_000 {
		add("LLM_MAX_CONCURRENT must be between 1 and 10000, not %d", c.LLMMaxConcurrent)
	}
	if c.LLMTimeout < time.Second || c.LLMTimeout > 10*time.Minute {
		add("LLM_TIMEOUT must be between 1s and 10m, not %s", c.LLMTimeout)
	}
	if c.QueryRewriteWait < 50*time.Millisecond || c.QueryRewriteWait > 10*time.Second {
		add("QUERY_REWRITE_WAIT must be between 50ms and 10s (every turn may wait this long for its search query), not %s", c.QueryRewriteWait)
	}
	if c.QueryRewrite && c.LLMProviderName() == "offline" {
		add("QUERY_REWRITE needs a language model: set LLM_PROVIDER and its key, or unset QUERY_REWRITE")
	}
	if c.ReadHeaderTimeout < time.Second || c.ReadHeaderTimeout > 5*time.Minute {
		add("HTTP_READ_HEADER_TIMEOUT must be between 1s and 5m, not %s", c.ReadHeaderTimeout)
	}
	if c.Temperature < 0 || c.Temperature > 2 {
		add("TEMPERATURE must be between 0 and 2")
	}
	if _, err := time.LoadLocation(c.WeekTimezone); err != nil {
		add("WEEK_TIMEZONE %q is not a known time zone", c.WeekTimezone)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		add("LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel)
	}
	// A provider that is named must be complete: falling back to the
	// offline tutor or the browser's voice would hide a typo until students
	// notice. Nothing set at all is the keyless default and stays valid.
	switch c.LLMProviderName() {
	case "offline":
	case "anthropic":
		if strings.TrimSpace(c.AnthropicAPIKey) == "" {
			add("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY (from console.anthropic.com); or unset LLM_PROVIDER for the offline tutor")
		}
		if strings.TrimSpace(c.ClaudeModel) == "" {
			add("LLM_PROVIDER=anthropic needs CLAUDE_MODEL (e.g. claude-sonnet-4-5)")
		}
	case "openai":
		if strings.TrimSpace(c.OpenAIBaseURL) == "" {
			add("LLM_PROVIDER=openai needs OPENAI_BASE_URL (an OpenAI-compatible chat server, e.g. http://localhost:11434 for Ollama)")
		}
		if strings.TrimSpace(c.OpenAIModel) == "" {
			add("LLM_PROVIDER=openai needs OPENAI_MODEL (the model's name on that server, e.g. llama3.1)")
		}
	default:
		add("LLM_PROVIDER must be anthropic, openai or offline, not %q", c.LLMProvider)
	}
	switch c.VoiceProviderName() {
	case "browser":
	case "elevenlabs":
		if strings.TrimSpace(c.ElevenLabsAPIKey) == "" {
			add("VOICE_PROVIDER=elevenlabs needs ELEVENLABS_API_KEY; or unset VOICE_PROVIDER for the browser's own speech")
		}
		if !httpURL(c.ElevenLabsBaseURL, false) {
			add("ELEVENLABS_BASE_URL must be an http(s) URL such as https://api.elevenlabs.io, not %q", c.ElevenLabsBaseURL)
		}
		if strings.TrimSpace(c.ElevenLabsVoiceID) == "" || strings.ContainsAny(c.ElevenLabsVoiceID, "/?# ") {
			add("ELEVENLABS_VOICE_ID must be a voice id from your ElevenLabs account (GET /api/voice/voices lists them), not %q", c.ElevenLabsVoiceID)
		}
		if strings.TrimSpace(c.ElevenLabsTTSModel) == "" {
			add("ELEVENLABS_TTS_MODEL must name a text-to-speech model, e.g. eleven_flash_v2_5")
		}
		if c.ElevenLabsTimeout < 500*time.Millisecond || c.ElevenLabsTimeout > 2*time.Minute {
			add("ELEVENLABS_TIMEOUT must be between 500ms and 2m, not %s", c.ElevenLabsTimeout)
		}
		if strings.ContainsAny(c.ElevenLabsAgentID, "/?#& ") {
			add("ELEVENLABS_AGENT_ID must be an agent id (agent_…), not %q", c.ElevenLabsAgentID)
		}
	default:
		add("VOICE_PROVIDER must be elevenlabs or browser, not %q", c.VoiceProvider)
	}
	if sec := c.ElevenLabsLLMSecret; sec != "" && (len(sec) < 16 || strings.TrimSpace(sec) != sec) {
		add("ELEVENLABS_LLM_SECRET must be at least 16 characters without surrounding spaces (for example: openssl rand -hex 24), or unset")
	}
	switch c.EmbeddingsProviderName() {
	case "local", "none":
	case "openai":
		if c.EmbeddingsBaseURL == "" {
			add("EMBEDDINGS_PROVIDER=openai needs EMBEDDINGS_BASE_URL (an OpenAI-compatible server, e.g. http://localhost:11434 for Ollama)")
		}
	default:
		add("EMBEDDINGS_PROVIDER must be local, openai or none, not %q", c.EmbeddingsProvider)
	}
	if c.PublicURL != "" && !httpURL(c.PublicURL, true) {
		add("PUBLIC_URL must be the server's address as seen from outside, like https://tutor.law.example.edu (no query), not %q", c.PublicURL)
	}
	for _, o := range c.Origins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			add("CORS_ORIGINS entry %q must be * or start with http:// or https://", o)
		}
	}
	if len(problems) > 0 {
		return errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// InDataDir reports whether path is inside the data directory, which one
// process at a time holds (serve locks it): a folder there is used by no
// other running instance, whatever the engine. It goes by the path alone:
// a shared folder mounted or linked inside DATA_DIR would pass for the
// instance's own (docs/operations.md says never to do that).
func (c Config) InDataDir(path string) bool { return c.DataDir != "" && inside(path, c.DataDir) }

// inside reports whether path is dir or lies under it.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// httpURL accepts an absolute http(s) URL with a host; bare says it must
// also have no query or fragment.
func httpURL(s string, bare bool) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	return !bare || (u.RawQuery == "" && u.Fragment == "")
}

func isKnownDefault(key string) bool {
	k := normalizeSecret(key)
	for _, d := range knownDefaultSecrets {
		if k == normalizeSecret(d) {
			return true
		}
	}
	return false
}

// normalizeSecret folds the spellings people make of one published key:
// case, and - or _ or a space between words.
func normalizeSecret(s string) string {
	return strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// validDomain accepts a host name of dot-separated labels of letters,
// digits and hyphens, which is all an email domain may be here.
func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// EnsureSecretKey fills an unset SECRET_KEY in development with a random key
// kept in DATA_DIR/.secret_key, so tokens survive restarts without anyone ever
// signing with a published default. Production never gets here without a key.
func (c *Config) EnsureSecretKey() (generated bool, err error) {
	if c.SecretKey != "" {
		return false, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return false, fmt.Errorf("create DATA_DIR: %w", err)
	}
	path := filepath.Join(c.DataDir, ".secret_key")
	if b, err := os.ReadFile(path); err == nil {
		if key := strings.TrimSpace(string(b)); len(key) >= MinSecretKeyLength {
			c.SecretKey = key
			return false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read secret key: %w", err)
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return false, fmt.Errorf("generate secret key: %w", err)
	}
	key := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("write secret key: %w", err)
	}
	c.SecretKey = key
	return true, nil
}

// LogValue lets the config be logged at start with every secret masked.
func (c Config) LogValue() slog.Value {
	mask := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	return slog.GroupValue(
		slog.String("env", c.Env),
		slog.String("app_version", c.AppVersion),
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("data_dir", c.DataDir),
		slog.String("database", c.databaseForLog()),
		slog.String("backup_dir", c.BackupDir),
		slog.String("blob_url", c.BlobURL),
		slog.String("aws_access_key_id", c.AWSAccessKeyID),
		slog.String("aws_secret_access_key", mask(c.AWSSecretAccessKey)),
		slog.String("aws_endpoint_url", c.AWSEndpointURL),
		slog.String("secret_key", mask(c.SecretKey)),
		slog.Int("jwt_expiration_minutes", c.JWTExpirationMinutes),
		slog.Bool("allow_registration", c.AllowRegistration),
		slog.Any("allowed_email_domains", c.EmailDomains),
		slog.Bool("registration_requires_join_code", c.RegistrationRequiresJoinCode),
		slog.Any("cors_origins", c.Origins),
		slog.Int("trusted_proxies", len(c.Proxies)),
		slog.String("metrics_token", mask(c.MetricsToken)),
		slog.String("anthropic_api_key", mask(c.AnthropicAPIKey)),
		slog.String("openai_api_key", mask(c.OpenAIAPIKey)),
		slog.String("elevenlabs_api_key", mask(c.ElevenLabsAPIKey)),
		slog.String("elevenlabs_webhook_secret", mask(c.ElevenLabsWebhookSecret)),
		slog.String("elevenlabs_llm_secret", mask(c.ElevenLabsLLMSecret)),
		slog.String("voice_provider", c.VoiceProviderName()),
		slog.String("elevenlabs_agent_id", c.ElevenLabsAgentID),
		slog.String("public_url", c.PublicURL),
	)
}

// LLMProviderName is the tutor's language model provider: LLM_PROVIDER when
// set, else anthropic when a key is configured, else the offline tutor.
func (c Config) LLMProviderName() string {
	switch {
	case c.LLMProvider != "":
		return strings.ToLower(c.LLMProvider)
	case c.AnthropicAPIKey != "":
		return "anthropic"
	default:
		return "offline"
	}
}

// EmbeddingsProviderName is EMBEDDINGS_PROVIDER when set, else local (the
// in-process model, used when its files are present).
func (c Config) EmbeddingsProviderName() string {
	if c.EmbeddingsProvider == "" {
		return "local"
	}
	return strings.ToLower(c.EmbeddingsProvider)
}

// EmbeddingsModelDir is where the local model's files are:
// EMBEDDINGS_MODEL_PATH, else DATA_DIR/models/<the model's name>, where
// socratic models download puts them.
func (c Config) EmbeddingsModelDir() string {
	if c.EmbeddingsModelPath != "" {
		return c.EmbeddingsModelPath
	}
	return filepath.Join(c.ModelsDir(), filepath.Base(c.EmbeddingsModel))
}

// ModelsDir is DATA_DIR/models: downloaded models and ONNX Runtime.
func (c Config) ModelsDir() string { return filepath.Join(c.DataDir, "models") }

// VoiceProviderName is elevenlabs when configured, else browser.
func (c Config) VoiceProviderName() string {
	switch {
	case c.VoiceProvider != "":
		return strings.ToLower(c.VoiceProvider)
	case c.ElevenLabsAPIKey != "":
		return "elevenlabs"
	default:
		return "browser"
	}
}

// dotenvError says what is wrong with the .env file without quoting it:
// godotenv's parse errors carry the file's text (the rest of the file, or
// an unterminated value), and that file holds SECRET_KEY and API keys. It
// names the first line from which the file stops parsing instead.
func dotenvError(path string, err error) error {
	src, readErr := os.ReadFile(path)
	if readErr != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("cannot read %s: %v", path, pe.Err)
		}
		return fmt.Errorf("cannot read %s: %v", path, readErr)
	}
	lines := strings.SplitAfter(string(src), "\n")
	if len(lines) > 1000 { // the search below is quadratic; .env files are short
		lines = nil
	}
	for i := range lines {
		if _, perr := godotenv.Unmarshal(strings.Join(lines[:i+1], "")); perr != nil {
			// An opened quote fails until it closes: keep going while a
			// later prefix parses, so the line named is where it stays broken.
			ok := false
			for j := i + 1; j < len(lines); j++ {
				if _, e := godotenv.Unmarshal(strings.Join(lines[:j+1], "")); e == nil {
					ok = true
					break
				}
			}
			if !ok {
				return fmt.Errorf("%s line %d is malformed: each line must be NAME=value (a value with spaces or # in quotes, the quotes closed); the file is not quoted here because it holds secrets", path, i+1)
			}
		}
	}
	return fmt.Errorf("%s is malformed: each line must be NAME=value (a value with spaces or # in quotes, the quotes closed); the file is not quoted here because it holds secrets", path)
}
