package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/pdftext"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/retrieval/local"
	"github.com/lawtutor/socratic/internal/retrieval/local/localtest"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
	"github.com/lawtutor/socratic/internal/tutor"
	"github.com/riverqueue/river"
)

const testPassword = "long enough passphrase"

// cheapParams keep the API tests fast (the race detector slows argon2id
// ten-fold); the OWASP parameters are tested in the auth package.
var cheapParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// fixture is a server over a fresh SQLite file with one user of each role
// and a deactivated student.
type fixture struct {
	t       testing.TB
	cfg     config.Config
	db      *sqlite.DB
	auth    *auth.Service
	hasher  *auth.Hasher // counts the passwords hashed and checked
	courses *course.Service
	docs    *document.Service
	queue   *jobs.Queue
	tokens  *auth.Tokens
	emb     *retrieval.Local // nil: no embeddings
	// recordings is the bucket's recording store with BLOB_URL (nil:
	// SESSION_DIR, the session service's default).
	recordings blob.Named
	srv        *Server
	users      map[string]auth.User // admin, professor, student, inactive
	tokenOf    map[string]string
}

type fixtureOption func(*config.Config)

var (
	templateOnce sync.Once
	templatePath string
	templateErr  error
)

// migratedTemplate is a database with every migration (ours and River's)
// applied, made once per test binary; each fixture starts from a copy of
// it. Migrating ~100 fresh databases took most of this package's time
// under the race detector.
func migratedTemplate(t testing.TB) string {
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "socratic-template-")
		if err != nil {
			templateErr = err
			return
		}
		templatePath = filepath.Join(dir, "template.db")
		ctx := context.Background()
		db, err := sqlite.Open(ctx, templatePath)
		if err != nil {
			templateErr = err
			return
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			templateErr = err
			return
		}
		if err := jobs.Migrate(ctx, db, nil); err != nil {
			templateErr = err
			return
		}
		// Everything into the main file, so copying it alone is a copy.
		_, templateErr = db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	return templatePath
}

var (
	pgTemplateOnce sync.Once
	pgTemplate     string
	pgTemplateDrop func()
	pgTemplateErr  error
)

// migratedPostgresTemplate is migratedTemplate on PostgreSQL (a run with
// SOCRATIC_TEST_ENGINE=postgres): a database with every migration applied,
// made once per test binary, which each fixture's database copies
// (CREATE DATABASE … TEMPLATE).
func migratedPostgresTemplate(t testing.TB) string {
	t.Helper()
	testenv.PostgresServer(t)
	pgTemplateOnce.Do(func() {
		pgTemplate, pgTemplateDrop, pgTemplateErr = testenv.PostgresTemplate(func(url string) error {
			ctx := context.Background()
			db, err := sqlite.OpenPostgres(ctx, url)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				return err
			}
			return jobs.Migrate(ctx, db, nil)
		})
	})
	if pgTemplateErr != nil {
		t.Fatal(pgTemplateErr)
	}
	return pgTemplate
}

