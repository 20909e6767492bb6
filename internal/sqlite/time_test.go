package sqlite

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestParseTimeIsTimeParse: ParseTime answers as time.Parse on the
// stored layout does — the same instant and location (==, not just
// Equal), or an error where it gives one — for times written by
// FormatTime and for strings that only look like them.
func TestParseTimeIsTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	in := []string{
		"2026-11-18T16:00:00.000000Z", "2024-02-29T23:59:59.999999Z", "2023-02-29T00:00:00.000000Z",
		"2026-04-31T00:00:00.000000Z", "2026-13-01T00:00:00.000000Z", "2026-00-10T00:00:00.000000Z",
		"2026-01-00T00:00:00.000000Z", "2026-01-01T24:00:00.000000Z", "2026-01-01T00:60:00.000000Z",
		"2026-01-01T00:00:60.000000Z", "2026-01-01T00:00:00.00000aZ", "2026-01-01 00:00:00.000000Z",
		"2026-01-01T00:00:00.000000", "2026-01-01T00:00:00Z", "0000-01-01T00:00:00.000000Z",
		"+026-01-01T00:00:00.000000Z", "2026-1-01T00:00:00.0000000Z", "", "not a time at all, 27 bytes",
	}
	for range 2000 {
		in = append(in, FormatTime(time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9))))
	}
	for _, s := range in {
		got, gotErr := ParseTime(s)
		want, wantErr := time.Parse(timeLayout, s)
		if (gotErr == nil) != (wantErr == nil) || got != want {
			t.Errorf("%q: ParseTime %v, %v; time.Parse %v, %v", s, got, gotErr, want, wantErr)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	s := FormatTime(time.Date(2026, 11, 18, 16, 4, 5, 123456000, time.UTC))
	for b.Loop() {
		if _, err := ParseTime(s); err != nil {
			b.Fatal(err)
		}
	}
}
