package tutor

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

var updatePDF = flag.Bool("update-contracts-pdf", false, "rewrite testdata/themes/contracts-reading.pdf from its text")

// textPDF lays plain text out as a letter-size PDF in 10-point Helvetica:
// paragraphs (separated by blank lines) wrapped at 90 characters, 52
// lines a page. The output depends only on the text, so the committed
// PDF can be checked against its source.
func textPDF(text string) []byte {
	const perLine, perPage = 90, 52
	var lines []string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > perLine {
				lines = append(lines, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		lines = append(lines, line, "")
	}
	var pages [][]string
	for len(lines) > 0 {
		n := min(perPage, len(lines))
		pages = append(pages, lines[:n])
		lines = lines[n:]
	}
	esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	var buf bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, buf.Len())
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	// 1 font, 2 page tree, then per page: content stream, page.
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 3+2*i+1)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Count %d /Kids [%s] >>", len(pages), strings.Join(kids, " ")))
	for _, p := range pages {
		var c strings.Builder
		c.WriteString("BT /F1 10 Tf 12.5 TL 60 740 Td\n")
		for _, l := range p {
			fmt.Fprintf(&c, "(%s) '\n", esc.Replace(l))
		}
		c.WriteString("ET")
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", c.Len(), c.String()))
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 1 0 R >> >> /Contents %d 0 R >>", len(offsets)))
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, len(offsets), xref)
	return buf.Bytes()
}

// TestContractsReadingPDFMatchesItsText: the committed contracts reading
// is the PDF textPDF makes from its committed text (go test
// ./internal/tutor -run TestContractsReadingPDF -update-contracts-pdf rewrites it).
func TestContractsReadingPDFMatchesItsText(t *testing.T) {
	src, err := os.ReadFile(testenv.Path("themes", "contracts-reading.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := textPDF(string(src))
	path := testenv.Path("themes", "contracts-reading.pdf")
	if *updatePDF {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is not what its text makes; rerun with -update-contracts-pdf", path)
	}
	if n := bytes.Count(got, []byte("/Type /Page ")); n != 2 {
		t.Errorf("the reading has %d pages, want 2", n)
	}
}
