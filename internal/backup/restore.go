package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/datadir"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// ReadManifest reads a backup's manifest.
func ReadManifest(dir string) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%s has no %s: it is not a backup, or one that never finished", dir, ManifestName)
	}
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("%s: the manifest is not readable JSON (%v): the backup is damaged", dir, err)
	}
	if m.Format != format {
		return Manifest{}, fmt.Errorf("%s: manifest format %d, this binary reads format %d", dir, m.Format, format)
	}
	return m, nil
}

// Verify checks a backup folder against its manifest: every file there,
// of its size and sha256, each upload named by its own sha256, the
// database among them. It returns every problem at once.
func Verify(dir string) (Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return Manifest{}, err
	}
	var problems []string
	hasDB := false
	seen := map[string]bool{}
	for _, f := range m.Files {
		if !validRel(f.Path) || seen[f.Path] {
			problems = append(problems, fmt.Sprintf("the manifest names %q, which is no file a backup holds", f.Path))
			continue
		}
		seen[f.Path] = true
		hasDB = hasDB || f.Path == dbName && m.Engine == "" || f.Path == pgDumpName && m.Engine == EnginePostgres
		got, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			problems = append(problems, f.Path+" is missing")
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s cannot be read: %v", f.Path, err))
		case got.SHA256 != f.SHA256 || got.Size != f.Size:
			problems = append(problems, fmt.Sprintf("%s is corrupted (sha256 %s, %d bytes; the manifest says %s, %d bytes)", f.Path, got.SHA256, got.Size, f.SHA256, f.Size))
		case strings.HasPrefix(f.Path, uploadDir+"/") && filepath.Base(f.Path) != got.SHA256:
			problems = append(problems, fmt.Sprintf("%s does not hold the bytes its name says (sha256 %s)", f.Path, got.SHA256))
		}
	}
	if !hasDB {
		problems = append(problems, "the manifest names no database ("+dbName+" or, for PostgreSQL, "+pgDumpName+")")
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return m, fmt.Errorf("backup %s is damaged: %s", dir, strings.Join(problems, "; "))
	}
	return m, nil
}

// Target is the data directory a restore replaces, with where the server
// keeps the database, uploads and recordings inside it.
type Target struct {
	DataDir   string
	DBPath    string
	UploadDir string
	AudioDir  string
	// DatabaseURL, when set (postgres://…), is the database a restore
	// fills: it must be empty (see restorePostgres).
	DatabaseURL string
}

// mountPoint is isMountPoint; tests take the in-place path without
// mounting a filesystem.
var mountPoint = isMountPoint

// Restored says what a restore did.
type Restored struct {
	Manifest Manifest
	// Previous is where the data directory that was replaced now is; empty
	// when there was none.
	Previous string
}

