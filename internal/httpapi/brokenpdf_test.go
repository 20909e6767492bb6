package httpapi

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// Generators of damaged and hostile PDFs: each is built from its objects so
// the test says what is wrong with it, and none depends on a file someone
// once found.

// rawObjects writes the objects (number → body) and a cross-reference table
// that points at them; xref rewrites the table's entries (nil keeps them
// true) so a test can lie in it.
func rawObjects(objs map[int]string, root string, xref func(num, off int) int) []byte {
	var buf bytes.Buffer
	buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	nums := make([]int, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	offsets := map[int]int{}
	for _, n := range nums {
		offsets[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, objs[n])
	}
	size := nums[len(nums)-1] + 1
	start := buf.Len()
	// A table with one subsection per object keeps huge object numbers from
	// making the file huge.
	buf.WriteString("xref\n0 1\n0000000000 65535 f \n")
	for _, n := range nums {
		off := offsets[n]
		if xref != nil {
			off = xref(n, off)
		}
		fmt.Fprintf(&buf, "%d 1\n%010d 00000 n \n", n, off)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %s >>\nstartxref\n%d\n%%%%EOF\n", size, root, start)
	return buf.Bytes()
}

const (
	helvetica = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	aPage     = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
	aContent  = "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (Duty of care.) Tj ET\nendstream"
)

// onePage is a sound one-page PDF's objects: 1 catalog, 2 page tree, 3 the
// page, 4 its content, 5 its font. Generators change one thing in it.
func onePage() map[int]string {
	return map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>",
		2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		3: aPage,
		4: aContent,
		5: helvetica,
	}
}

func with(objs map[int]string, changes map[int]string) map[int]string {
	for n, body := range changes {
		if body == "" {
			delete(objs, n)
		} else {
			objs[n] = body
		}
	}
	return objs
}

// brokenPDF is one damaged file and what it is. PDFium repairs some
// damage (it rebuilds a lost cross-reference table by scanning the file);
// readable says so, and those may be accepted.
type brokenPDF struct {
	name     string
	data     []byte
	readable bool
}

// brokenPDFs are the damaged files every upload must refuse with a reason
// (or accept, if PDFium can still read them), never with a 500.
func brokenPDFs() []brokenPDF {
	var out []brokenPDF
	add := func(name string, data []byte) { out = append(out, brokenPDF{name, data, false}) }
	repairable := func(name string, data []byte) { out = append(out, brokenPDF{name, data, true}) }

	// The page tree is a cycle: its one kid is itself.
	add("page-tree-self-cycle", rawObjects(map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>",
		2: "<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
	}, "1 0 R", nil))
	// Two page-tree nodes that are each other's kid.
	add("page-tree-two-cycle", rawObjects(with(onePage(), map[int]string{
		2: "<< /Type /Pages /Kids [6 0 R] /Count 1 >>",
		6: "<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
	}), "1 0 R", nil))
	// The page's kid points back up at the root of the tree and at itself.
	add("page-tree-kid-is-page-and-tree", rawObjects(with(onePage(), map[int]string{
		2: "<< /Type /Pages /Kids [3 0 R 2 0 R 3 0 R] /Count 3 >>",
	}), "1 0 R", nil))
	// A /Parent cycle: each page names the other as its parent.
	repairable("parent-cycle", rawObjects(with(onePage(), map[int]string{
		3: strings.Replace(aPage, "/Parent 2 0 R", "/Parent 6 0 R", 1),
		6: "<< /Type /Pages /Parent 3 0 R /Kids [3 0 R] /Count 1 >>",
	}), "1 0 R", nil))

	// Missing objects: no page tree, no page, no catalog.
	add("missing-page-tree", rawObjects(with(onePage(), map[int]string{2: ""}), "1 0 R", nil))
	add("missing-page", rawObjects(with(onePage(), map[int]string{3: ""}), "1 0 R", nil))
	add("missing-catalog", rawObjects(with(onePage(), map[int]string{1: ""}), "1 0 R", nil))
	add("root-is-not-a-dictionary", rawObjects(with(onePage(), map[int]string{1: "(a string)"}), "1 0 R", nil))
	add("kids-not-an-array", rawObjects(with(onePage(), map[int]string{2: "<< /Type /Pages /Kids 3 0 R /Count 1 >>"}), "1 0 R", nil))
	add("empty-page-tree", rawObjects(with(onePage(), map[int]string{2: "<< /Type /Pages /Kids [] /Count 0 >>"}), "1 0 R", nil))

	// Broken cross-reference tables.
	repairable("xref-all-zero", rawObjects(onePage(), "1 0 R", func(int, int) int { return 0 }))
	repairable("xref-past-the-end", rawObjects(onePage(), "1 0 R", func(_, off int) int { return off + 1<<30 }))
	repairable("xref-shifted", rawObjects(onePage(), "1 0 R", func(_, off int) int { return off + 7 }))
	noXref := rawObjects(onePage(), "1 0 R", nil)
	repairable("startxref-garbage", append(noXref[:bytes.LastIndex(noXref, []byte("startxref"))], "startxref\n99999999999\n%%EOF\n"...))
	add("no-trailer", noXref[:bytes.Index(noXref, []byte("xref\n"))])
	add("header-only", []byte("%PDF-1.7\n"))
	add("header-and-eof", []byte("%PDF-1.7\n%%EOF\n"))

	// Huge object and generation numbers.
	add("huge-object-numbers", rawObjects(map[int]string{
		1:          "<< /Type /Catalog /Pages 2147483646 0 R >>",
		2147483646: "<< /Type /Pages /Kids [2147483647 0 R] /Count 1 >>",
		2147483647: "<< /Type /Page /Parent 2147483646 0 R /MediaBox [0 0 612 792] >>",
	}, "1 0 R", nil))
	add("object-number-past-int32", rawObjects(with(onePage(), map[int]string{
		1: "<< /Type /Catalog /Pages 99999999999999999999 0 R >>",
	}), "1 0 R", nil))
	repairable("trailer-size-huge", bytes.Replace(rawObjects(onePage(), "1 0 R", nil), []byte("/Size 6"), []byte("/Size 2147483647"), 1))

	// The page count lies.
	add("count-a-million", rawObjects(with(onePage(), map[int]string{2: "<< /Type /Pages /Kids [3 0 R] /Count 1000000 >>"}), "1 0 R", nil))
	repairable("count-negative", rawObjects(with(onePage(), map[int]string{2: "<< /Type /Pages /Kids [3 0 R] /Count -5 >>"}), "1 0 R", nil))
	repairable("count-overflows", rawObjects(with(onePage(), map[int]string{2: "<< /Type /Pages /Kids [3 0 R] /Count 4294967297 >>"}), "1 0 R", nil))
	repairable("count-zero-with-a-kid", rawObjects(with(onePage(), map[int]string{2: "<< /Type /Pages /Kids [3 0 R] /Count 0 >>"}), "1 0 R", nil))

	// Deep nesting: a page tree ten thousand levels deep, and an array
	// nested a hundred thousand deep.
	deep := with(onePage(), nil)
	const depth = 10_000
	for i := range depth {
		n := 100 + i
		kid := n + 1
		if i == depth-1 {
			kid = 3
		}
		deep[n] = fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", kid)
	}
	deep[2] = "<< /Type /Pages /Kids [100 0 R] /Count 1 >>"
	repairable("page-tree-10000-deep", rawObjects(deep, "1 0 R", nil))
	repairable("array-100000-deep", rawObjects(with(onePage(), map[int]string{
		3: strings.Replace(aPage, "/MediaBox", "/Junk "+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+" /MediaBox", 1),
	}), "1 0 R", nil))
	repairable("dict-50000-deep", rawObjects(with(onePage(), map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R /Junk " + strings.Repeat("<< /A ", 50_000) + strings.Repeat(">> ", 50_000) + ">>",
	}), "1 0 R", nil))

	// Truncated and lying streams.
	repairable("stream-length-lies", rawObjects(with(onePage(), map[int]string{
		4: "<< /Length 100000000 >>\nstream\nBT /F1 12 Tf 72 720 Td (Duty of care.) Tj ET\nendstream",
	}), "1 0 R", nil))
	repairable("stream-without-end", rawObjects(with(onePage(), map[int]string{
		4: "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (Duty",
	}), "1 0 R", nil))
	var flate bytes.Buffer
	zw := zlib.NewWriter(&flate)
	zw.Write([]byte(strings.Repeat("BT /F1 12 Tf 72 720 Td (Duty of care.) Tj ET\n", 50)))
	zw.Close()
	cut := flate.Bytes()[:flate.Len()/2]
	repairable("flate-cut-in-half", rawObjects(with(onePage(), map[int]string{
		4: fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", len(cut), cut),
	}), "1 0 R", nil))
	repairable("flate-garbage", rawObjects(with(onePage(), map[int]string{
		4: "<< /Length 16 /Filter /FlateDecode >>\nstream\n\x78\x9c\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\nendstream",
	}), "1 0 R", nil))
	repairable("unknown-filter", rawObjects(with(onePage(), map[int]string{
		4: "<< /Length 44 /Filter /NoSuchDecode >>\nstream\nBT /F1 12 Tf 72 720 Td (Duty of care.) Tj ET\nendstream",
	}), "1 0 R", nil))
	whole := rawObjects(onePage(), "1 0 R", nil)
	add("cut-mid-object", whole[:bytes.Index(whole, []byte("4 0 obj"))+20])
	return out
}

