package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// A write that fails on a full disk, with no more particular answer than
// "internal error", is told to the client as 507 and what to do; any other
// failure stays a 500 that says nothing.
func TestProblemTellsAFullDiskFromAnInternalError(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		err    error
		status int
		words  string
	}{
		{"write-507-enospc", fmt.Errorf("create course: %w", &os.PathError{Op: "write", Path: "/data/socratic.db-wal", Err: syscall.ENOSPC}), http.StatusInsufficientStorage, "disk is full"},
		{"write-500-other", fmt.Errorf("create course: %w", &os.PathError{Op: "write", Path: "/data/socratic.db-wal", Err: syscall.EIO}), http.StatusInternalServerError, "internal error"},
	} {
		var se huma.StatusError
		if !errors.As(f.srv.problem(ctx, c.err), &se) {
			t.Fatalf("%s: not a status error", c.name)
		}
		m, _ := se.(*huma.ErrorModel)
		if se.GetStatus() != c.status || m == nil || !strings.Contains(m.Detail, c.words) || strings.Contains(m.Detail, "/data") {
			t.Errorf("%s: %d %+v, want %d saying %q (and no path)", c.name, se.GetStatus(), m, c.status, c.words)
		}
	}
}
