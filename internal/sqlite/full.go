package sqlite

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"time"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

// IsFull reports whether err says the disk is full: SQLite's SQLITE_FULL
// ("database or disk is full", what a write to the database or its log
// gets on ENOSPC) or ENOSPC itself from a plain file write. A full disk is
// the operator's to fix, not a bug: callers answer "try later" and keep
// nothing half-written.
func IsFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var se *sqlite3.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3lib.SQLITE_FULL
}

// DiskReserve is the free space below which the disk under the database
// counts as full. New uploads and turns are refused below it, before they
// write anything, so the turns already being answered, the job queue and
// SQLite's own log still have room to finish cleanly.
const DiskReserve = 16 << 20

// diskLookEvery is how long one look at the free space is trusted.
const diskLookEvery = time.Second

// Disk watches the free space of the filesystem that holds the database.
// It says once in the log when the disk fills and once when it has space
// again, so an operator sees the episode without a line per request.
type Disk struct {
	dir     string
	reserve uint64
	// Logger receives the two lines; set it before the server starts.
	Logger *slog.Logger

	mu     sync.Mutex
	looked time.Time
	full   bool
}

// NewDisk watches the filesystem holding dir; below reserve bytes free it
// is full.
func NewDisk(dir string, reserve uint64) *Disk { return &Disk{dir: dir, reserve: reserve} }

// Full reports whether the disk has less than the reserve free. A look is
// trusted for a second; a filesystem that cannot be asked is taken to
// have room (the writes themselves will say otherwise).
func (d *Disk) Full() bool {
	if d == nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if now.Sub(d.looked) < diskLookEvery {
		return d.full
	}
	d.looked = now
	free, ok := freeBytes(d.dir)
	if !ok {
		return d.full
	}
	d.set(free < d.reserve, free)
	return d.full
}

// Saw reports whether err is a full disk's. If it is and the database's
// own disk is below the reserve (or cannot be asked), the disk counts as
// full (said in the log if it is news) until the next look finds space.
func (d *Disk) Saw(err error) bool {
	if !IsFull(err) || d == nil {
		return IsFull(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// The error may come from another disk (a SESSION_DIR elsewhere,
	// SQLite's temporary files): the database's disk counts as full only
	// when it is low too, so the log does not blame it for another's.
	free, ok := freeBytes(d.dir)
	if ok && free >= d.reserve {
		return true
	}
	d.set(true, free)
	d.looked = time.Time{} // look again at the next question
	return true
}

func (d *Disk) set(full bool, free uint64) {
	if full == d.full {
		return
	}
	d.full = full
	if d.Logger == nil {
		return
	}
	if full {
		d.Logger.Error("the disk holding the database is full: uploads answer 507 and new turns 503 until space is freed; reads keep working",
			"dir", d.dir, "free_bytes", free, "needed_bytes", d.reserve)
		return
	}
	d.Logger.Info("the disk holding the database has space again: uploads and turns are accepted", "dir", d.dir, "free_bytes", free)
}
