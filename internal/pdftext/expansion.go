package pdftext

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/hex"
	"io"
	"regexp"
	"strconv"
)

// PDFium parses every Form XObject a page draws once per time it is drawn,
// inside FPDF_LoadPage, and that call cannot be interrupted cheaply (see
// WithCloseOnContextDone in start). A form drawn ten times by a form drawn
// ten times... is a few kilobytes that PDFium spends seconds and all its
// memory on before a character can be counted. So before PDFium sees a
// page, the raw file is read here (objects, including those in object
// streams, and content streams decoded) and each page's content is
// expanded by arithmetic: the bytes PDFium would parse to load it.
//
// Only bytes drawn again count (a form's second and later drawings on a
// page): a large page, even one inflated from a tiny stream, or a page that
// places a big form once, is read by PDFium as before and judged by its
// characters or its memory cap.
// A byte of content shows at most about one character, so the limits sit
// at a few times the character limits and a refused page would have been
// refused by its text later, only after seconds instead of milliseconds.
//
// The scan fails open: what it cannot decode (an unknown filter, an object
// it cannot find) counts as nothing, and PDFium's own limits still apply.
const (
	maxPageRepeat = 4 * MaxPageChars
	// maxStreamBytes caps one decoded stream and maxScanBytes all of them,
	// so the scan cannot be made the bomb itself (a larger file is scanned
	// as far as that goes: the rest fails open).
	maxStreamBytes = 16 << 20
	maxScanBytes   = 64 << 20
	// maxScanSteps bounds the scan's own work (objects parsed, names of
	// forms followed): past it the scan gives up and fails open, so a file
	// built to make it quadratic (every page drawing every form) costs
	// milliseconds, not minutes. Real readings take a few thousand.
	maxScanSteps = 1_000_000
)

// overExpanded reports whether any page, or the pages together, would make
// PDFium parse far more repeated content than the file's text budget.
func overExpanded(data []byte) bool {
	total := 0
	for _, repeat := range pageRepeats(data) {
		total += repeat
		if repeat > maxPageRepeat || total > 4*textBudget(len(data)) {
			return true
		}
	}
	return false
}

// pageRepeats is, for each page object found, the bytes of content PDFium
// would parse again (forms drawn more than once) to load it.
func pageRepeats(data []byte) []int {
	f := scanObjects(data)
	var out []int
	for _, o := range f.objs {
		if f.steps > maxScanSteps {
			return nil // too much to judge: PDFium's own limits apply
		}
		d, ok := o.val.(pdfDict)
		if !ok || d.name("Type") != "Page" {
			continue
		}
		e := expander{f: f, memo: map[int]int{}, seen: map[int]bool{}}
		res := f.pageResources(d)
		drawn, own := 0, 0
		for _, c := range f.contents(d["Contents"]) {
			own += c.size
			drawn = satAdd(drawn, e.draws(c, res))
		}
		out = append(out, drawn-own-e.unique)
	}
	return out
}

type expander struct {
	f      *pdfObjects
	memo   map[int]int  // form object → bytes parsed when it is drawn once
	seen   map[int]bool // forms counted in unique, or being expanded
	unique int          // bytes of each form drawn on the page, once
}

// draws is the bytes parsed for content (a page's, or a form's) with the
// forms it draws, each as many times as it is drawn.
func (e *expander) draws(c summary, res pdfDict) int {
	xo, _ := e.f.resolve(res["XObject"]).(pdfDict)
	n := c.size
	for _, name := range c.draws {
		if e.f.steps++; e.f.steps > maxScanSteps {
			return n
		}
		r, ok := xo[name].(pdfRef)
		if !ok {
			continue
		}
		n = satAdd(n, e.form(int(r)))
	}
	return n
}

func (e *expander) form(num int) int {
	if v, ok := e.memo[num]; ok {
		return v
	}
	if e.seen[num] {
		return 0 // a form drawing itself: PDFium stops the cycle too
	}
	o, ok := e.f.objs[num]
	d, isDict := o.val.(pdfDict)
	if !ok || !isDict || d.name("Subtype") != "Form" {
		return 0 // images and the rest are not parsed as content
	}
	e.seen[num] = true
	content := e.f.summary(num)
	e.unique += content.size
	res, _ := e.f.resolve(d["Resources"]).(pdfDict)
	n := e.draws(content, res)
	e.memo[num] = n
	return n
}

func satAdd(a, b int) int {
	if s := a + b; s >= a && s < 1<<40 {
		return s
	}
	return 1 << 40
}

// doNames lists the XObject names a content stream draws, in order.
func doNames(content []byte) []string {
	var out []string
	var last any
	p := &pdfParser{b: content}
	for {
		v, ok := p.value()
		if !ok {
			return out
		}
		if kw, isKW := v.(pdfKeyword); isKW {
			switch kw {
			case "Do":
				if n, isName := last.(pdfName); isName {
					out = append(out, string(n))
				}
			case "ID": // inline image data: skip to its end
				if i := bytes.Index(p.b[p.i:], []byte("EI")); i >= 0 {
					p.i += i + 2
				} else {
					return out
				}
			}
		}
		last = v
	}
}

type pdfObject struct {
	val    any
	stream []byte // raw, as in the file
}

type pdfObjects struct {
	objs    map[int]pdfObject
	seen    map[int]summary
	decoded int // bytes decoded so far, against maxScanBytes
	steps   int // work done, against maxScanSteps
}

// summary is what the scan keeps of a content stream: its decoded size and
// the names it draws.
type summary struct {
	size  int
	draws []string
}

