package httpapi

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes what the test binary made for all its tests (the
// migrated template databases), so a test run leaves nothing in the temp
// folder.
func TestMain(m *testing.M) {
	code := m.Run()
	if templatePath != "" {
		os.RemoveAll(filepath.Dir(templatePath))
	}
	if pgTemplateDrop != nil {
		pgTemplateDrop()
	}
	os.Exit(code)
}
