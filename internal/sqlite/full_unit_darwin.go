package sqlite

import "syscall"

// blockUnit is the unit of f_bavail: on Darwin, f_bsize is the
// fundamental block size.
func blockUnit(st *syscall.Statfs_t) int64 { return int64(st.Bsize) }
