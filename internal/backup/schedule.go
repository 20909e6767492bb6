package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A scheduled backup's folder is named by when it began, in UTC, so names
// sort by age: socratic-20261204T170000.123Z.
const namePrefix = "socratic-"

var scheduledName = regexp.MustCompile(`^socratic-\d{8}T\d{6}\.\d{3}Z$`)

// Name is the folder name of a scheduled backup begun at t.
func Name(t time.Time) string {
	return namePrefix + t.UTC().Format("20060102T150405.000Z")
}

// List returns the complete scheduled backups in dir (folders with the
// scheduled name and a manifest), oldest first. Unfinished ones are
// hidden .partial folders and never listed.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() || !scheduledName.MatchString(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), ManifestName)); err != nil {
			continue
		}
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out, nil
}

// Prune removes all but the newest keep scheduled backups in dir and
// returns the names it removed. Folders it did not make are never touched.
func Prune(dir string, keep int) ([]string, error) {
	names, err := List(dir)
	if err != nil {
		return nil, err
	}
	if keep < 1 {
		keep = 1
	}
	var removed []string
	for len(names) > keep {
		if err := os.RemoveAll(filepath.Join(dir, names[0])); err != nil {
			return removed, err
		}
		removed = append(removed, names[0])
		names = names[1:]
	}
	return removed, nil
}

// Scheduler makes a backup every Interval into Dir and keeps the last
// Keep. It remembers when the last one succeeded, for /metrics.
type Scheduler struct {
	Dir      string
	Interval time.Duration
	Keep     int
	Source   Source
	Info     Info
	Log      *slog.Logger

	mu       sync.Mutex
	last     time.Time // when the newest complete backup was made
	failures atomic.Int64
	started  time.Time
}

// Last is when the newest complete backup was made (zero: none yet).
func (s *Scheduler) Last() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Age is how old the newest backup is; with none yet, how long the
// scheduler has run without making one, so an alert on age fires either way.
func (s *Scheduler) Age(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.IsZero() {
		if s.started.IsZero() {
			return 0
		}
		return now.Sub(s.started)
	}
	return now.Sub(s.last)
}

// Failures is how many scheduled backups have failed since start.
func (s *Scheduler) Failures() int64 { return s.failures.Load() }

// Init reads when the newest existing backup was made, so the age is
// right after a restart and the next backup is due an interval after it.
func (s *Scheduler) Init() error {
	s.mu.Lock()
	s.started = time.Now()
	s.mu.Unlock()
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return fmt.Errorf("BACKUP_DIR: %w", err)
	}
	names, err := List(s.Dir)
	if err != nil {
		return fmt.Errorf("BACKUP_DIR: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	m, err := ReadManifest(filepath.Join(s.Dir, names[len(names)-1]))
	if err != nil {
		return nil // a damaged newest backup: the next one is due now
	}
	s.mu.Lock()
	s.last = m.CreatedAt
	s.mu.Unlock()
	return nil
}

// Run makes backups until ctx ends. The first is due an interval after
// the newest existing one (at once when there is none or it is older).
func (s *Scheduler) Run(ctx context.Context) {
	for {
		wait := time.Duration(0)
		if last := s.Last(); !last.IsZero() {
			wait = time.Until(last.Add(s.Interval))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err := s.Once(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.Log.Error("scheduled backup failed; the next try is in one BACKUP_INTERVAL", "err", err, "dir", s.Dir)
			t := time.NewTimer(s.Interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// Once makes one backup now and prunes the old ones.
func (s *Scheduler) Once(ctx context.Context) error {
	begin := time.Now()
	to := filepath.Join(s.Dir, Name(begin))
	m, err := Create(ctx, s.Source, to, s.Info)
	if err != nil {
		if ctx.Err() == nil { // a stop cancelling it is no failure
			s.failures.Add(1)
		}
		return err
	}
	s.mu.Lock()
	s.last = m.CreatedAt
	s.mu.Unlock()
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	s.Log.Info("backup made", "dir", to, "files", len(m.Files), "bytes", size, "took", time.Since(begin).Round(time.Millisecond), "missing", len(m.Missing))
	removed, err := Prune(s.Dir, s.Keep)
	if len(removed) > 0 {
		s.Log.Info("removed old backups", "kept", s.Keep, "removed", removed)
	}
	if err != nil {
		return fmt.Errorf("prune old backups: %w", err)
	}
	return nil
}
