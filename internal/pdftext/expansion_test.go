package pdftext

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// nestedForms is a one-page PDF that draws fanout^depth copies of a line
// of text through nested Form XObjects. Its cross-reference table is left
// for qpdf to rebuild.
func nestedForms(depth, fanout int) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.7\n")
	obj := func(n int, s string) { fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, s) }
	stream := func(dict, body string) string {
		return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(body), body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(3, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X%d %d 0 R >> >> /Contents 4 0 R >>", depth, 10+depth))
	obj(4, stream("", fmt.Sprintf("/X%d Do", depth)))
	obj(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	form := "/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
	obj(10, stream(form+"/Resources << /Font << /F1 5 0 R >> >>", "BT /F1 10 Tf 20 700 Td ("+strings.Repeat("Negligence ", 14)+") Tj ET"))
	for i := 1; i <= depth; i++ {
		obj(10+i, stream(form+fmt.Sprintf("/Resources << /XObject << /X%d %d 0 R >> >>", i-1, 10+i-1), strings.Repeat(fmt.Sprintf("/X%d Do ", i-1), fanout)))
	}
	b.WriteString("trailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return []byte(b.String())
}

// qpdf rewrites a file: compressed streams, objects packed in object
// streams, resources moved out to objects of their own, as real
// producers write them.
func qpdf(t *testing.T, data []byte, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.QPDF(t), append(args, in, out)...)
	if msg, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != 3 { // 3: warnings
		t.Fatalf("qpdf %v: %v %s", args, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var packings = [][]string{
	{"--object-streams=disable", "--stream-data=uncompress"},
	{"--object-streams=generate", "--compress-streams=y"},
}

// TestNestedFormsAreMeasuredBeforeLoading: a page that draws a form within
// a form is judged by its expansion however the file is packed, and the
// depth-3 bomb the character budget already stops in PDFium stays below it.
func TestNestedFormsAreMeasuredBeforeLoading(t *testing.T) {
	testenv.QPDF(t)
	for _, c := range []struct{ depth, fanout int }{{4, 10}, {5, 10}, {8, 4}, {16, 2}} {
		for _, pk := range packings {
			bomb := qpdf(t, nestedForms(c.depth, c.fanout), pk...)
			if !overExpanded(bomb) {
				t.Errorf("depth %d × %d packed %v (%d bytes): not judged over-expanded, pages %v", c.depth, c.fanout, pk, len(bomb), pageRepeats(bomb))
			}
		}
	}
	// A page's own content, and a form drawn once, are not repeats.
	if r := pageRepeats(qpdf(t, nestedForms(1, 1), packings[1]...)); len(r) != 1 || r[0] != 0 {
		t.Errorf("one form drawn once: repeats %v", r)
	}
	small := qpdf(t, nestedForms(2, 10), packings[1]...)
	if r := pageRepeats(small); len(r) != 1 || r[0] < 100*150 || overExpanded(small) {
		t.Errorf("depth 2 × 10 (a hundred lines): repeats %v", r)
	}
}

// TestCorpusIsNotOverExpanded: no real reading, as published or repacked,
// is refused by the expansion scan, and the scan finds every page (it did
// not pass them by failing to read the file).
func TestCorpusIsNotOverExpanded(t *testing.T) {
	testenv.QPDF(t)
	for _, path := range corpusFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(testenv.QPDF(t), "--show-npages", path)
		out, err := cmd.Output()
		if err != nil && cmd.ProcessState.ExitCode() != 3 { // 3: warnings
			t.Fatalf("qpdf --show-npages %s: %v", path, err)
		}
		pages, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		for i, d := range [][]byte{data, qpdf(t, data, packings[1]...)} {
			r := pageRepeats(d)
			if len(r) != pages || overExpanded(d) {
				most := 0
				for _, x := range r {
					most = max(most, x)
				}
				t.Errorf("%s (packing %d): %d of %d pages seen, most repeated %d bytes, over-expanded %v", filepath.Base(path), i, len(r), pages, most, overExpanded(d))
			}
		}
	}
}

// FuzzOverExpanded: the pre-scan reads untrusted bytes before PDFium does,
// so whatever they are it must return (no panic, no runaway) — plain
// `go test` runs the seeds; `go test -fuzz FuzzOverExpanded` explores.
func FuzzOverExpanded(f *testing.F) {
	f.Add(nestedForms(3, 10))
	f.Add(nestedForms(5, 4))
	f.Add([]byte("%PDF-1.7\n1 0 obj\n<< /Type /Page /Contents [2 0 R 2 0 R] /Resources << /XObject << /X 1 0 R >> >> >>\nendobj\n2 0 obj\n<< /Length 5 /Filter /FlateDecode >>\nstream\n/X Do\nendstream\nendobj\n"))
	f.Add([]byte("3 0 obj << /Type /ObjStm /N 2 /First 4 /Length 9 >> stream\n1 0 2 5 [[[[<<\nendstream endobj"))
	f.Fuzz(func(t *testing.T, data []byte) {
		overExpanded(data)
	})
}

// TestScanWorkIsBounded: a file built to make the pre-scan quadratic
// (thousands of pages, each drawing every one of thousands of forms
// through one shared content stream, and unterminated values after every
// object header) is given up on, failing open, instead of scanned for
// minutes.
func TestScanWorkIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("%PDF-1.7\n")
	const pages, forms = 3000, 3000
	var xo, do strings.Builder
	for i := 0; i < forms; i++ {
		fmt.Fprintf(&xo, "/F%d %d 0 R ", i, 100000+i)
		fmt.Fprintf(&do, "/F%d Do ", i)
	}
	fmt.Fprintf(&b, "1 0 obj << /XObject << %s >> >> endobj\n", xo.String())
	fmt.Fprintf(&b, "2 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", do.Len(), do.String())
	for i := 0; i < forms; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Subtype /Form /Length 2 >> stream\nq \nendstream endobj\n", 100000+i)
	}
	for i := 0; i < pages; i++ {
		fmt.Fprintf(&b, "%d 0 obj << /Type /Page /Resources 1 0 R /Contents 2 0 R >> endobj\n", 10+i)
	}
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "%d 0 obj [ ", 200000+i)
	}
	data := []byte(b.String())
	if f := scanObjects(data); f.steps == 0 {
		t.Fatal("the scan counted no work")
	}
	if got := pageRepeats(data); got != nil {
		t.Errorf("a scan past its work budget judged %d pages instead of failing open", len(got))
	}
}
