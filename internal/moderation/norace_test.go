//go:build !race

package moderation

const raceEnabled = false
