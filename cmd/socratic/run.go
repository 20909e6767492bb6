package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/sqlite"
)

const usage = `usage: socratic <command> [arguments]

commands:
  serve                     run the HTTP server (migrates the database first)
  migrate up|down|status    apply, roll back one, or list database migrations
  user create --role R --email E --username U [--full-name N]
                            create an account; the password is read from stdin,
                            or prompted for when stdin is a terminal
  ingest --week W file.pdf...
                            add readings to a week and process them (stop the
                            server first; while it runs, use the upload API)
  bench ingest [--dir DIR]  measure PDF extraction (against pdftotext), chunking
                            and end-to-end ingestion on a folder of PDFs
  bench search [--others N] measure search latency (BM25, vectors, fusion) in
                            weeks of 500, 5,000 and 50,000 passages
  bench sessions [--students N] [--turns N] [--audio-mb MB]
                            run the server binary against a fake model at a
                            realistic speed; N students at once each start a
                            session, stream turns and end with a recording;
                            report latency, peak RSS, lost turns, busy errors
  eval retrieval --qa FILE.jsonl [--pdfs DIR]
                            ingest a QA file's PDFs into a scratch week and report
                            recall@1, recall@5 and MRR of BM25 and hybrid search
  eval tutor [--split dev|test|both] [--model offline|fake|both]
                            run scripted student turns through the tutor and
                            score each reply against the teaching rules
  models download [--no-runtime]
                            fetch all-MiniLM-L6-v2 (ONNX) and ONNX Runtime into
                            DATA_DIR/models, each checked against a pinned sha256
  backup --to DIR           copy the database, uploads and recordings, with a
                            manifest of sha256s, while the server runs
  restore --from DIR        replace DATA_DIR with a backup (server stopped),
                            keeping the old one as DATA_DIR.before-restore-TIME
  healthcheck [--url URL]   exit 0 when the local server is ready, 1 if not
  warm-cache                compile PDFium into CACHE_DIR ahead of the first start
  voice setup-agent [--agent-id ID]
                            create or update the ElevenLabs agent that speaks
                            the tutor (custom LLM, limits, overrides, webhook)
  version                   print the version
  help [command]            print this, or a command's usage and flags

Run 'socratic help <command>' or 'socratic <command> --help' for a
command's flags. Configuration comes from the environment and an optional
./.env file; see .env.example for every variable.`

// run is the whole program; main only turns its error into an exit code.
// Everything it touches from the outside world is a parameter, so tests run
// it in-process.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return &usageError{"no command given"}
	}
	switch args[0] {
	case "help", "--help", "-h", "-help":
		return help(args[1:], stdout, stderr)
	case "--version", "-v":
		args = []string{"version"}
	}
	if _, isGroup := groups[args[0]]; isGroup && len(args) > 1 && isHelpFlag(args[1]) {
		fmt.Fprintln(stdout, groupUsage(args[0]))
		return nil
	}
	c, n, ok := resolve(args)
	if !ok {
		return unknown(args, stderr)
	}
	if wantsHelp(args[n:]) {
		fmt.Fprintln(stdout, c.usage)
		return nil
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], environ, stderr)
	case "migrate":
		return migrate(ctx, args[1:], environ, stdout, stderr)
	case "user":
		return userCmd(ctx, args[1:], environ, stdin, stdout, stderr)
	case "ingest":
		return ingest(ctx, args[1:], environ, stdout, stderr)
	case "bench":
		return bench(ctx, args[1:], environ, stdout, stderr)
	case "eval":
		return evalCmd(ctx, args[1:], environ, stdout, stderr)
	case "models":
		return modelsCmd(ctx, args[1:], environ, stdout, stderr)
	case "backup", "restore", "healthcheck", "warm-cache":
		return opsCmd(ctx, args, environ, stdout, stderr)
	case "voice":
		return voiceCmd(ctx, args[1:], environ, stdout, stderr)
	case "version":
		if len(args) > 1 {
			fmt.Fprintln(stderr, c.usage)
			return &usageError{fmt.Sprintf("version takes no arguments, got %q", args[1:])}
		}
		fmt.Fprintln(stdout, versionString())
		return nil
	}
	return unknown(args, stderr)
}

func versionString() string {
	v := "socratic " + defaultVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		v += " (" + bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += ", " + s.Value[:12]
			}
		}
		v += ")"
	}
	return v
}

// defaultVersion matches APP_VERSION's default.
const defaultVersion = "0.1.0"

// errPostgresInProgress refuses DATABASE_URL=postgres://… to the commands
// that would run a job queue of their own or write scratch data: ingest
// (its queue would join the instances' and take their jobs; with several
// instances, uploads go through the API) and the measuring commands (eval,
// bench ingest), which work on a scratch SQLite database rather than write
// into yours. serve, user, migrate, backup, restore and voice run on it,
// and so do healthcheck, warm-cache and models, which do not open the
// database; bench search and bench sessions take --database postgres://….
var errPostgresInProgress = errors.New("DATABASE_URL names a PostgreSQL server: `socratic serve`, `user`, `migrate up|down|status`, `voice`, `backup` and `restore` (and healthcheck, warm-cache, models) run on it. This command does not: `ingest` would run a job queue beside the servers' (upload through the API, POST /api/documents/upload, and the servers' workers read it), and `eval` and `bench ingest` measure on a scratch SQLite database of their own and will not write into yours (`bench search` and `bench sessions` take --database postgres://… to measure PostgreSQL); unset DATABASE_URL for them")

func loadConfig(environ []string) (config.Config, error) {
	cfg, err := loadConfigAnyEngine(environ)
	if err == nil && cfg.DatabaseEngine == "postgres" {
		return config.Config{}, errPostgresInProgress
	}
	return cfg, err
}

// loadConfigAnyEngine is loadConfig for the commands that run on
// PostgreSQL too (serve, user, migrate, and those that never open the
// database).
func loadConfigAnyEngine(environ []string) (config.Config, error) {
	return config.Load(environ, ".env")
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	if cfg.Debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production() {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// migrateShared applies the pending migrations, the stores' and River's,
// under one advisory lock on PostgreSQL: instances starting at once on a
// fresh database take turns, and the second finds nothing left to apply
// rather than racing the first into a half-made table.
func migrateShared(ctx context.Context, db *sqlite.DB) error {
	unlock, err := db.SessionLock(ctx, "socratic-migrate")
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	defer unlock()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return jobs.Migrate(ctx, db, nil)
}

// openDB prepares DATA_DIR and opens the migrated database.
func openDB(ctx context.Context, cfg config.Config, migrateUp bool) (*sqlite.DB, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create DATA_DIR: %w", err)
	}
	if cfg.DatabaseEngine == "postgres" {
		db, err := sqlite.OpenPostgres(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		if migrateUp {
			if err := migrateShared(ctx, db); err != nil {
				db.Close()
				return nil, err
			}
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath)
	if err != nil {
		return nil, err
	}
	if migrateUp {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		if err := jobs.Migrate(ctx, db, nil); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}