func (f *pdfObjects) summary(num int) summary {
	if s, ok := f.seen[num]; ok {
		return s
	}
	var s summary
	if f.decoded < maxScanBytes {
		b := f.decode(f.objs[num])
		f.decoded += len(b)
		s = summary{size: len(b), draws: doNames(b)}
	}
	f.seen[num] = s
	return s
}

var objHeader = regexp.MustCompile(`(\d+)\s+\d+\s+obj\b`)

// scanObjects finds every "n g obj" in the file, last one winning as in an
// incremental update, and the objects packed in object streams.
func scanObjects(data []byte) *pdfObjects {
	f := &pdfObjects{objs: map[int]pdfObject{}, seen: map[int]summary{}}
	var objStms []pdfObject
	for _, m := range objHeader.FindAllSubmatchIndex(data, -1) {
		num, err := strconv.Atoi(string(data[m[2]:m[3]]))
		if err != nil {
			continue
		}
		p := &pdfParser{b: data, i: m[1]}
		v, ok := p.value()
		// An unterminated value runs to the end of the file: many of them
		// would make this loop quadratic.
		if f.steps += 1 + (p.i-m[1])/16; f.steps > maxScanSteps {
			break
		}
		if !ok {
			continue
		}
		o := pdfObject{val: v}
		if d, isDict := v.(pdfDict); isDict {
			o.stream = streamAfter(data, p.i, d)
			if d.name("Type") == "ObjStm" {
				objStms = append(objStms, o)
			}
		}
		f.objs[num] = o
	}
	for _, s := range objStms {
		f.unpack(s)
	}
	return f
}

// streamAfter is the raw data of the stream whose dictionary ends at i.
func streamAfter(data []byte, i int, d pdfDict) []byte {
	p := &pdfParser{b: data, i: i}
	p.space()
	if !bytes.HasPrefix(data[p.i:], []byte("stream")) {
		return nil
	}
	start := p.i + len("stream")
	if start < len(data) && data[start] == '\r' {
		start++
	}
	if start < len(data) && data[start] == '\n' {
		start++
	}
	if n, ok := d["Length"].(int); ok && n >= 0 && start+n <= len(data) &&
		bytes.Contains(data[start+n:min(len(data), start+n+32)], []byte("endstream")) {
		return data[start : start+n]
	}
	if end := bytes.Index(data[start:], []byte("endstream")); end >= 0 {
		return data[start : start+end]
	}
	return data[start:]
}

func (f *pdfObjects) unpack(s pdfObject) {
	d := s.val.(pdfDict)
	body := f.decode(s)
	n, _ := d["N"].(int)
	first, _ := d["First"].(int)
	if first < 0 || first > len(body) {
		return
	}
	p := &pdfParser{b: body[:first]}
	for range n {
		num, ok1 := p.value()
		off, ok2 := p.value()
		on, okN := num.(int)
		oo, okO := off.(int)
		if !ok1 || !ok2 || !okN || !okO || first+oo >= len(body) {
			return
		}
		if _, direct := f.objs[on]; direct {
			continue
		}
		q := &pdfParser{b: body, i: first + oo}
		if v, ok := q.value(); ok {
			f.objs[on] = pdfObject{val: v}
		}
	}
}

// decode undoes the filters PDFium would; an unknown one leaves nothing.
func (f *pdfObjects) decode(o pdfObject) []byte {
	d, _ := o.val.(pdfDict)
	var filters []any
	switch v := f.resolve(d["Filter"]).(type) {
	case pdfName:
		filters = []any{v}
	case []any:
		filters = v
	}
	b := o.stream
	for _, fl := range filters {
		name, _ := f.resolve(fl).(pdfName)
		var r io.Reader
		switch name {
		case "FlateDecode", "Fl":
			z, err := zlib.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil
			}
			r = z
		case "ASCIIHexDecode", "AHx":
			h := bytes.Map(func(c rune) rune {
				if bytes.ContainsRune([]byte("0123456789abcdefABCDEF"), c) {
					return c
				}
				return -1
			}, bytes.SplitN(b, []byte(">"), 2)[0])
			if len(h)%2 == 1 {
				h = append(h, '0')
			}
			out, _ := hex.DecodeString(string(h))
			b = out
			continue
		case "ASCII85Decode", "A85":
			r = ascii85.NewDecoder(bytes.NewReader(bytes.SplitN(b, []byte("~>"), 2)[0]))
		default:
			return nil
		}
		// A truncated or damaged stream still counts what decoded.
		out, _ := io.ReadAll(io.LimitReader(r, maxStreamBytes))
		b = out
	}
	return b
}

func (f *pdfObjects) resolve(v any) any {
	for range 8 {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = f.objs[int(r)].val
	}
	return nil
}

// contents is a page's content streams.
func (f *pdfObjects) contents(v any) []summary {
	var out []summary
	add := func(x any) {
		if r, ok := x.(pdfRef); ok {
			out = append(out, f.summary(int(r)))
		}
	}
	switch c := f.resolve(v).(type) {
	case []any:
		for _, x := range c {
			add(x)
		}
	default:
		add(v)
	}
	return out
}

// pageResources are the page's own or those it inherits from its parents.
func (f *pdfObjects) pageResources(d pdfDict) pdfDict {
	for range 64 {
		if r, ok := f.resolve(d["Resources"]).(pdfDict); ok {
			return r
		}
		parent, ok := d["Parent"].(pdfRef)
		if !ok {
			return nil
		}
		d, _ = f.objs[int(parent)].val.(pdfDict)
	}
	return nil
}