// Restore replaces the data directory with the backup in from. It refuses
// when a server holds the directory's lock, when any file of the backup
// fails its sha256, when the database fails integrity_check, and when its
// schema is newer than this binary's migrations. It builds the new
// directory beside the old one (the database, uploads and recordings from
// the backup; everything else — downloaded models, the compile cache, a
// development secret key — carried over from the old one by hard link or
// copy), then renames the old one to DATA_DIR.before-restore-<time> and the
// new one into its place. Until that last step nothing the server reads
// has changed; a failure before it removes the new directory.
func Restore(ctx context.Context, from string, t Target) (Restored, error) {
	if t.DatabaseURL != "" {
		m, err := Verify(from)
		if err != nil {
			return Restored{}, fmt.Errorf("restore refused, nothing was changed: %w", err)
		}
		if m.Engine != EnginePostgres {
			return Restored{}, fmt.Errorf("restore refused, nothing was changed: %s is a backup of a SQLite database; DATABASE_URL names PostgreSQL (restore it with DATABASE_URL unset, into DATA_DIR)", from)
		}
		latest, err := sqlite.LatestVersion()
		if err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		if m.SchemaVersion > latest {
			return Restored{}, fmt.Errorf("restore refused, nothing was changed: the backup's database is at schema version %d, newer than this binary knows (%d); restore it with the socratic version that made it (%s)", m.SchemaVersion, latest, m.AppVersion)
		}
		if err := restorePostgres(ctx, from, m, t, latest); err != nil {
			return Restored{}, err
		}
		return Restored{Manifest: m}, nil
	}
	dataDir, err := filepath.Abs(t.DataDir)
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	// A DATA_DIR that is a symbolic link (systemd's DynamicUser makes
	// /var/lib/NAME one) is swapped where it points, so the link keeps
	// working.
	if real, err := filepath.EvalSymlinks(dataDir); err == nil {
		for _, p := range []*string{&t.DBPath, &t.UploadDir, &t.AudioDir} {
			if abs, err := filepath.Abs(*p); err == nil {
				if rel, err := filepath.Rel(dataDir, abs); err == nil && !strings.HasPrefix(rel, "..") {
					*p = filepath.Join(real, rel)
				}
			}
		}
		dataDir = real
	}
	rels := map[string]string{}
	for what, p := range map[string]string{"the database (DATABASE_URL)": t.DBPath, "UPLOAD_DIR": t.UploadDir, "SESSION_DIR": t.AudioDir} {
		abs, err := filepath.Abs(p)
		if err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		rel, err := filepath.Rel(dataDir, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return Restored{}, fmt.Errorf("restore: %s (%s) is outside DATA_DIR (%s); restore replaces DATA_DIR as a whole, so keep the database, UPLOAD_DIR and SESSION_DIR at their defaults inside it", what, abs, dataDir)
		}
		rels[what] = rel
	}
	dbRel, upRel, audioRel := rels["the database (DATABASE_URL)"], rels["UPLOAD_DIR"], rels["SESSION_DIR"]

	// Refuse under a running server before reading a byte of the backup.
	exists := true
	if st, err := os.Stat(dataDir); errors.Is(err, fs.ErrNotExist) {
		exists = false
	} else if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	} else if !st.IsDir() {
		return Restored{}, fmt.Errorf("restore: DATA_DIR %s is not a folder", dataDir)
	}
	if exists {
		unlock, err := datadir.Lock(dataDir)
		if errors.Is(err, datadir.ErrLocked) {
			return Restored{}, fmt.Errorf("restore: a socratic server is running on %s (it holds DATA_DIR/.lock); stop it first — a restore never replaces the data under a running server", dataDir)
		}
		if err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		defer unlock()
	}

	m, err := Verify(from)
	if err != nil {
		return Restored{}, fmt.Errorf("restore refused, nothing was changed: %w", err)
	}
	if m.Engine == EnginePostgres {
		return Restored{}, fmt.Errorf("restore refused, nothing was changed: %s is a backup of a PostgreSQL database; set DATABASE_URL to an empty PostgreSQL database to restore it", from)
	}
	latest, err := sqlite.LatestVersion()
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	if m.SchemaVersion > latest {
		return Restored{}, fmt.Errorf("restore refused, nothing was changed: the backup's database is at schema version %d, newer than this binary knows (%d); restore it with the socratic version that made it (%s)", m.SchemaVersion, latest, m.AppVersion)
	}

	stamp := time.Now().UTC().Format("20060102T150405Z")
	parent := filepath.Dir(dataDir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	// A DATA_DIR that is a mount point (a container's volume) cannot be
	// renamed: the new data is built inside it and swapped entry by entry.
	inPlace := exists && mountPoint(dataDir)
	tmpParent, tmpPrefix := parent, "."+filepath.Base(dataDir)+".restoring-"
	if inPlace {
		tmpParent, tmpPrefix = dataDir, ".restoring-"
	}
	tmp, err := os.MkdirTemp(tmpParent, tmpPrefix)
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	swapped := false
	defer func() {
		if !swapped {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o750); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	if !inPlace {
		// The new directory is locked from the start, so a server started
		// the moment it is renamed into place waits for the restore to end.
		unlockNew, err := datadir.Lock(tmp)
		if err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		defer unlockNew()
	}

	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		var dst string
		switch {
		case f.Path == dbName:
			dst = filepath.Join(tmp, dbRel)
		case strings.HasPrefix(f.Path, uploadDir+"/"):
			dst = filepath.Join(tmp, upRel, filepath.FromSlash(strings.TrimPrefix(f.Path, uploadDir+"/")))
		default:
			dst = filepath.Join(tmp, audioRel, filepath.FromSlash(strings.TrimPrefix(f.Path, audioDir+"/")))
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		if err := copyFile(filepath.Join(from, filepath.FromSlash(f.Path)), dst); err != nil {
			return Restored{}, fmt.Errorf("restore: %s: %w", f.Path, err)
		}
		// Checked again as copied: the backup may sit on a disk that
		// changed under the first check.
		got, err := hashFile(dst)
		if err != nil {
			return Restored{}, fmt.Errorf("restore: %w", err)
		}
		if got.SHA256 != f.SHA256 {
			return Restored{}, fmt.Errorf("restore refused, nothing was changed: %s changed while it was copied (sha256 %s, the manifest says %s)", f.Path, got.SHA256, f.SHA256)
		}
	}
	if err := checkDatabase(ctx, filepath.Join(tmp, dbRel), latest); err != nil {
		return Restored{}, fmt.Errorf("restore refused, nothing was changed: %w", err)
	}
	if inPlace {
		res, err := swapInPlace(dataDir, tmp, stamp, []string{dbRel, upRel, audioRel}, []string{dbRel + "-wal", dbRel + "-shm", dbRel + "-journal"})
		if err != nil {
			return Restored{}, err
		}
		res.Manifest = m
		return res, nil
	}
	if exists {
		skip := map[string]bool{".lock": true}
		for _, rel := range []string{dbRel, dbRel + "-wal", dbRel + "-shm", dbRel + "-journal", upRel, audioRel} {
			skip[filepath.Clean(rel)] = true
		}
		if err := carry(dataDir, tmp, "", skip); err != nil {
			return Restored{}, fmt.Errorf("restore: keeping what DATA_DIR holds beside the data (models, caches): %w", err)
		}
	}
	if err := syncTree(tmp); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}

	res := Restored{Manifest: m}
	if exists {
		res.Previous = dataDir + ".before-restore-" + stamp
		if err := os.Rename(dataDir, res.Previous); err != nil {
			return Restored{}, fmt.Errorf("restore: moving the old DATA_DIR aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		if exists {
			if rerr := os.Rename(res.Previous, dataDir); rerr != nil {
				return Restored{}, fmt.Errorf("restore: %w; and putting the old DATA_DIR back failed too (%v): it is in %s", err, rerr, res.Previous)
			}
		}
		return Restored{}, fmt.Errorf("restore: nothing was changed: %w", err)
	}
	swapped = true
	if err := syncDir(parent); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}

// checkDatabase opens the restored copy and runs integrity_check; it also
// reads the schema version from the database itself, not the manifest.
func checkDatabase(ctx context.Context, path string, latest int64) error {
	db, err := sqlite.OpenFile(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := sqlite.IntegrityCheck(ctx, db); err != nil {
		return fmt.Errorf("the backup's database: %w", err)
	}
	v, err := sqlite.SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if v > latest {
		return fmt.Errorf("the backup's database is at schema version %d, newer than this binary knows (%d)", v, latest)
	}
	return db.Close()
}

// carry recreates under dst what src holds except the skipped paths
// (relative to the data directory): folders as folders, files as hard
// links (or copies across filesystems), symbolic links as links.
func carry(src, dst, rel string, skip map[string]bool) error {
	entries, err := os.ReadDir(filepath.Join(src, rel))
	if err != nil {
		return err
	}
	for _, e := range entries {
		r := filepath.Join(rel, e.Name())
		if skip[r] {
			continue
		}
		from, to := filepath.Join(src, r), filepath.Join(dst, r)
		info, err := os.Lstat(from)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(from)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, to); err != nil {
				return err
			}
		case info.IsDir():
			if err := os.MkdirAll(to, info.Mode().Perm()); err != nil {
				return err
			}
			if err := carry(src, dst, r, skip); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := os.Link(from, to); err != nil {
				if err := copyFile(from, to); err != nil {
					return err
				}
				os.Chmod(to, info.Mode().Perm())
			}
		}
	}
	return nil
}

