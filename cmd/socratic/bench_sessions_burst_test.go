package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// TestBurstFigures: the burst runs from the barrier's sample to the first
// sample taken at or after the last turn 1 reached the model; its CPU is
// the difference between those two samples, and the machine's busy share
// the busy ticks over all ticks between them. A burst that outlasts the
// samples, or that never was, is not measured rather than cut short.
func TestBurstFigures(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	samples := []cpuSample{
		{at: at(0), servers: 1000 * time.Millisecond, self: 500 * time.Millisecond, busyTicks: 100, ticks: 400},
		{at: at(10), servers: 1010 * time.Millisecond, self: 510 * time.Millisecond, busyTicks: 102, ticks: 402},
		{at: at(20), servers: 1030 * time.Millisecond, self: 520 * time.Millisecond, busyTicks: 106, ticks: 406},
		{at: at(30), servers: 1050 * time.Millisecond, self: 530 * time.Millisecond, busyTicks: 109, ticks: 410},
	}
	f, ok := burst(samples, at(15))
	if !ok {
		t.Fatal("a burst ending between two samples was not measured")
	}
	// Up to the sample at 20 ms, the first not before 15 ms.
	if f.window != 15*time.Millisecond || f.covered != 20*time.Millisecond {
		t.Errorf("window %s over %s, want 15ms over 20ms", f.window, f.covered)
	}
	if f.servers != 30*time.Millisecond || f.self != 20*time.Millisecond {
		t.Errorf("servers %s, bench %s; want 30ms and 20ms", f.servers, f.self)
	}
	if f.busy != 1 {
		t.Errorf("busy %.2f, want 1 (6 busy ticks of 6)", f.busy)
	}
	if f, _ := burst(samples, at(30)); f.covered != 30*time.Millisecond || f.busy != 0.9 {
		t.Errorf("a burst ending on a sample: covered %s, busy %.2f; want 30ms and 0.90 (9 of 10 ticks)", f.covered, f.busy)
	}
	for name, end := range map[string]time.Time{
		"after the last sample":  at(31),
		"no turn 1 at the model": {},
		"before the barrier":     at(-5),
	} {
		if _, ok := burst(samples, end); ok {
			t.Errorf("%s: measured, want not measured", name)
		}
	}
	if _, ok := burst(samples[:1], at(5)); ok {
		t.Error("one sample: measured, want not measured")
	}
	samples[3].machineReadFailed = true
	if f, _ := burst(samples, at(25)); f.busy >= 0 {
		t.Errorf("busy %.2f with /proc/stat unread, want unknown (negative)", f.busy)
	}

	var out bytes.Buffer
	printBurst(&out, burstFigures{window: 15 * time.Millisecond, covered: 20 * time.Millisecond, servers: 30 * time.Millisecond, self: 20 * time.Millisecond, busy: 0.94}, true, 2, false)
	for _, want := range []string{"15 ms from the start barrier", "2 CPUs were 94% busy", "the server 30 ms of CPU", "(clients and fake model) 20 ms"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the burst's line %q does not say %q", out.String(), want)
		}
	}
	out.Reset()
	printBurst(&out, burstFigures{window: time.Millisecond, covered: time.Millisecond, busy: -1}, true, 2, true)
	for _, want := range []string{"CPUs were of unknown use", "the servers 0 ms", "(clients, fake model and proxy)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("with instances behind the proxy, the burst's line %q does not say %q", out.String(), want)
		}
	}
	out.Reset()
	printBurst(&out, burstFigures{}, false, 2, false)
	if !strings.Contains(out.String(), "not measured") {
		t.Errorf("an unmeasured burst reads %q", out.String())
	}
}

// TestMachineTicks reads this machine's /proc/stat: busy time is part of
// all time, and both grow while this process works.
func TestMachineTicks(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat: not Linux")
	}
	busy, total, err := machineTicks()
	if err != nil {
		t.Fatal(err)
	}
	if busy <= 0 || busy > total {
		t.Fatalf("busy %d of %d ticks", busy, total)
	}
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
	}
	busy2, total2, err := machineTicks()
	if err != nil {
		t.Fatal(err)
	}
	if busy2 <= busy || total2 <= total {
		t.Errorf("after 50 ms of work: busy %d → %d, total %d → %d; want both to grow", busy, busy2, total, total2)
	}
	if procCPU(os.Getpid()) <= 0 {
		t.Errorf("this process's CPU from /proc reads %s", procCPU(os.Getpid()))
	}
}

// TestBurstSamplerStopsWhenOver: the sampler takes the barrier's sample at
// once, and when the burst is over takes one last sample and stops,
// rather than reading /proc for the rest of burstFor.
func TestBurstSamplerStopsWhenOver(t *testing.T) {
	over := make(chan struct{})
	started := time.Now()
	s := startBurstSampler([]int{os.Getpid()}, over)
	returned := time.Now()
	time.Sleep(3 * burstEvery)
	closed := time.Now()
	close(over)
	<-s.done // at the latest after burstFor
	samples := s.finish()
	if first := samples[0].at; first.Before(started) || first.After(returned) {
		t.Errorf("the first sample was not taken by startBurstSampler itself (the barrier's)")
	}
	last := samples[len(samples)-1]
	if last.at.Before(closed) {
		t.Errorf("the last sample is from before the burst was over")
	}
	if max := int(burstFor / burstEvery / 2); len(samples) > max {
		t.Errorf("%d samples: the sampler went on after the burst was over (burstFor would give about %d)", len(samples), burstFor/burstEvery)
	}
	if last.servers <= 0 || last.self <= 0 || last.ticks <= 0 {
		t.Errorf("the last sample read nothing: %+v", last)
	}
}