// textBombPDF is a small PDF whose pages each draw fanout^depth copies of
// a line of text: each Form XObject draws the one below it fanout times,
// and the last draws the line. A few kilobytes make millions of characters.
func textBombPDF(pages, depth, fanout int, line string) []byte {
	objs := map[int]string{
		1: "<< /Type /Catalog /Pages 2 0 R >>",
		5: helvetica,
	}
	// 10 is the line's form, 11.. the forms above it, 4 the page content.
	form := func(body string, res string) string {
		return fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << %s >> /Length %d >>\nstream\n%s\nendstream", res, len(body), body)
	}
	objs[10] = form(fmt.Sprintf("BT /F1 10 Tf 20 700 Td (%s) Tj ET", line), "/Font << /F1 5 0 R >>")
	for i := 1; i <= depth; i++ {
		objs[10+i] = form(strings.Repeat(fmt.Sprintf("/X%d Do ", i-1), fanout), fmt.Sprintf("/XObject << /X%d %d 0 R >>", i-1, 10+i-1))
	}
	top := fmt.Sprintf("/X%d Do", depth)
	objs[4] = fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(top), top)
	kids := make([]string, pages)
	for i := range pages {
		n := 1000 + i
		kids[i] = fmt.Sprintf("%d 0 R", n)
		objs[n] = fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X%d %d 0 R >> >> /Contents 4 0 R >>", depth, 10+depth)
	}
	objs[2] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages)
	return rawObjects(objs, "1 0 R", nil)
}

