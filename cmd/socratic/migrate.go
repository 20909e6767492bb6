package main

import (
	"context"
	"fmt"
	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/sqlite"
	"io"
	"text/tabwriter"
	"time"
)

func migrate(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return fmt.Errorf("usage: socratic migrate up|down|status")
	}
	cfg, err := loadConfigAnyEngine(environ)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.Migrator()
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		if db.Engine == sqlite.Postgres {
			// The lock serve takes to migrate, so a migrate up and
			// instances starting at once take turns.
			unlock, err := db.SessionLock(ctx, "socratic-migrate")
			if err != nil {
				return fmt.Errorf("migrate up: %w", err)
			}
			defer unlock()
		}
		res, err := p.Up(ctx)
		for _, r := range res {
			fmt.Fprintf(stdout, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(time.Millisecond))
		}
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(res) == 0 {
			fmt.Fprintln(stdout, "no pending migrations")
		}
		if err := jobs.Migrate(ctx, db, nil); err != nil {
			return err
		}
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintf(stdout, "rolled back %s\n", r.Source.Path)
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATE\tAPPLIED AT\tFILE")
		for _, s := range st {
			at := "-"
			if !s.AppliedAt.IsZero() {
				at = s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, at, s.Source.Path)
		}
		return tw.Flush()
	}
	return nil
}
