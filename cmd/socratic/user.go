package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/errs"
	"golang.org/x/term"
)

func userCmd(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: socratic user create --role R --email E --username U [--full-name N]")
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "student, professor or admin")
	email := fs.String("email", "", "email address")
	username := fs.String("username", "", "username")
	fullName := fs.String("full-name", "", "full name (optional)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return errors.New("--role must be student, professor or admin")
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}

	cfg, err := loadConfigAnyEngine(environ)
	if err != nil {
		return err
	}
	d, err := openDeps(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer d.close()
	u, err := d.auth.CreateUser(ctx, nil, auth.NewUser{Email: *email, Username: *username, Password: password, FullName: *fullName, Role: r})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created %s %s (id %d, %s)\n", u.Role, u.Username, u.ID, u.Email)
	return nil
}

// describe spells out every field error of a validation failure.
func describe(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+" "+f.Message)
	}
	return errors.New(strings.Join(parts, "; "))
}

// readPassword prompts (twice, without echo) on a terminal; otherwise it
// reads the first line of stdin, so scripts can pipe a password in.
func readPassword(stdin io.Reader, prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(prompt, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(prompt, "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords do not match")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on stdin")
	}
	return line, nil
}