// TestBrokenPDFsAreRefusedWithAReason uploads every damaged file through the
// router: an unreadable one is refused with 413/415/422 and a reason in
// words, leaving no row, job or file; a repairable one may be accepted, and
// then its ingestion ends processed or failed with a reason. Never a 500,
// and the server goes on serving.
func TestBrokenPDFsAreRefusedWithAReason(t *testing.T) {
	w := newWorldWith(t, newIngestingFixture(t, func(c *cfgT) { c.MaxUploadSize = 4 << 20 }))
	accepted := map[int64]string{}
	for _, b := range brokenPDFs() {
		docsBefore, filesBefore := w.count(t, "documents"), len(w.f.uploadsOnDisk(t))
		res := w.upload("teaching", w.week.ID, b.name+".pdf", b.data)
		switch {
		case res.status == 202 && b.readable:
			accepted[int64(res.json(t)["document_id"].(float64))] = b.name
			continue
		case res.status == 413 || res.status == 415 || res.status == 422:
		default:
			t.Errorf("%s (%d bytes): %d %s", b.name, len(b.data), res.status, res.body)
			continue
		}
		assertProblem(t, res)
		if d, _ := res.json(t)["detail"].(string); len(strings.Fields(d)) < 4 {
			t.Errorf("%s: refused without a reason in words: %q", b.name, d)
		}
		if n := w.count(t, "documents"); n != docsBefore {
			t.Errorf("%s: refused but %d document rows, was %d", b.name, n, docsBefore)
		}
		if n := len(w.f.uploadsOnDisk(t)); n != filesBefore {
			t.Errorf("%s: refused but %d files on disk, was %d", b.name, n, filesBefore)
		}
	}
	// What was accepted is read in the background to an end, not retried
	// forever or left to a 500 later.
	w.f.waitDocuments(t, 3*time.Minute)
	for id, name := range accepted {
		d := decode[Document](t, w.f.do(get("/api/documents/"+itoa(id), w.persona["teaching"])))
		if d.Status != "processed" && (d.Status != "failed" || d.Error == nil || *d.Error == "") {
			t.Errorf("%s: accepted, then %s %q", name, d.Status, strPtr(d.Error))
		}
	}
	res := w.upload("teaching", w.week.ID, "fine.pdf", textPDF("The duty of care is owed to the foreseeable plaintiff."))
	if res.status != 202 {
		t.Fatalf("a sound file after the broken ones: %d %s", res.status, res.body)
	}
}

