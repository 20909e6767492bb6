//go:build !linux && !darwin

package sqlite

// freeBytes cannot ask this platform; writes that fail say it instead.
func freeBytes(string) (uint64, bool) { return 0, false }
