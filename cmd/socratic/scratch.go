package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lawtutor/socratic/internal/config"
	"github.com/lawtutor/socratic/internal/course"
)

// scratchWeek is a throwaway data directory with one course and week.
type scratchWeek struct {
	d    *deps
	in   *ingestion
	week course.Week
	cfg  config.Config
}

func openScratchWeek(ctx context.Context, dir string, environ []string) (*scratchWeek, error) {
	cfg, err := loadConfig(append(append([]string{}, environ...), "DATA_DIR="+dir, "LOG_LEVEL=error"))
	if err != nil {
		return nil, err
	}
	return openScratchWeekConfig(ctx, dir, cfg)
}

// openScratchWeekOn is openScratchWeek on the database databaseURL names
// (an empty PostgreSQL database, for bench search --database), or on
// SQLite in dir when it is "": whatever DATABASE_URL the environment or
// ./.env holds is overridden, so a scratch week is never written into it.
func openScratchWeekOn(ctx context.Context, dir string, environ []string, databaseURL string) (*scratchWeek, error) {
	cfg, err := loadConfigAnyEngine(append(append([]string{}, environ...), "DATA_DIR="+dir, "LOG_LEVEL=error", "DATABASE_URL="+databaseURL))
	if err != nil {
		return nil, err
	}
	return openScratchWeekConfig(ctx, dir, cfg)
}

func openScratchWeekConfig(ctx context.Context, dir string, cfg config.Config) (*scratchWeek, error) {
	log := newLogger(cfg, io.Discard)
	d, err := openDeps(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	// A warm compile cache shared by scratch runs: this measures documents,
	// not PDFium's first start.
	linkScratchCompileCache(dir)
	in, err := startIngestion(ctx, cfg, d, log)
	if err != nil {
		d.close()
		return nil, err
	}
	sw := &scratchWeek{d: d, in: in, cfg: cfg}
	c, err := d.courses.Create(ctx, cliAdmin, course.NewCourse{Code: "SCRATCH", Name: "Scratch"})
	if err == nil {
		sw.week, err = d.courses.CreateWeek(ctx, cliAdmin, c.ID, course.NewWeek{Number: 1})
	}
	if err != nil {
		sw.close(ctx)
		return nil, err
	}
	return sw, nil
}

// ingest adds files to the week and waits until all are processed.
func (sw *scratchWeek) ingest(ctx context.Context, files []string) (map[string]int64, error) {
	ids := map[int64]string{}
	byName := map[string]int64{}
	var list []int64
	for _, f := range files {
		doc, _, err := sw.in.documents.AddFile(ctx, cliAdmin, sw.week.ID, f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		ids[doc.ID] = f
		byName[filepath.Base(f)] = doc.ID
		list = append(list, doc.ID)
	}
	failed, err := waitProcessed(ctx, sw.in.documents, list, ids, io.Discard)
	if err != nil {
		return nil, err
	}
	if failed > 0 {
		return nil, fmt.Errorf("%d documents failed", failed)
	}
	return byName, nil
}

func (sw *scratchWeek) close(ctx context.Context) {
	sw.in.stop(ctx)
	sw.d.close()
}

// scratchCompileCache is PDFium's compile cache for scratch runs (bench,
// eval and the tests), in the user's cache folder: it outlives a run, and
// nothing is left in the temp folder. It is "" when there is no cache
// folder (no HOME); PDFium then compiles each time.
func scratchCompileCache() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	dir := filepath.Join(base, "socratic", "wazero-scratch")
	if os.MkdirAll(dir, 0o750) != nil {
		return ""
	}
	return dir
}

// linkScratchCompileCache points dataDir/cache/wazero at
// scratchCompileCache, where there is one.
func linkScratchCompileCache(dataDir string) {
	if shared := scratchCompileCache(); shared != "" && os.MkdirAll(filepath.Join(dataDir, "cache"), 0o750) == nil {
		os.Symlink(shared, filepath.Join(dataDir, "cache", "wazero"))
	}
}
