// Package browsertest starts a headless Chromium for tests, through
// chromedp. It is its own package, beside testenv, so that only the tests
// that drive a browser compile chromedp; only tests import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/lawtutor/socratic/internal/testenv"
)

// Install says how to get the browser.
const Install = "apt-get install chromium"

// Path is the browser's program: CHROMIUM_PATH if set, else the first of
// chromium, chromium-browser and google-chrome on PATH. Without one it
// calls testenv.Missing (a one-line skip, or a failure under
// SOCRATIC_REQUIRE_TOOLS=1).
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "chromium", Install)
	return ""
}

// New starts a headless browser and returns a chromedp context for one tab
// in it. The browser runs without its sandbox (tests may run as root) and
// without a GPU, keeps its profile and its temporary files (shared memory,
// with chromedp's disable-dev-shm-usage) under t.TempDir(), and is killed,
// and waited for, when the test ends, before the folder is removed.
// opts add to (or override) the browser's flags.
func New(t testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := Path(t)
	dir := t.TempDir() // registered first, so removed after the browser is gone
	profile, tmp := filepath.Join(dir, "profile"), filepath.Join(dir, "tmp")
	for _, d := range []string{profile, tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	all := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Env("TMPDIR="+tmp),
	)
	all = append(all, opts...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // kills the browser's process group and waits for it
	})
	// Start the browser now, so a browser that cannot start fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return ctx
}
