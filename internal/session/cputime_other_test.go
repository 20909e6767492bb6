//go:build !unix

package session

import "time"

// processCPU is unknown here: the benchmark reports no CPU figure.
func processCPU() time.Duration { return 0 }
