package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// TestBenchSessionsAgainst runs two tiny rounds of the real binary against
// itself under another name: four full runs, in the alternating order
// (--bin first in round 1, --against first in round 2), each with its
// report and a clean result, then a summary whose every figure lists the
// two rounds' values and the medians the summary computes from them.
func TestBenchSessionsAgainst(t *testing.T) {
	testenv.OnlySQLite(t, "bench sessions' default engine")
	bin := buildBinary(t)
	other := filepath.Join(t.TempDir(), "socratic-before")
	if err := os.Symlink(bin, other); err != nil {
		t.Fatal(err)
	}
	args := []string{"bench", "sessions", "--students", "2", "--turns", "1", "--audio-mb", "0.0625",
		"--bin", bin, "--against", other, "--rounds", "2", "--dir", testenv.Corpus()}
	report := benchReport(t, "bench sessions", args)
	headers := regexp.MustCompile(`(?m)^=== round (\d) of 2: (--bin|--against) (\S+)$`).FindAllStringSubmatch(report, -1)
	want := [][2]string{{"1", bin}, {"1", other}, {"2", other}, {"2", bin}}
	if len(headers) != len(want) {
		t.Fatalf("%d runs announced, want 4 (two rounds of two binaries)", len(headers))
	}
	for i, h := range headers {
		if h[1] != want[i][0] || h[3] != want[i][1] {
			t.Errorf("run %d is round %s of %s, want round %s of %s", i+1, h[1], h[3], want[i][0], want[i][1])
		}
	}
	if n := strings.Count(report, "result: 0 errors, 0 lost or duplicated turns"); n != 4 {
		t.Errorf("%d clean results, want one for each of the 4 runs", n)
	}
	summary, ok := strings.CutPrefix(report[strings.Index(report, "\nsummary of 2 rounds"):], "\n")
	if !ok {
		t.Fatal("no summary after the runs")
	}
	for _, name := range []string{"server CPU per turn", "server-added p50", "server-added p99", "turn 1 server-added p99"} {
		block := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\n  --bin +([0-9.]+) +([0-9.]+) +median +([0-9.]+)\n  --against +([0-9.]+) +([0-9.]+) +median +([0-9.]+)\n  --bin/--against [0-9.]+; --bin lower in [0-2] of 2 rounds\n`).FindStringSubmatch(summary)
		if block == nil {
			t.Errorf("the summary has no %q block with two rounds, medians and a ratio", name)
			continue
		}
		for _, side := range [][]string{block[1:4], block[4:7]} {
			// Each is printed to 0.01 ms: the mean of two printed values and
			// the printed median of the values themselves differ by at most
			// 0.01.
			if mid := (atof(t, side[0]) + atof(t, side[1])) / 2; abs(mid-atof(t, side[2])) > 0.011 {
				t.Errorf("%s: the median of %s and %s is given as %s", name, side[0], side[1], side[2])
			}
		}
	}
}

// TestRoundsSummaryFigures checks the summary's arithmetic on figures
// made up for it: the median of an odd and of an even count, the ratio
// of the medians and the rounds in which --bin was lower.
func TestRoundsSummaryFigures(t *testing.T) {
	f := func(cpu, p99 float64) sessionsFigures {
		return sessionsFigures{cpuPerTurn: time.Duration(cpu * float64(time.Millisecond)), addedP50: time.Millisecond,
			addedP99: time.Duration(p99 * float64(time.Millisecond)), firstP99: 2 * time.Millisecond}
	}
	var b strings.Builder
	printRoundsSummary(&b, []*benchSide{
		{label: "--bin", bin: "new", runs: []sessionsFigures{f(3, 150), f(2.5, 210), f(4, 160)}},
		{label: "--against", bin: "old", runs: []sessionsFigures{f(3.2, 140), f(3.5, 200), f(5, 180)}},
	})
	got := b.String()
	for _, want := range []string{
		"summary of 3 rounds",
		"server CPU per turn:\n  --bin         3.00    2.50    4.00   median    3.00\n  --against     3.20    3.50    5.00   median    3.50\n  --bin/--against 0.86; --bin lower in 3 of 3 rounds\n",
		"server-added p99:\n  --bin       150.00  210.00  160.00   median  160.00\n  --against   140.00  200.00  180.00   median  180.00\n  --bin/--against 0.89; --bin lower in 1 of 3 rounds\n",
		"server-added p50:\n  --bin         1.00    1.00    1.00   median    1.00\n  --against     1.00    1.00    1.00   median    1.00\n  --bin/--against 1.00; --bin lower in 0 of 3 rounds\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the summary lacks\n%s\ngot:\n%s", want, got)
		}
	}
	if m := median([]time.Duration{4, 1, 3, 2}); m != 2 {
		t.Errorf("median of 1..4 = %d, want 2 (the mean of 2 and 3, rounded down)", m)
	}
	if m := median([]time.Duration{10, 40, 20, 30}); m != 25 {
		t.Errorf("median of 10..40 = %d, want 25", m)
	}
}

// TestBenchSessionsRoundsFlags: flags that cannot work are refused before
// anything runs, in words.
func TestBenchSessionsRoundsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rounds", "-1"}, "--rounds must be at least 1"},
		{[]string{"--against", filepath.Join(t.TempDir(), "missing")}, "--against: stat"},
		{[]string{"--against", t.TempDir()}, "is not an executable file"},
		{[]string{"--rounds", "2", "--cpu-profile", "p.prof"}, "--cpu-profile profiles one run"},
	} {
		var out, errOut syncBuffer
		err := run(context.Background(), append([]string{"bench", "sessions"}, tc.args...), []string{"PATH=" + os.Getenv("PATH")}, nil, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestRoundsDefault: with --against, an even number of rounds by default,
// so the alternation puts each binary first equally often; one without.
func TestRoundsDefault(t *testing.T) {
	if n := roundsOrDefault(0, "/old/socratic"); n%2 != 0 || n < 2 {
		t.Errorf("--against without --rounds runs %d rounds, want an even number of at least 2", n)
	}
	if n := roundsOrDefault(0, ""); n != 1 {
		t.Errorf("one binary without --rounds runs %d rounds, want 1", n)
	}
	if n := roundsOrDefault(3, "/old/socratic"); n != 3 {
		t.Errorf("--rounds 3 runs %d rounds", n)
	}
}
