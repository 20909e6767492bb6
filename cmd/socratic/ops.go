package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lawtutor/socratic/internal/backup"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/httpapi"
	"github.com/lawtutor/socratic/internal/pdftext"
)

// The operator's commands: backup, restore, healthcheck, warm-cache.

func backupSource(cfg config.Config) backup.Source {
	src := backup.Source{DBPath: cfg.DatabasePath, UploadDir: cfg.UploadDir, AudioDir: cfg.SessionDir, BlobURL: cfg.BlobURL}
	if cfg.DatabaseEngine == "postgres" {
		src.DatabaseURL = cfg.DatabaseURL
	}
	return src
}

func backupInfo(cfg config.Config) backup.Info {
	return backup.Info{AppVersion: cfg.AppVersion, Binary: versionString()}
}

func backupCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	to := flags.String("to", "", "folder to write the backup into (must not exist)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return &usageError{fmt.Sprintf("backup takes no arguments besides --to, got %q", flags.Args())}
	}
	if *to == "" {
		return &usageError{"backup needs --to DIR: the folder to write the backup into"}
	}
	cfg, err := loadConfigAnyEngine(environ)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DatabasePath); cfg.DatabaseEngine != "postgres" && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: there is no database at %s (DATA_DIR=%s): nothing to back up", cfg.DatabasePath, cfg.DataDir)
	}
	begin := time.Now()
	m, err := backup.Create(ctx, backupSource(cfg), *to, backupInfo(cfg))
	if err != nil {
		return err
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	fmt.Fprintf(stdout, "backup written to %s: %d files, %s, schema version %d, in %s\n",
		*to, len(m.Files), humanBytes(size), m.SchemaVersion, time.Since(begin).Round(time.Millisecond))
	if m.Bucket != "" {
		fmt.Fprintf(stdout, "%s (BLOB_URL=%s)\n", m.Bucket, cfg.BlobURL)
	}
	if len(m.Missing) > 0 {
		fmt.Fprintf(stdout, "%d files the database named were deleted before they could be copied (an erasure or the recording retention ran meanwhile); the manifest lists them\n", len(m.Missing))
	}
	return nil
}

func restoreCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("restore", flag.ContinueOnError)
	flags.SetOutput(stderr)
	from := flags.String("from", "", "the backup folder to restore")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return &usageError{fmt.Sprintf("restore takes no arguments besides --from, got %q", flags.Args())}
	}
	if *from == "" {
		return &usageError{"restore needs --from DIR: a folder socratic backup wrote"}
	}
	cfg, err := loadConfigAnyEngine(environ)
	if err != nil {
		return err
	}
	tgt := backup.Target{DataDir: cfg.DataDir, DBPath: cfg.DatabasePath, UploadDir: cfg.UploadDir, AudioDir: cfg.SessionDir}
	if cfg.DatabaseEngine == "postgres" {
		tgt.DatabaseURL = cfg.DatabaseURL
	}
	res, err := backup.Restore(ctx, *from, tgt)
	if err != nil {
		return err
	}
	if tgt.DatabaseURL != "" {
		fmt.Fprintf(stdout, "restored %s (made %s by socratic %s, schema version %d, %d files, every sha256 checked) into the PostgreSQL database of DATABASE_URL with pg_restore, and its uploads and recordings into UPLOAD_DIR and SESSION_DIR\n",
			*from, res.Manifest.CreatedAt.Format(time.RFC3339), res.Manifest.AppVersion, res.Manifest.SchemaVersion, len(res.Manifest.Files))
		if res.Manifest.Bucket != "" {
			fmt.Fprintln(stdout, res.Manifest.Bucket)
		}
		return nil
	}
	fmt.Fprintf(stdout, "restored %s (made %s by socratic %s, schema version %d, %d files, every sha256 checked) into %s\n",
		*from, res.Manifest.CreatedAt.Format(time.RFC3339), res.Manifest.AppVersion, res.Manifest.SchemaVersion, len(res.Manifest.Files), cfg.DataDir)
	if res.Previous != "" {
		fmt.Fprintf(stdout, "the data directory it replaced is kept in %s; delete it once the restored server runs well\n", res.Previous)
	}
	if len(res.Manifest.Missing) > 0 {
		fmt.Fprintf(stdout, "%d files were deleted before the backup could copy them and are not restored\n", len(res.Manifest.Missing))
	}
	fmt.Fprintln(stdout, "start the server (socratic serve); it applies any newer migrations at start")
	return nil
}

// healthcheck asks the local server whether it is ready: exit 0 when
// /api/health/ready answers 200, 1 otherwise. Container HEALTHCHECKs run
// it, so it needs no curl in the image.
func healthcheck(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	url := flags.String("url", "", "the readiness URL (default: http://HOST:PORT/api/health/ready, loopback when HOST listens on every address)")
	timeout := flags.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return &usageError{fmt.Sprintf("healthcheck takes no arguments, got %q", flags.Args())}
	}
	if *url == "" {
		cfg, err := loadConfigAnyEngine(environ) // the address only
		if err != nil {
			return err
		}
		host := cfg.Host
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		*url = "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/api/health/ready"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: not ready: %w", err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: not ready: %s answered %d", *url, res.StatusCode)
	}
	fmt.Fprintln(stdout, "ready")
	return nil
}

