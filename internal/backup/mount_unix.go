//go:build unix

package backup

import (
	"os"
	"path/filepath"
	"syscall"
)

// isMountPoint reports whether dir is on another filesystem than its
// parent: a mount point (a container volume), which rename cannot move.
func isMountPoint(dir string) bool {
	a, err1 := os.Stat(dir)
	b, err2 := os.Stat(filepath.Dir(dir))
	if err1 != nil || err2 != nil {
		return false
	}
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev != sb.Dev
}
