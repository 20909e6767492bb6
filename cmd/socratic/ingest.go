package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/datadir"
	"github.com/lawtutor/socratic/internal/document"
)

// cliAdmin is who the command line acts as: whoever can run it can read the
// data directory, so it may do what an admin may. It is no account (id 0):
// documents it adds have no uploader.
var cliAdmin = auth.User{ID: 0, Username: "command-line", Role: auth.RoleAdmin, IsActive: true}

// ingest adds PDFs to a week from the command line, processes them and
// reports each. It refuses to run beside a server on the same data
// directory.
func ingest(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	week := fs.Int64("week", 0, "the week's id (GET /api/courses/{id} lists them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *week < 1 || fs.NArg() == 0 {
		return errors.New("usage: socratic ingest --week W file.pdf [file.pdf ...]")
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// Only one process may own the upload store (its lock keeps a delete
	// from removing a file an upload is reusing); with a server running,
	// uploads go through it.
	unlock, err := datadir.Lock(cfg.DataDir)
	if errors.Is(err, datadir.ErrLocked) {
		return errors.New("a server is running on this data directory: upload through its API (POST /api/documents/upload), or stop it and run ingest again")
	}
	if err != nil {
		return err
	}
	defer unlock()
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close()
	in, err := startIngestion(ctx, cfg, d, log)
	if err != nil {
		return err
	}
	defer in.stop(ctx)

	var ids []int64
	names := map[int64]string{}
	refused := 0
	for _, path := range fs.Args() {
		doc, created, err := in.documents.AddFile(ctx, cliAdmin, *week, path)
		switch {
		case err != nil:
			refused++
			fmt.Fprintf(stdout, "%s: refused: %v\n", path, err)
		case !created:
			fmt.Fprintf(stdout, "%s: already in week %d as document %d (%s)\n", path, *week, doc.ID, doc.Status)
		default:
			ids = append(ids, doc.ID)
			names[doc.ID] = path
			fmt.Fprintf(stdout, "%s: queued as document %d\n", path, doc.ID)
		}
	}
	failed, err := waitProcessed(ctx, in.documents, ids, names, stdout)
	if err != nil {
		return err
	}
	return refusedErr(refused+failed, len(fs.Args()))
}

func refusedErr(n, of int) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d files were not processed", n, of)
}

// waitProcessed reports each document as it ends and counts the failures.
func waitProcessed(ctx context.Context, docs *document.Service, ids []int64, names map[int64]string, out io.Writer) (int, error) {
	pending := map[int64]bool{}
	for _, id := range ids {
		pending[id] = true
	}
	failed := 0
	for len(pending) > 0 {
		for id := range pending {
			d, err := docs.Get(ctx, cliAdmin, id)
			if err != nil {
				return failed, err
			}
			switch d.Status {
			case document.Processed:
				fmt.Fprintf(out, "%s: processed: %d pages, %d passages\n", names[id], deref(d.PageCount), d.ChunkCount)
			case document.Failed:
				failed++
				fmt.Fprintf(out, "%s: failed: %s\n", names[id], strings.TrimSpace(d.Error))
			default:
				continue
			}
			delete(pending, id)
		}
		select {
		case <-ctx.Done():
			return failed, fmt.Errorf("stopped with %d document(s) still queued; they are processed at the next start", len(pending))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return failed, nil
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
