package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/datadir"
	"github.com/lawtutor/socratic/internal/httpapi"
	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/tutor"
)

// hashConcurrency bounds argon2id work: each hash takes ~19 MiB and a core.
const hashConcurrency = 2

func newAuth(ctx context.Context, cfg config.Config, deps *deps) (*auth.Service, error) {
	hasher, err := auth.NewHasher(auth.OWASP, hashConcurrency, 10*time.Second)
	if err != nil {
		return nil, err
	}
	tokens := auth.NewTokens([]byte(cfg.SecretKey), "socratic", "socratic-api", cfg.JWTExpiration(), nil)
	return auth.NewService(ctx, deps.db, httpapi.AuthOptions(cfg, hasher, tokens))
}

// instanceID is the name this server asks for in the job queue on
// PostgreSQL: its host name, address and port, the same when the instance
// is restarted, so a restarted instance can take back at once the jobs its
// killed predecessor left running (jobs.Options.ID, Queue.ResetOrphans).
// "" (a random name) on SQLite, where the one process resets every orphan
// at start, and when the host has no name or the port is chosen at
// random. claimInstance makes the name exclusive.
func instanceID(cfg config.Config) string {
	if cfg.DatabaseEngine != "postgres" || cfg.Port == 0 {
		return ""
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return ""
	}
	return fmt.Sprintf("socratic@%s/%s:%d", host, cfg.Host, cfg.Port)
}

// claimTries and claimWait: how long claimInstance waits for a name's
// lock to go (2 s).
var claimTries, claimWait = 20, 100 * time.Millisecond

// claimInstance takes instanceID's name for this process, held by a
// PostgreSQL advisory lock until release (the database server drops it
// when a killed process's connection ends): River must never see two
// running processes with one name, and ResetOrphans must never take back
// jobs a live process is running. A name another running process holds
// (two instances on one host given the same HOST and PORT in separate
// network namespaces, or cloned machines) is not taken: this instance
// runs under a random name, and its predecessor's orphans, if any, go back
// to the queue when River's rescuer finds them (after JOB_TIMEOUT).
func claimInstance(ctx context.Context, db *sqlite.DB, cfg config.Config, log *slog.Logger) (id string, release func(), err error) {
	id = instanceID(cfg)
	if id == "" {
		return "", func() {}, nil
	}
	// A killed predecessor's lock goes when the database server sees its
	// connection drop, usually at once: a few tries cover the moment.
	var unlock func()
	ok := false
	for try := 0; ; try++ {
		if unlock, ok, err = db.TrySessionLock(ctx, "socratic-instance:"+id); err != nil {
			return "", nil, err
		}
		if ok || try == claimTries-1 {
			break
		}
		select {
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-time.After(claimWait):
		}
	}
	if !ok {
		log.Warn("another running instance has this instance's name (host, HOST and PORT): running under a random one; jobs a killed predecessor left running go back to the queue after JOB_TIMEOUT", "name", id)
		return "", func() {}, nil
	}
	return id, unlock, nil
}

