package sqlite

import "syscall"

// blockUnit is the unit of f_bavail: the fragment size where the
// filesystem gives one, else the block size.
func blockUnit(st *syscall.Statfs_t) int64 {
	if st.Frsize > 0 {
		return st.Frsize
	}
	return st.Bsize
}