// openFixtureDB is the fixture's database, on the run's engine: a copy of
// the migrated template, as a file in dir (SQLite) or a database of its own
// (PostgreSQL, whose URL goes into cfg.DatabaseURL as serve's would).
func openFixtureDB(t testing.TB, dir string, cfg *config.Config) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	if testenv.Engine() == "postgres" {
		cfg.DatabaseURL = testenv.PostgresFrom(t, migratedPostgresTemplate(t))
		db, err := sqlite.OpenPostgres(ctx, cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbPath := filepath.Join(dir, "socratic.db")
	if err := copyFile(migratedTemplate(t), dbPath); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

var (
	pdfOnce sync.Once
	pdf     *pdftext.Extractor
)

// sharedPDF is one PDFium for the whole test binary (it takes seconds to
// compile; the compiled code is cached in the user's cache folder across
// runs).
func sharedPDF() *pdftext.Extractor {
	pdfOnce.Do(func() {
		pdf = pdftext.New(pdftext.Options{CacheDir: testenv.WazeroCache(), Workers: 2, MemoryLimitMB: 256})
	})
	return pdf
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	return newFixtureWith(t, false, nil, opts...)
}

// newIngestingFixture is a fixture whose queue works its jobs (uploaded
// documents get processed); in newFixture's they stay queued.
func newIngestingFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	return newFixtureWith(t, true, nil, opts...)
}

// newEmbeddingFixture is an ingesting fixture whose documents are also
// embedded, by the in-process model (the tiny BERT of testdata/models on
// the pure-Go runtime), and whose searches are hybrid.
func newEmbeddingFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	emb, err := retrieval.OpenLocal(localtest.TinyModelDir(t), "tiny-bert", local.Options{Backend: local.BackendGo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	return newFixtureWith(t, true, emb, opts...)
}

// waitEmbedded waits until every passage has a vector of the fixture's
// model.
func (f *fixture) waitEmbedded(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		done, all, err := retrieval.VectorCounts(context.Background(), f.db.Read, f.emb.Model())
		if err != nil {
			t.Fatal(err)
		}
		if done == all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d passages embedded after %s", done, all, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newFixtureWith(t testing.TB, work bool, emb *retrieval.Local, opts ...fixtureOption) *fixture {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load([]string{"DATA_DIR=" + dir, "SECRET_KEY=" + string(testKey), "METRICS_TOKEN=scrape-token-123", "ANTHROPIC_API_KEY=sk-ant-must-never-show"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	db := openFixtureDB(t, dir, &cfg)
	hasher, err := auth.NewHasher(cheapParams, 2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(testKey, "socratic", "socratic-api", time.Hour, nil)
	svc, err := auth.NewService(ctx, db, AuthOptions(cfg, hasher, tokens))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var recordings blob.Named
	var files blob.Store = blob.New(cfg.UploadDir, document.FileInUse(db.Read))
	if cfg.BlobURL != "" {
		s3, err := blob.NewS3(blob.S3Config{Bucket: cfg.BlobBucket, Prefix: cfg.BlobPrefix, Endpoint: cfg.AWSEndpointURL, Region: cfg.AWSRegion,
			AccessKey: cfg.AWSAccessKeyID, SecretKey: cfg.AWSSecretAccessKey, Scratch: cfg.UploadDir}, document.FileInUse(db.Read))
		if err != nil {
			t.Fatal(err)
		}
		files = s3
		recordings = s3.Named("recordings")
	}
	courses := course.NewService(db, course.Options{Files: files, Logger: log})
	docs := document.NewService(db, files, sharedPDF(), document.Limits{
		MaxUploadSize: cfg.MaxUploadSize, MaxPages: cfg.MaxPDFPages, ChunkSize: cfg.ChunkSize, ChunkOverlap: cfg.ChunkOverlap,
		DocTimeout: time.Minute,
	}, log)
	qopts := jobs.Options{MaxWorkers: 2, JobTimeout: 2 * time.Minute, Logger: log, Queues: map[string]int{retrieval.EmbedQueue: 1}}
	if work {
		qopts.Workers = river.NewWorkers()
		river.AddWorker(qopts.Workers, docs.Worker())
		river.AddWorker(qopts.Workers, tutor.NewThemer(db, nil, log).Worker())
	}
	deps := Deps{Config: cfg, DB: db, Auth: svc, Courses: courses, Documents: docs, PDF: sharedPDF(), Logger: log}
	if emb != nil {
		river.AddWorker(qopts.Workers, retrieval.NewIndexer(db, emb, 32, log).Worker())
		deps.Search = retrieval.NewSearcher(emb, 0, log)
		deps.Embeddings = retrieval.Status{Status: "ok", Provider: "local", Model: "tiny-bert", Backend: emb.Backend()}
	}
	queue, err := jobs.New(db, qopts)
	if err != nil {
		t.Fatal(err)
	}
	docs.UseQueue(queue.Client())
	deps.Jobs = queue.Client()
	docs.AfterStore(func(ctx context.Context, tx *sql.Tx, d document.Document) error {
		if emb != nil {
			if _, err := queue.Client().InsertTx(ctx, tx, retrieval.EmbedArgs{}, nil); err != nil {
				return err
			}
		}
		return tutor.QueueAfterReadings(ctx, tx, queue.Client(), d.WeekID)
	})
	if work {
		if err := queue.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			queue.Stop(stopCtx)
		})
	}
	f := &fixture{recordings: recordings, t: t, cfg: cfg, db: db, auth: svc, hasher: hasher, courses: courses, docs: docs, queue: queue, tokens: tokens, emb: emb,
		srv:   New(deps),
		users: map[string]auth.User{}, tokenOf: map[string]string{}}
	for _, name := range []string{"admin", "professor", "student", "inactive"} {
		role := auth.Role(name)
		if name == "inactive" {
			role = auth.RoleStudent
		}
		u, err := svc.CreateUser(ctx, nil, auth.NewUser{Email: name + "@law.example.edu", Username: name, Password: testPassword, FullName: "Test " + name, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := tokens.Issue(u)
		if err != nil {
			t.Fatal(err)
		}
		f.users[name], f.tokenOf[name] = u, tok
	}
	inactive := false
	if _, err := svc.UpdateUser(ctx, f.users["admin"], f.users["inactive"].ID, auth.Patch{IsActive: &inactive}); err != nil {
		t.Fatal(err)
	}
	return f
}

// request describes one HTTP call.
type request struct {
	method, path, body string
	contentType        string // default application/json when body is set
	token              string
	remote             string // RemoteAddr; default 192.0.2.10:4000
	header             map[string]string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (f *fixture) do(req request) response {
	f.t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r := httptest.NewRequest(req.method, req.path, body)
	r.RemoteAddr = "192.0.2.10:4000"
	if req.remote != "" {
		r.RemoteAddr = req.remote
	}
	if req.body != "" {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, r)
	checkResponse(f.t, f.srv, req.method, req.path, w.Result())
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// login signs in over HTTP and returns the token.
func (f *fixture) login(username, password string) string {
	f.t.Helper()
	res := f.do(request{method: "POST", path: "/api/auth/login", body: `{"username":` + jsonString(username) + `,"password":` + jsonString(password) + `}`})
	if res.status != 200 {
		f.t.Fatalf("login %s: %d %s", username, res.status, res.body)
	}
	return res.json(f.t)["access_token"].(string)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// state is everything a failed request must leave untouched.
type state struct {
	users string
	audit int
}

func (f *fixture) state() state {
	f.t.Helper()
	var s state
	err := f.db.Read.QueryRow(`SELECT coalesce(string_agg(id||'|'||email||'|'||username||'|'||full_name||'|'||role||'|'||is_active||'|'||token_version||'|'||password_hash, ';' ORDER BY id), '') FROM users`).Scan(&s.users)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.Read.QueryRow(`SELECT count(*) FROM audit_log`).Scan(&s.audit); err != nil {
		if !f.hasTable("audit_log") {
			return s // rolled back by a test of readiness
		}
		f.t.Fatal(err)
	}
	return s
}

// hasTable reports whether the fixture's database has the table name.
func (f *fixture) hasTable(name string) bool {
	f.t.Helper()
	q := `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?`
	if f.db.Engine == sqlite.Postgres {
		q = `SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var has bool
	if err := f.db.Read.QueryRow(q, name).Scan(&has); err != nil {
		f.t.Fatal(err)
	}
	return has
}

type cfgT = config.Config

func mustPrefixes(ps ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
