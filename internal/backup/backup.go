// Package backup makes and restores copies of a data directory: a
// consistent copy of the database, the uploads and recordings that copy
// names, and a manifest with the sha256 of every file. A backup is written
// beside its final folder and renamed into place at the end, so a folder
// with the final name is always complete; a restore checks every byte
// before it touches the data directory and swaps directories at the end.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// ManifestName is the manifest's file name inside a backup.
const ManifestName = "manifest.json"

// Layout of a backup folder: the database, the uploads under their
// content-hash names, the recordings under theirs.
const (
	dbName    = "socratic.db"
	uploadDir = "uploads"
	audioDir  = "audio"
)

// format is the manifest's version; a restore refuses one it does not know.
const format = 1

// Manifest describes a backup: what made it, when, at which schema, and
// every file with its size and sha256.
type Manifest struct {
	Format        int       `json:"format"`
	AppVersion    string    `json:"app_version"`
	Binary        string    `json:"binary,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	SchemaVersion int64     `json:"schema_version"`
	// Engine is "postgres" for a PostgreSQL database (socratic.pgdump,
	// pg_dump's custom format); empty for SQLite (socratic.db).
	Engine string `json:"engine,omitempty"`
	// Bucket says why the uploads and recordings of a BLOB_URL bucket are
	// not in the backup (BucketNote); empty when they are.
	Bucket string `json:"bucket,omitempty"`
	Files  []File `json:"files"`
	// Missing are files the copied database names that were gone when the
	// backup copied files (deleted by an erasure or the retention sweep
	// after the database was copied). A restore leaves them out.
	Missing []string `json:"missing,omitempty"`
}

// File is one file of a backup, by its slash-separated path inside it.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is what a backup copies: the database file and the folders of
// uploads and recordings.
type Source struct {
	DBPath    string
	UploadDir string
	AudioDir  string
	// DatabaseURL, when set (postgres://…), is the database instead of
	// DBPath: dumped by pg_dump.
	DatabaseURL string
	// BlobURL, when set, is where the uploads and recordings are: not
	// copied (see BucketNote).
	BlobURL string
}

// Info names what made the backup, for the manifest.
type Info struct {
	AppVersion string
	Binary     string
}

// Create writes a backup of src into the folder to, which must not exist.
// It works in a hidden folder beside to and renames it at the end, so a
// failure (or a kill) leaves nothing under the final name; the hidden
// folder is removed on failure. Files are hard-linked where the backup is
// on the same filesystem (uploads and recordings are never changed in
// place), copied otherwise.
func Create(ctx context.Context, src Source, to string, info Info) (Manifest, error) {
	to = filepath.Clean(to)
	if _, err := os.Lstat(to); err == nil {
		return Manifest{}, fmt.Errorf("backup: %s already exists; a backup never overwrites one", to)
	}
	parent := filepath.Dir(to)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(to)+".partial-")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m, err := write(ctx, src, tmp, info)
	if err != nil {
		return Manifest{}, err
	}
	if err := syncDir(tmp); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Lstat(to); err == nil {
		return Manifest{}, fmt.Errorf("backup: %s appeared while the backup ran; a backup never overwrites one", to)
	}
	if err := os.Rename(tmp, to); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	done = true
	if err := syncDir(parent); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// write fills dir (empty) with the backup and its manifest.
func write(ctx context.Context, src Source, dir string, info Info) (Manifest, error) {
	m := Manifest{Format: format, AppVersion: info.AppVersion, Binary: info.Binary, CreatedAt: time.Now().UTC()}
	var sums, names []string
	if src.DatabaseURL != "" {
		var err error
		if sums, names, err = writePostgres(ctx, src, dir, &m); err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		f, err := hashFile(filepath.Join(dir, pgDumpName))
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		f.Path = pgDumpName
		m.Files = append(m.Files, f)
	} else {
		var err error
		if sums, names, err = writeSQLite(ctx, src, dir, &m); err != nil {
			return Manifest{}, err
		}
	}
	if src.BlobURL != "" {
		m.Bucket = BucketNote
		sums, names = nil, nil
	}
	return writeFiles(ctx, src, dir, m, sums, names)
}

// writeSQLite copies the SQLite database into dir, checks the copy and
// lists the files it names.
func writeSQLite(ctx context.Context, src Source, dir string, m *Manifest) (sums, names []string, _ error) {
	dbPath := filepath.Join(dir, dbName)
	if err := sqlite.CopyTo(ctx, src.DBPath, dbPath); err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	copied, err := sqlite.OpenFile(dbPath)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	defer copied.Close()
	if err := sqlite.IntegrityCheck(ctx, copied); err != nil {
		return nil, nil, fmt.Errorf("backup: the copied database: %w", err)
	}
	if m.SchemaVersion, err = sqlite.SchemaVersion(ctx, copied); err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	sums, names, err = referenced(ctx, copied)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	if err := copied.Close(); err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	f, err := hashFile(dbPath)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	f.Path = dbName
	m.Files = append(m.Files, f)
	return sums, names, nil
}

// writeFiles copies the uploads and recordings named into dir, then
// writes the manifest.
func writeFiles(ctx context.Context, src Source, dir string, m Manifest, sums, names []string) (Manifest, error) {

	var wanted []struct{ from, rel string }
	for _, sum := range sums {
		wanted = append(wanted, struct{ from, rel string }{filepath.Join(src.UploadDir, sum[:2], sum), uploadDir + "/" + sum[:2] + "/" + sum})
	}
	for _, name := range names {
		wanted = append(wanted, struct{ from, rel string }{filepath.Join(src.AudioDir, name), audioDir + "/" + name})
	}
	for _, w := range wanted {
		if err := ctx.Err(); err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(w.rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		if err := linkOrCopy(w.from, dst); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				m.Missing = append(m.Missing, w.rel)
				continue
			}
			return Manifest{}, fmt.Errorf("backup: %s: %w", w.rel, err)
		}
		f, err := hashFile(dst)
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
		f.Path = w.rel
		m.Files = append(m.Files, f)
	}
	for _, d := range []string{uploadDir, audioDir} {
		if err := syncTree(filepath.Join(dir, d)); err != nil {
			return Manifest{}, fmt.Errorf("backup: %w", err)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, ManifestName), append(b, '\n')); err != nil {
		return Manifest{}, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// linkOrCopy puts the file from at dst: a hard link when both are on one
// filesystem, else a synced copy.
func linkOrCopy(from, dst string) error {
	st, err := os.Stat(from)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", from)
	}
	if err := os.Link(from, dst); err == nil {
		return nil
	}
	return copyFile(from, dst)
}

func copyFile(from, dst string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func hashFile(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, err
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a folder's entries (new names, renames) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// syncTree syncs every folder under root (absent is fine) and every file
// that was linked rather than copied, so the backup's own entries are on
// disk before it is renamed into place.
func syncTree(root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// validRel accepts only the paths a backup holds: the database, an upload
// under its sha256, a recording under a name the server chose. A manifest
// naming anything else (../, an absolute path) is refused.
func validRel(rel string) bool {
	switch {
	case rel == dbName, rel == pgDumpName:
		return true
	case strings.HasPrefix(rel, uploadDir+"/"):
		parts := strings.Split(rel, "/")
		return len(parts) == 3 && isSum(parts[2]) && parts[1] == parts[2][:2]
	case strings.HasPrefix(rel, audioDir+"/"):
		name := strings.TrimPrefix(rel, audioDir+"/")
		return validAudioName(name)
	}
	return false
}

func isSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// validAudioName: session-<id>-<hex>.<ext>, as the server names recordings.
func validAudioName(name string) bool {
	if !strings.HasPrefix(name, "session-") || len(name) > 128 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return !strings.Contains(name, "..")
}
