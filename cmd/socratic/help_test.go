package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBinaryHelp runs the built binary as a user would: every way of asking
// for help prints usage on stdout and exits 0; a wrong word prints usage on
// stderr and exits 2.
func TestBinaryHelp(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	exec1 := func(args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir // an empty directory: help must not need a config or a database
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + dir + "/data"}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}

	ok := []struct {
		args []string
		want string // a phrase only the right usage has
	}{
		{[]string{"--help"}, "usage: socratic <command>"},
		{[]string{"-h"}, "usage: socratic <command>"},
		{[]string{"help"}, "usage: socratic <command>"},
		{[]string{"help", "serve"}, "usage: socratic serve"},
		{[]string{"help", "migrate"}, "usage: socratic migrate <command>"},
		{[]string{"help", "bench", "sessions"}, "--students N"},
		{[]string{"migrate", "--help"}, "usage: socratic migrate <command>"},
		{[]string{"bench", "-h"}, "usage: socratic bench <command>"},
		{[]string{"user", "create", "-h", "--role", "admin"}, "--full-name N"},
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		ok = append(ok,
			struct {
				args []string
				want string
			}{append(append([]string{}, words...), "--help"), "usage: socratic " + c.name},
			struct {
				args []string
				want string
			}{append([]string{"help"}, words...), "usage: socratic " + c.name},
		)
	}
	for _, tc := range ok {
		t.Run(strings.Join(tc.args, "_")+"-0", func(t *testing.T) {
			out, errOut, code := exec1(tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("stdout lacks %q:\n%s", tc.want, out)
			}
			if errOut != "" {
				t.Errorf("stderr not empty: %q", errOut)
			}
		})
	}

	bad := []struct {
		args []string
		want string
	}{
		{nil, "usage: socratic <command>"},
		{[]string{"frobnicate"}, "usage: socratic <command>"},
		{[]string{"frobnicate", "--help"}, "usage: socratic <command>"},
		{[]string{"help", "frobnicate"}, "usage: socratic <command>"},
		{[]string{"migrate", "sideways"}, "usage: socratic migrate <command>"},
		{[]string{"migrate"}, "usage: socratic migrate <command>"},
		{[]string{"bench"}, "usage: socratic bench <command>"},
		{[]string{"models", "upload"}, "usage: socratic models <command>"},
		{[]string{"user", "create", "--nickname", "x"}, "-full-name"},
		{[]string{"bench", "search", "--queries", "many"}, "-per-week"},
		{[]string{"serve", "8080"}, "serve takes no arguments"},
		{[]string{"backup"}, "backup needs --to DIR"},
		{[]string{"restore", "--from"}, "flag needs an argument"},
		{[]string{"restore", "--from", "b", "extra"}, "restore takes no arguments besides --from"},
		{[]string{"healthcheck", "--timeout", "soon"}, "-timeout"},
	}
	for _, tc := range bad {
		t.Run(strings.Join(tc.args, "_")+"-2", func(t *testing.T) {
			out, errOut, code := exec1(tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, errOut)
			}
		})
	}
}

// TestHelpNamesEveryFlag keeps the help table and the flag sets in step:
// each subcommand's flag set, shown an unknown flag, lists its flags, and
// every one of them must be in that command's help.
func TestHelpNamesEveryFlag(t *testing.T) {
	flagLine := regexp.MustCompile(`(?m)^  -(\S+)`)
	for _, c := range commands {
		args := append(strings.Fields(c.name), "--no-such-flag")
		var stderr syncBuffer
		err := run(context.Background(), args, []string{"DATA_DIR=" + t.TempDir()}, strings.NewReader(""), &syncBuffer{}, &stderr)
		if err == nil {
			t.Errorf("%s accepted --no-such-flag", c.name)
		}
		for _, m := range flagLine.FindAllStringSubmatch(stderr.String(), -1) {
			if !strings.Contains(c.usage, "--"+m[1]+" ") && !strings.Contains(c.usage, "--"+m[1]+"\n") && !strings.HasSuffix(c.usage, "--"+m[1]) {
				t.Errorf("help for %q does not mention --%s", c.name, m[1])
			}
		}
	}
}
