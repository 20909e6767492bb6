package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/blob"
	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/course"
	"github.com/lawtutor/socratic/internal/document"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// deps are the long-lived pieces serve and the CLI share, closed in reverse.
type deps struct {
	db *sqlite.DB
	// instance is this server's name in the job queue (jobs.Options.ID):
	// set by serve on PostgreSQL (instanceID), "" elsewhere.
	instance string
	auth     *auth.Service
	courses  *course.Service
	// files is the one store of uploads: courses and documents share it,
	// and with it the lock that keeps a delete from removing a file an
	// upload is reusing.
	files blob.Store
	// recordings is where session recordings are kept: nil for the
	// SESSION_DIR folder (the session service's default), the bucket's
	// prefix/recordings/ with BLOB_URL.
	recordings blob.Named
	// secretKey is SECRET_KEY as used, generated in development when
	// unset: whoever signs with it (the HTTP layer's voice session
	// tokens) must take it from here, not from the configuration read.
	secretKey string
}

func openDeps(ctx context.Context, cfg config.Config, log *slog.Logger) (*deps, error) {
	db, err := openDB(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	if db.Disk != nil { // nil on PostgreSQL: its disk is not ours to watch
		db.Disk.Logger = log // a full disk is said once, for the operator
	}
	d := &deps{db: db}
	generated, err := cfg.EnsureSecretKey()
	if err != nil {
		d.close()
		return nil, err
	}
	d.secretKey = cfg.SecretKey
	if generated {
		log.Warn("SECRET_KEY is not set: generated a random one in DATA_DIR/.secret_key (development only; production refuses to start without SECRET_KEY)")
	}
	if cfg.VectorDBPath != "" {
		log.Info("VECTOR_DB_PATH is ignored: vectors live in the main SQLite database", "vector_db_path", cfg.VectorDBPath)
	}
	if d.auth, err = newAuth(ctx, cfg, d); err != nil {
		d.close()
		return nil, err
	}
	if d.files, err = openFiles(ctx, cfg, db, document.FileInUse(db.Read)); err != nil {
		d.close()
		return nil, err
	}
	if s3, ok := d.files.(*blob.S3); ok {
		d.recordings = s3.Named("recordings")
	}
	d.courses = course.NewService(db, course.Options{Files: d.files, Logger: log})
	return d, nil
}

func (d *deps) close() error {
	var errs []error
	if d.auth != nil {
		errs = append(errs, d.auth.Close())
	}
	if d.db != nil {
		errs = append(errs, d.db.Close())
	}
	return errors.Join(errs...)
}

// slogErrorLog routes net/http's own complaints (TLS handshakes, bad
// requests) into the structured log.
func slogErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}

// openFiles is the upload store BLOB_URL chooses: the UPLOAD_DIR directory,
// or an S3-compatible bucket, checked now so a wrong bucket or key stops
// the start with its reason rather than the first upload.
func openFiles(ctx context.Context, cfg config.Config, db *sqlite.DB, inUse blob.InUse) (blob.Store, error) {
	if cfg.BlobURL == "" {
		return blob.New(cfg.UploadDir, inUse), nil
	}
	c := blob.S3Config{
		Bucket: cfg.BlobBucket, Prefix: cfg.BlobPrefix, Endpoint: cfg.AWSEndpointURL, Region: cfg.AWSRegion,
		AccessKey: cfg.AWSAccessKeyID, SecretKey: cfg.AWSSecretAccessKey, STS: cfg.AWSSessionToken, Scratch: cfg.UploadDir,
	}
	if db.Engine == sqlite.Postgres {
		// Several instances share the bucket: releasing an unused file and
		// reusing it elsewhere take the database's lock.
		c.Lock = func(ctx context.Context) (func(), error) { return db.SessionLock(ctx, "blob-store") }
	}
	s, err := blob.NewS3(c, inUse)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.Check(cctx); err != nil {
		return nil, fmt.Errorf("BLOB_URL: %w", err)
	}
	return s, nil
}