// swapInPlace is the swap for a DATA_DIR that cannot be renamed: the
// database, uploads and recordings move into DATA_DIR/.before-restore-TIME,
// then the restored ones out of tmp (inside DATA_DIR, so every move is a
// rename on one filesystem); models and caches stay where they are. A
// failed move puts back what had moved.
func swapInPlace(dataDir, tmp, stamp string, rels, stale []string) (Restored, error) {
	prev := filepath.Join(dataDir, ".before-restore-"+stamp)
	type move struct{ from, to string }
	var done []move
	undo := func(err error) (Restored, error) {
		for i := len(done) - 1; i >= 0; i-- {
			if rerr := os.Rename(done[i].to, done[i].from); rerr != nil {
				return Restored{}, fmt.Errorf("restore: %w; and putting %s back failed too (%v): the old data is in %s", err, done[i].from, rerr, prev)
			}
		}
		os.RemoveAll(tmp)
		os.Remove(prev)
		return Restored{}, fmt.Errorf("restore: nothing was changed: %w", err)
	}
	mv := func(from, to string) error {
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
		done = append(done, move{from, to})
		return nil
	}
	for _, rel := range append(append([]string{}, rels...), stale...) {
		if err := mv(filepath.Join(dataDir, rel), filepath.Join(prev, rel)); err != nil {
			return undo(err)
		}
	}
	for _, rel := range rels {
		if err := mv(filepath.Join(tmp, rel), filepath.Join(dataDir, rel)); err != nil {
			return undo(err)
		}
	}
	os.RemoveAll(tmp)
	if err := syncDir(dataDir); err != nil {
		return Restored{Previous: prev}, fmt.Errorf("restore: %w", err)
	}
	return Restored{Previous: prev}, nil
}
