//go:build linux || darwin

package sqlite

import "syscall"

// freeBytes is the space an unprivileged writer may still use under dir.
// A filesystem that reports no blocks at all (some FUSE and network
// mounts) cannot be asked: it is taken to have room, and the writes
// themselves say otherwise.
func freeBytes(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Blocks == 0 {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(blockUnit(&st)), true
}
