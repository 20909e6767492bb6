//go:build !unix

package datadir

import "os"

// lockFile does nothing where flock does not exist: run one server per
// data directory there.
func lockFile(*os.File) error { return nil }
