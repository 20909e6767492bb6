//go:build race

package moderation

// raceEnabled: the race detector makes training (about a billion
// floating-point steps) take minutes; the tests that train run without it.
const raceEnabled = true
