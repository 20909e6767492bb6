package testenv

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// copied are the folders of testdata that are copies of ../shared, each
// with what is left out of the copy on purpose.
var copied = map[string][]string{
	"corpus": nil,
	// 90 MB of random weights: scripts/make-random-minilm makes it.
	"models": {"minilm-l6-random.onnx"},
}

// TestTestdataMatchesShared: every file the tests read from testdata is
// byte for byte its source in ../shared, and nothing of ../shared's corpus
// and models is missing from the copy, save what copied leaves out.
func TestTestdataMatchesShared(t *testing.T) {
	shared := SharedFile(t)
	n := 0
	for dir, omitted := range copied {
		ours := listFiles(t, Path(dir))
		theirs := listFiles(t, filepath.Join(shared, dir))
		for _, f := range theirs {
			if !slices.Contains(ours, f) && !slices.Contains(omitted, filepath.Base(f)) {
				t.Errorf("../shared/%s/%s is not copied into testdata/%s", dir, f, dir)
			}
		}
		for _, f := range ours {
			if !slices.Contains(theirs, f) {
				t.Errorf("testdata/%s/%s has no source in ../shared/%s", dir, f, dir)
				continue
			}
			if a, b := sum(t, Path(dir, f)), sum(t, filepath.Join(shared, dir, f)); a != b {
				t.Errorf("testdata/%s/%s differs from ../shared/%s/%s (sha256 %x, source %x)", dir, f, dir, f, a, b)
			}
			n++
		}
	}
	// The contract the route checks read.
	if a, b := sum(t, Path("contract", "API.md")), sum(t, filepath.Join(shared, "API.md")); a != b {
		t.Errorf("testdata/contract/API.md differs from ../shared/API.md (sha256 %x, source %x): copy it again", a, b)
	}
	n++
	if n < 23 {
		t.Errorf("compared only %d files", n)
	}
	t.Logf("%d files identical to ../shared", n)
}

// TestCorpusAndModelsAreInTheRepository: what the suite reads is in the
// repository itself, whether or not ../shared is there.
func TestCorpusAndModelsAreInTheRepository(t *testing.T) {
	pdfs, err := filepath.Glob(filepath.Join(Corpus(), "*.pdf"))
	if err != nil || len(pdfs) < 16 {
		t.Errorf("corpus: %d PDFs in %s (%v)", len(pdfs), Corpus(), err)
	}
	for _, p := range []string{QA(), CorpusPDF("MANIFEST.md"), filepath.Join(Models(), "tiny-bert.onnx"), filepath.Join(Models(), "tiny-bert-reference.json"), filepath.Join(Models(), "all-minilm-l6-v2-tokenizer.json")} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestMissingSkipsOrFails(t *testing.T) {
	for _, require := range []string{"", "1"} {
		t.Setenv("SOCRATIC_REQUIRE_TOOLS", require)
		ft := &fakeT{}
		func() {
			defer func() { recover() }()
			Tool(ft, "socratic-no-such-tool", "apt-get install nothing")
		}()
		want := "needs socratic-no-such-tool: apt-get install nothing"
		if require == "1" {
			want += " (SOCRATIC_REQUIRE_TOOLS=1, so this is a failure, not a skip)"
		}
		if ft.skipped == (require == "1") || ft.failed != (require == "1") || ft.msg != want {
			t.Errorf("SOCRATIC_REQUIRE_TOOLS=%q: skipped %v, failed %v, %q", require, ft.skipped, ft.failed, ft.msg)
		}
	}
}

// fakeT records what Missing does; its Skipf and Fatalf stop the caller
// with a panic, as the real ones stop the goroutine.
type fakeT struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	panic("skip")
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	panic("fatal")
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// TestPostgres: each call gives a database of its own, empty and writable,
// and it is gone once its test ends.
func TestPostgres(t *testing.T) {
	server := PostgresServer(t)
	var names []string
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			db, err := sql.Open("pgx", Postgres(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var name string
			var tables int
			if err := db.QueryRow(`SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Fatalf("database %s has %d tables, want a new empty one", name, tables)
			}
			if _, err := db.Exec(`CREATE TABLE t (x int)`); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %q: want two different ones", names)
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, n := range names {
		var left bool
		if err := admin.QueryRow(`SELECT EXISTS(SELECT 1 FROM pg_database WHERE datname = $1)`, n).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left {
			t.Errorf("database %s is still there after its test ended", n)
		}
	}
}
