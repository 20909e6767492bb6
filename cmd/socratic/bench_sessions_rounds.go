package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// benchSide is one binary of a comparison and its runs' figures.
type benchSide struct {
	label, bin string
	runs       []sessionsFigures
}

// benchSessionsRounds runs the bench o.rounds times, and with --against
// as many times again with that binary, alternating: --bin then --against
// in odd rounds, the other way round in even ones, so a machine that
// slows down or speeds up over the rounds weighs on both alike. One run
// says little on a shared machine (the same binary's CPU per turn and p99
// vary by a fifth from run to run); the summary gives each binary's
// medians, their ratio, and in how many rounds --bin came out lower.
// Every run is reported in full first, and a run that fails its checks
// stops the rounds with its error.
func benchSessionsRounds(ctx context.Context, o sessionsBenchOptions, w io.Writer) error {
	sides := []*benchSide{{label: "--bin", bin: o.bin}}
	if o.against != "" {
		sides = append(sides, &benchSide{label: "--against", bin: o.against})
	}
	for r := range o.rounds {
		order := slices.Clone(sides)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, sd := range order {
			fmt.Fprintf(w, "\n=== round %d of %d: %s %s\n", r+1, o.rounds, sd.label, sd.bin)
			run := o
			run.bin = sd.bin
			var f sessionsFigures
			if err := benchSessionsOnce(ctx, run, w, &f); err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, sd.label, err)
			}
			sd.runs = append(sd.runs, f)
		}
	}
	printRoundsSummary(w, sides)
	return nil
}

// roundsFigures are the figures the summary compares, by name.
var roundsFigures = []struct {
	name string
	of   func(sessionsFigures) time.Duration
}{
	{"server CPU per turn", func(f sessionsFigures) time.Duration { return f.cpuPerTurn }},
	{"server-added p50", func(f sessionsFigures) time.Duration { return f.addedP50 }},
	{"server-added p99", func(f sessionsFigures) time.Duration { return f.addedP99 }},
	{"turn 1 server-added p99", func(f sessionsFigures) time.Duration { return f.firstP99 }},
}

// printRoundsSummary writes each figure's value in every round, its
// median per binary and, with two binaries, the ratio of the medians
// (--bin over --against) and the rounds in which --bin was lower.
func printRoundsSummary(w io.Writer, sides []*benchSide) {
	n := len(sides[0].runs)
	fmt.Fprintf(w, "\nsummary of %d rounds (ms; medians over the rounds", n)
	if len(sides) > 1 {
		fmt.Fprint(w, "; the two binaries alternated, --bin first in odd rounds")
	}
	fmt.Fprintln(w, ")")
	for _, sd := range sides {
		fmt.Fprintf(w, "  %s: %s\n", sd.label, sd.bin)
	}
	for _, fig := range roundsFigures {
		fmt.Fprintf(w, "%s:\n", fig.name)
		medians := make([]float64, len(sides))
		for i, sd := range sides {
			vals := make([]time.Duration, len(sd.runs))
			fmt.Fprintf(w, "  %-10s", sd.label)
			for r, f := range sd.runs {
				vals[r] = fig.of(f)
				fmt.Fprintf(w, " %7.2f", ms(vals[r]))
			}
			medians[i] = ms(median(vals))
			fmt.Fprintf(w, "   median %7.2f\n", medians[i])
		}
		if len(sides) == 2 {
			lower := 0
			for r := range n {
				if fig.of(sides[0].runs[r]) < fig.of(sides[1].runs[r]) {
					lower++
				}
			}
			ratio := "-"
			if medians[1] > 0 {
				ratio = fmt.Sprintf("%.2f", medians[0]/medians[1])
			}
			fmt.Fprintf(w, "  --bin/--against %s; --bin lower in %d of %d rounds\n", ratio, lower, n)
		}
	}
}

// median is the middle value (the mean of the two middle ones for an even
// count; 0 for none): of durations here, of milliseconds in the browser
// benchmarks.
func median[T ~int64 | ~float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