func serve(ctx context.Context, args, environ []string, logOut io.Writer) error {
	if len(args) > 0 {
		return &usageError{fmt.Sprintf("serve takes no arguments, got %q (settings come from the environment or .env; socratic serve --help lists them)", args)}
	}
	// The signal context lives here, not in main, so an in-process test that
	// sends SIGTERM sees the same ordered shutdown as production.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := loadConfigAnyEngine(environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg, logOut)
	defer cpuProfileOnSignal(getenv(environ, "SOCRATIC_CPU_PROFILE"), log)()
	unlock, err := datadir.Lock(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()
	cfg.SecretKey = d.secretKey // generated in development when unset
	log.Info("starting", "config", cfg)
	id, release, err := claimInstance(ctx, d.db, cfg, log)
	if err != nil {
		return err
	}
	defer release()
	d.instance = id
	in, err := startIngestion(ctx, cfg, d, log)
	if err != nil {
		return err
	}
	// Runs after the HTTP drain below (defers run in reverse), before the
	// database closes.
	defer func() {
		if err := in.stop(ctx); err != nil {
			log.Error("stopping background jobs", "err", err)
		}
	}()

	sessions, stopSweeper, err := startSessions(ctx, cfg, d, in, log)
	if err != nil {
		return err
	}
	defer stopSweeper()

	backups, stopBackups, err := startBackups(ctx, cfg, log)
	if err != nil {
		return err
	}
	// Runs after the HTTP drain, before the database closes; a backup in
	// progress is cancelled and leaves only its hidden .partial folder,
	// which it removes.
	defer stopBackups()

	handler := httpapi.New(httpapi.Deps{Config: cfg, DB: d.db, Auth: d.auth, Courses: d.courses, Documents: in.documents, PDF: in.pdf, Search: in.search, Embeddings: in.emb.status, Jobs: in.queue.Client(), Sessions: sessions, LLMStatus: in.llmStatus, Logger: log, Backups: backupStatus(backups)}).Handler()
	srv, ln, err := listenHTTP(ctx, cfg, handler, log)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", listenURL(ln.Addr()))
	firstAdminHint(ctx, d, log)
	// Starting leaves tens of megabytes of garbage (the password hasher's
	// calibration, the migrations' parse, the moderation rules' compile)
	// that an idle server would hold until the runtime's next forced
	// collection and return slowly; give it back now.
	debug.FreeOSMemory()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// listenURL is the address a browser on this machine opens: localhost
// when the server listens on every interface.
func listenURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// firstAdminCommand creates the first account on a fresh install.
const firstAdminCommand = "socratic user create --role admin --email you@example.edu --username admin"

// firstAdminHint says, on a database with no accounts, how to make the
// first admin: nobody can sign in to make one otherwise. It is only a
// hint, so a failure to count is logged, not fatal.
func firstAdminHint(ctx context.Context, d *deps, log *slog.Logger) {
	has, err := d.auth.HasUsers(ctx)
	switch {
	case err != nil:
		log.Warn("could not tell whether any account exists", "err", err)
	case !has:
		log.Warn("no accounts yet: create the first admin (it asks for a password) with", "command", firstAdminCommand)
	}
}

// listenHTTP builds the HTTP server and its listener: everything between
// the socket and the router, so tests that speak raw bytes meet what
// production does.
func listenHTTP(ctx context.Context, cfg config.Config, handler http.Handler, log *slog.Logger) (*http.Server, net.Listener, error) {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		// Uploads of readings and recordings need time on slow links; JSON
		// routes are limited by size long before this.
		ReadTimeout:    5 * time.Minute,
		WriteTimeout:   5 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slogErrorLog(log),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	// net/http answers malformed requests itself, in plain text; the
	// contract says every refusal is problem+json.
	return srv, httpapi.ProblemListener(ln), nil
}

// sweepEvery is how often open sessions past their clock are looked for.
const sweepEvery = 30 * time.Second

// startSessions opens the session service: it frees the turns a stopped
// server left pending and starts the sweeper, which runs until the
// returned stop is called (after HTTP has drained).
func startSessions(ctx context.Context, cfg config.Config, d *deps, in *ingestion, log *slog.Logger) (*session.Service, func(), error) {
	tu := tutor.New(in.search, in.llm).WithLogger(log)
	if cfg.QueryRewrite && in.llm != nil {
		tu = tu.WithRewriter(tutor.NewRewriter(in.llm), cfg.QueryRewriteWait)
	}
	opts := httpapi.SessionOptions(cfg, tu, log)
	opts.Recordings = d.recordings
	svc := session.NewService(d.db, opts)
	n, err := svc.Recover(ctx)
	if err != nil {
		return nil, nil, err
	}
	if n > 0 {
		log.Info("marked unanswered the turns a stopped server left pending", "turns", n)
	}
	sweepCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunSweeper(sweepCtx, sweepEvery)
	}()
	return svc, func() { cancel(); <-done }, nil
}