// warmCache compiles PDFium into CACHE_DIR/wazero, so the server's first
// start does not spend seconds (and the memory of a compile) on it; a
// container image runs it at build time.
func warmCache(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("warm-cache", flag.ContinueOnError)
	flags.SetOutput(stderr)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return &usageError{fmt.Sprintf("warm-cache takes no arguments, got %q", flags.Args())}
	}
	cfg, err := loadConfigAnyEngine(environ) // no database involved
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.CacheDir, "wazero")
	begin := time.Now()
	pdf := pdftext.New(pdftext.Options{CacheDir: dir, Workers: 1})
	werr := pdf.WaitReady(ctx)
	if err := errors.Join(werr, pdf.Close()); err != nil {
		return fmt.Errorf("warm-cache: %w", err)
	}
	fmt.Fprintf(stdout, "PDFium's compiled code is in %s (%s)\n", dir, time.Since(begin).Round(time.Millisecond))
	return nil
}

// startBackups runs scheduled backups when BACKUP_DIR is set; the returned
// stop waits for a backup in progress to end (or be cancelled).
func startBackups(ctx context.Context, cfg config.Config, log *slog.Logger) (*backup.Scheduler, func(), error) {
	if cfg.BackupDir == "" {
		return nil, func() {}, nil
	}
	s := &backup.Scheduler{Dir: cfg.BackupDir, Interval: cfg.BackupInterval, Keep: cfg.BackupKeep,
		Source: backupSource(cfg), Info: backupInfo(cfg), Log: log}
	if err := s.Init(); err != nil {
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(runCtx)
	}()
	log.Info("scheduled backups", "dir", cfg.BackupDir, "interval", cfg.BackupInterval.String(), "keep", cfg.BackupKeep)
	return s, func() { cancel(); <-done }, nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// opsCmd dispatches the operator's commands (kept here, with their help,
// so the command table in run.go and help.go grows by one line each).
func opsCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	switch args[0] {
	case "backup":
		return backupCmd(ctx, args[1:], environ, stdout, stderr)
	case "restore":
		return restoreCmd(ctx, args[1:], environ, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args[1:], environ, stdout, stderr)
	default:
		return warmCache(ctx, args[1:], environ, stdout, stderr)
	}
}

var opsHelp = [...]command{
	{"backup", `usage: socratic backup --to DIR

Write a backup while the server runs: a consistent copy of the database
(SQLite's VACUUM INTO: every transaction committed before it began, none
after, the write-ahead log included), the uploads and recordings that copy
names, and manifest.json with the sha256 of every file, the schema version,
the time and the app version. It is written into a hidden folder beside DIR
and renamed to DIR at the end, so a folder named DIR is always complete.
Files are hard-linked when DIR is on the same filesystem as DATA_DIR; copy
the folder to another machine or disk to survive losing this one.

On PostgreSQL (DATABASE_URL=postgres://…) the database is dumped by pg_dump
(custom format, socratic.pgdump; pg_dump is looked for on PATH, then in
/usr/lib/postgresql/*/bin; the password goes to it in PGPASSWORD, never on
its command line) in one snapshot with the list of files it names. With
BLOB_URL the uploads and recordings are in the bucket and are not copied:
keep them with the provider's versioning; the manifest and the output say
so.

  --to DIR         folder to write (must not exist; its parent is created)`},
	{"restore", `usage: socratic restore --from DIR

Replace DATA_DIR with a backup. Stop the server first: restore refuses while
a server holds DATA_DIR/.lock. Every file's sha256 is checked, and the
database's integrity and schema version (a newer schema than this binary
knows is refused) before anything changes. The new data directory is built
beside the old one (models and caches carried over), then swapped in; the
old one is kept as DATA_DIR.before-restore-TIME (or, when DATA_DIR is a
mount point such as a container volume, the old database, uploads and
recordings in DATA_DIR/.before-restore-TIME). Start the server after: it
applies any newer migrations.

On PostgreSQL (DATABASE_URL=postgres://…) the backup's dump goes into that
database with pg_restore, in one transaction; the database must be empty
(createdb a new one), and the uploads and recordings go into UPLOAD_DIR and
SESSION_DIR. The same checks refuse a corrupted file or a newer schema
before anything changes.

  --from DIR       a folder written by socratic backup`},
	{"healthcheck", `usage: socratic healthcheck [--url URL] [--timeout D]

Ask the server on this machine whether it is ready (GET /api/health/ready on
HOST and PORT): exit 0 when it answers 200, 1 otherwise. For container
HEALTHCHECKs and service monitors.

  --url URL        the URL to ask (default: http://HOST:PORT/api/health/ready,
                   127.0.0.1 when HOST is 0.0.0.0)
  --timeout D      how long to wait for the answer (5s)`},
	{"warm-cache", `usage: socratic warm-cache

Compile PDFium (the PDF reader, WebAssembly) into CACHE_DIR/wazero (default
DATA_DIR/cache/wazero), so the server's first start reads the compiled code
instead of spending seconds and memory compiling it. Container images run it
at build time with CACHE_DIR outside the data volume.`},
}

// backupStatus hands /metrics the schedule, or nothing (not a typed nil)
// when backups are off.
func backupStatus(s *backup.Scheduler) httpapi.BackupStatus {
	if s == nil {
		return nil
	}
	return s
}
