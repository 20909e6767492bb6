package main

import (
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// cpuProfileOnSignal serves SOCRATIC_CPU_PROFILE, a measuring aid for
// `socratic bench sessions --cpu-profile`: when set to a file name, the
// server starts a CPU profile on SIGUSR1 and writes it to that file on
// SIGUSR2, so a profile covers a measured run and not the setup before it.
// The returned function stops it (at shutdown).
func cpuProfileOnSignal(path string, log *slog.Logger) func() {
	if path == "" {
		return func() {}
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	done, finished := make(chan struct{}), make(chan struct{})
	var f *os.File
	stopProfile := func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
			log.Info("cpu profile written", "path", path)
		}
	}
	go func() {
		defer close(finished)
		for {
			select {
			case s := <-sig:
				switch {
				case s == syscall.SIGUSR1 && f == nil:
					var err error
					if f, err = os.Create(path); err != nil {
						log.Error("cpu profile", "err", err)
						f = nil
						continue
					}
					if err := pprof.StartCPUProfile(f); err != nil {
						log.Error("cpu profile", "err", err)
						f.Close()
						f = nil
					}
				case s == syscall.SIGUSR2:
					stopProfile()
				}
			case <-done:
				stopProfile()
				return
			}
		}
	}()
	// Stopping waits for the profile to be written: the process exits
	// right after, and a half-written profile is worse than none.
	return func() { signal.Stop(sig); close(done); <-finished }
}
