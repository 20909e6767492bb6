package httpapi

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
)

// pdfBuilder writes small, valid PDFs for tests: objects, then a correct
// cross-reference table.
type pdfBuilder struct {
	buf     bytes.Buffer
	offsets []int
}

func (b *pdfBuilder) obj(body string) int {
	b.offsets = append(b.offsets, b.buf.Len())
	n := len(b.offsets)
	fmt.Fprintf(&b.buf, "%d 0 obj\n%s\nendobj\n", n, body)
	return n
}

func (b *pdfBuilder) stream(dict string, data []byte) int {
	b.offsets = append(b.offsets, b.buf.Len())
	n := len(b.offsets)
	fmt.Fprintf(&b.buf, "%d 0 obj\n<< %s /Length %d >>\nstream\n", n, dict, len(data))
	b.buf.Write(data)
	b.buf.WriteString("\nendstream\nendobj\n")
	return n
}

func (b *pdfBuilder) finish(root int) []byte {
	xref := b.buf.Len()
	fmt.Fprintf(&b.buf, "xref\n0 %d\n0000000000 65535 f \n", len(b.offsets)+1)
	for _, o := range b.offsets {
		fmt.Fprintf(&b.buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b.buf, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(b.offsets)+1, root, xref)
	return b.buf.Bytes()
}

// makePDF builds a PDF of n pages that all draw the given content stream
// (dict holds its filter), with the Helvetica font.
func makePDF(n int, dict string, content []byte) []byte {
	b := &pdfBuilder{}
	b.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	font := b.obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	stream := b.stream(dict, content)
	// Page objects come after the page tree, whose number is known ahead.
	pagesNum := len(b.offsets) + 1
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", pagesNum+1+i)
	}
	b.obj(fmt.Sprintf("<< /Type /Pages /Count %d /Kids [%s] >>", n, strings.Join(kids, " ")))
	for range n {
		b.obj(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pagesNum, font, stream))
	}
	root := b.obj(fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesNum))
	return b.finish(root)
}

// textPDF is a one-page PDF that says text.
func textPDF(text string) []byte {
	content := fmt.Sprintf("BT /F1 12 Tf 72 720 Td (%s) Tj ET", text)
	return makePDF(1, "", []byte(content))
}

// blankPDF has n empty pages.
func blankPDF(n int) []byte { return makePDF(n, "", []byte(" ")) }

// bombPDF is a few kilobytes whose one content stream, deflated twice,
// inflates to size bytes of zeros.
func bombPDF(size int64) []byte {
	var once bytes.Buffer
	w, _ := zlib.NewWriterLevel(&once, zlib.BestCompression)
	io.CopyN(w, zeros{}, size)
	w.Close()
	var twice bytes.Buffer
	w2, _ := zlib.NewWriterLevel(&twice, zlib.BestCompression)
	w2.Write(once.Bytes())
	w2.Close()
	return makePDF(1, "/Filter [/FlateDecode /FlateDecode]", twice.Bytes())
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
