package httpapi

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
	"testing"
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
	var twice bytes.Buffer
	w, _ := zlib.NewWriterLevel(&twice, zlib.BestCompression)
	w.Write(zerosZlib(size))
	w.Close()
	return makePDF(1, "/Filter [/FlateDecode /FlateDecode]", twice.Bytes())
}

// zerosZlib is a zlib stream that inflates to n (>= 1) zero bytes, written
// by hand: compressing gigabytes through compress/flate takes minutes under
// the race detector. One final fixed-Huffman block (RFC 1951): a literal 0,
// then copies of length 258 at distance 1, then literal zeros for the rest.
func zerosZlib(n int64) []byte {
	var out bytes.Buffer
	out.Write([]byte{0x78, 0x01}) // deflate, 32 KiB window, no dictionary
	var acc uint64
	var nbits uint
	put := func(v uint64, bits uint) { // LSB-first, as DEFLATE packs bits
		acc |= v << nbits
		nbits += bits
		for nbits >= 8 {
			out.WriteByte(byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	code := func(c uint64, bits uint) { // Huffman codes go MSB-first
		var r uint64
		for i := uint(0); i < bits; i++ {
			r = r<<1 | (c>>i)&1
		}
		put(r, bits)
	}
	put(1, 1)     // BFINAL
	put(1, 2)     // BTYPE 01: fixed Huffman
	code(0x30, 8) // literal 0
	left := n - 1
	for ; left >= 258; left -= 258 {
		code(0xC5, 8) // length symbol 285 = 258
		code(0, 5)    // distance code 0 = 1
	}
	for ; left > 0; left-- {
		code(0x30, 8)
	}
	code(0, 7) // end of block
	if nbits > 0 {
		put(0, 8-nbits)
	}
	a, b := uint32(1), uint32(n%65521) // Adler-32 of n zeros
	out.Write([]byte{byte(b >> 8), byte(b), byte(a >> 8), byte(a)})
	return out.Bytes()
}

// TestZerosZlib: the hand-written stream is what it claims, checked by
// compress/zlib (which also verifies the Adler-32).
func TestZerosZlib(t *testing.T) {
	for _, n := range []int64{1, 2, 257, 258, 259, 1000, 70_000, 1<<20 + 3} {
		r, err := zlib.NewReader(bytes.NewReader(zerosZlib(n)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil || int64(len(b)) != n || bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
			t.Fatalf("n=%d: %d bytes, %v", n, len(b), err)
		}
	}
}