func (w *world) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := w.f.db.Read.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// textBombs are small files made to cost seconds of PDFium's time each:
// pages of a hundred thousand characters, or many pages just under that,
// or one page of millions, which PDFium would spend all its memory and
// seconds on before a character could be counted.
func textBombs() map[string][]byte {
	line := strings.Repeat("Negligence ", 14) // 154 characters, drawn 1,000 times a page
	return map[string][]byte{
		"one-dense-page":         textBombPDF(1, 3, 10, line),
		"many-pages-under-a-cap": textBombPDF(120, 3, 9, line[:99]), // 72,171 characters a page
		"one-page-depth-4":       textBombPDF(1, 4, 10, line),
		"one-page-depth-5":       textBombPDF(1, 5, 10, line),
		"one-page-depth-8-by-4":  textBombPDF(1, 8, 4, line),
		"one-page-depth-16-by-2": textBombPDF(1, 16, 2, line),
	}
}

// TestTextBombIsRefusedByItsText: a file of a few kilobytes whose pages draw
// a form within a form until they hold millions of characters is refused
// at upload by the amount of text read (not by the 30 s deadline), with
// nothing kept, and a sound upload is served after it.
func TestTextBombIsRefusedByItsText(t *testing.T) {
	w := newWorldWith(t, newFixture(t))
	for name, bomb := range textBombs() {
		if len(bomb) > 39<<10 {
			t.Fatalf("%s is %d bytes, not small", name, len(bomb))
		}
		start := time.Now()
		res := w.upload("teaching", w.week.ID, name+".pdf", bomb)
		t.Logf("%s (%d bytes): %d in %s", name, len(bomb), res.status, time.Since(start)) // measured, not asserted
		if res.status != 422 {
			t.Fatalf("%s: %d %s", name, res.status, res.body)
		}
		assertProblem(t, res)
		if d, _ := res.json(t)["detail"].(string); !strings.Contains(d, "far more text") {
			t.Errorf("%s refused with %q, not for its text", name, d)
		}
	}
	w.assertCount(t, "documents", 0)
	w.assertCount(t, "river_job", 0)
	if files := w.f.uploadsOnDisk(t); len(files) != 0 {
		t.Errorf("files left behind: %v", files)
	}
	if res := w.upload("teaching", w.week.ID, "fine.pdf", textPDF("Res ipsa loquitur.")); res.status != 202 {
		t.Fatalf("a sound file after the bombs: %d %s", res.status, res.body)
	}
}

// BenchmarkUploadTextBomb is how long the upload of a text bomb holds its
// request before the answer.
func BenchmarkUploadTextBomb(b *testing.B) {
	w := buildWorld(b, newFixture(b))
	for name, bomb := range textBombs() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				res := w.upload("teaching", w.week.ID, name+".pdf", bomb)
				if res.status != 422 {
					b.Fatalf("%d %s", res.status, res.body)
				}
			}
		})
	}
}
