package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// The first turns come all at once: every student starts a session when
// the run begins and sends turn 1 as soon as it has, so the server takes
// 200 starts and 200 first messages within a few hundred milliseconds, on
// the same CPUs as this bench's clients and fake model. Turn 1's latency
// is set there. burstSampler records, every burstEvery from the start
// barrier until the burst is over (every student has had turn 1's first
// word) or burstFor has passed, the CPU the servers and this process have
// used and the machine's busy and total time, so the report can say how
// much of the machine the burst took and whose it was. It stops then, so
// the rest of the run is not read from /proc 100 times a second.
const (
	burstEvery = 10 * time.Millisecond
	burstFor   = 3 * time.Second
)

// cpuSample is one moment of the burst: the servers' CPU (summed over the
// instances), this process's, and the machine's busy and total time over
// all its CPUs since boot, from /proc/stat (in clock ticks, 100 a second).
type cpuSample struct {
	at                time.Time
	servers, self     time.Duration
	busyTicks, ticks  int64
	machineReadFailed bool
}

type burstSampler struct {
	pids    []int
	samples []cpuSample
	stop    chan struct{}
	done    chan struct{}
}

// startBurstSampler takes a first sample now, then one every burstEvery
// until burstFor has passed, over closes (with a last sample then) or
// finish is called.
func startBurstSampler(pids []int, over <-chan struct{}) *burstSampler {
	s := &burstSampler{pids: pids, stop: make(chan struct{}), done: make(chan struct{})}
	s.samples = append(s.samples, s.take())
	go func() {
		defer close(s.done)
		t := time.NewTicker(burstEvery)
		defer t.Stop()
		end := time.After(burstFor)
		for {
			select {
			case <-t.C:
				s.samples = append(s.samples, s.take())
			case <-over:
				s.samples = append(s.samples, s.take())
				return
			case <-end:
				return
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

// finish stops the sampling and returns the samples.
func (s *burstSampler) finish() []cpuSample {
	select {
	case <-s.done:
	default:
		close(s.stop)
		<-s.done
	}
	return s.samples
}

func (s *burstSampler) take() cpuSample {
	c := cpuSample{at: time.Now(), self: selfCPU()}
	for _, pid := range s.pids {
		c.servers += procCPU(pid)
	}
	busy, total, err := machineTicks()
	c.busyTicks, c.ticks, c.machineReadFailed = busy, total, err != nil
	return c
}

// procCPU is a process's user and system CPU time so far, from
// /proc/PID/stat (0 if it cannot be read).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 a second).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) <= 12 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// machineTicks is the machine's busy and total CPU time since boot, summed
// over its CPUs, from the first line of /proc/stat: idle and iowait are
// not busy.
func machineTicks() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// burstFigures is what the machine did from the start barrier until the
// last turn 1 reached the model.
type burstFigures struct {
	window        time.Duration // start barrier → last turn 1 at the model
	covered       time.Duration // the samples' span around it
	servers, self time.Duration
	busy          float64 // of the machine's CPUs, 0–1; negative if /proc/stat was unreadable
}

// burst takes the samples around [samples[0].at, end]: the first is the
// barrier's, the last the first one taken at or after end. ok is false
// when the sampling ended before end (a burst longer than burstFor) or
// there was no turn 1 at the model.
func burst(samples []cpuSample, end time.Time) (burstFigures, bool) {
	if len(samples) < 2 || end.IsZero() || !end.After(samples[0].at) {
		return burstFigures{}, false
	}
	first := samples[0]
	for _, s := range samples[1:] {
		if s.at.Before(end) {
			continue
		}
		f := burstFigures{window: end.Sub(first.at), covered: s.at.Sub(first.at), servers: s.servers - first.servers, self: s.self - first.self, busy: -1}
		if !first.machineReadFailed && !s.machineReadFailed && s.ticks > first.ticks {
			f.busy = float64(s.busyTicks-first.busyTicks) / float64(s.ticks-first.ticks)
		}
		return f, true
	}
	return burstFigures{}, false
}

// printBurst writes the burst's line of the report.
func printBurst(w io.Writer, f burstFigures, ok bool, cpus int, proxy bool) {
	if !ok {
		fmt.Fprintf(w, "turn 1's burst: not measured (no turn 1 reached the model, or the last one came more than %s after the start)\n", burstFor)
		return
	}
	busy := "were of unknown use (/proc/stat unread)"
	if f.busy >= 0 {
		busy = fmt.Sprintf("were %.0f%% busy", 100*f.busy)
	}
	servers, bench := "the server", "clients and fake model"
	if proxy {
		servers, bench = "the servers", "clients, fake model and proxy"
	}
	fmt.Fprintf(w, "turn 1's burst: %d ms from the start barrier until the last turn 1 reached the model; over the %d ms sampled around it the machine's %d CPUs %s: %s %d ms of CPU, this bench (%s) %d ms (sampled every %d ms, in 10 ms clock ticks)\n",
		f.window.Milliseconds(), f.covered.Milliseconds(), cpus, busy, servers, f.servers.Milliseconds(), bench, f.self.Milliseconds(), burstEvery.Milliseconds())
}
