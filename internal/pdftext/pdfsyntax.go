package pdftext

import "strconv"

// A minimal reader of PDF's object syntax, enough for expansion.go: it
// never fails, it stops. Values are int, float64, pdfName, pdfString,
// []any, pdfDict, pdfRef, pdfKeyword (true, false, null, and operators).
type (
	pdfName    string
	pdfString  []byte
	pdfKeyword string
	pdfRef     int
	pdfDict    map[string]any
)

func (d pdfDict) name(key string) pdfName { n, _ := d[key].(pdfName); return n }

type pdfParser struct {
	b     []byte
	i     int
	depth int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return isSpace(c)
}

// space skips white space and comments.
func (p *pdfParser) space() {
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case isSpace(c):
			p.i++
		case c == '%':
			for p.i < len(p.b) && p.b[p.i] != '\n' && p.b[p.i] != '\r' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *pdfParser) regular() []byte {
	start := p.i
	for p.i < len(p.b) && !isDelim(p.b[p.i]) {
		p.i++
	}
	return p.b[start:p.i]
}

// value reads the next value or operator; false at the end of the data.
func (p *pdfParser) value() (any, bool) {
	p.space()
	if p.i >= len(p.b) {
		return nil, false
	}
	if p.depth > 64 {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '/':
		p.i++
		return pdfName(p.regular()), true
	case c == '(':
		return p.literal(), true
	case c == '<' && p.i+1 < len(p.b) && p.b[p.i+1] == '<':
		p.i += 2
		return p.dict(), true
	case c == '<':
		p.i++
		start := p.i
		for p.i < len(p.b) && p.b[p.i] != '>' {
			p.i++
		}
		s := pdfString(p.b[start:p.i])
		p.i = min(p.i+1, len(p.b))
		return s, true
	case c == '[':
		p.i++
		p.depth++
		var arr []any
		for {
			p.space()
			if p.i >= len(p.b) {
				break
			}
			if p.b[p.i] == ']' {
				p.i++
				break
			}
			v, ok := p.value()
			if !ok {
				break
			}
			arr = append(arr, v)
		}
		p.depth--
		return arr, true
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		p.i++ // stray delimiter: skip it
		return pdfKeyword(c), true
	}
	tok := p.regular()
	if len(tok) == 0 {
		p.i++
		return pdfKeyword(""), true
	}
	if n, err := strconv.Atoi(string(tok)); err == nil {
		// "n g R" is a reference.
		save := p.i
		p.space()
		g := p.regular()
		p.space()
		if _, err := strconv.Atoi(string(g)); err == nil && len(g) > 0 && p.i < len(p.b) && p.b[p.i] == 'R' &&
			(p.i+1 == len(p.b) || isDelim(p.b[p.i+1])) {
			p.i++
			return pdfRef(n), true
		}
		p.i = save
		return n, true
	}
	if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
		return f, true
	}
	return pdfKeyword(tok), true
}

func (p *pdfParser) dict() pdfDict {
	d := pdfDict{}
	p.depth++
	defer func() { p.depth-- }()
	for {
		p.space()
		if p.i >= len(p.b) {
			return d
		}
		if p.b[p.i] == '>' {
			p.i = min(p.i+2, len(p.b))
			return d
		}
		k, ok := p.value()
		if !ok {
			return d
		}
		key, isName := k.(pdfName)
		if !isName {
			continue
		}
		v, ok := p.value()
		if !ok {
			return d
		}
		d[string(key)] = v
	}
}

// literal reads a (string) with nested parentheses and escapes.
func (p *pdfParser) literal() pdfString {
	p.i++
	start, nest := p.i, 1
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '\\':
			p.i++
		case '(':
			nest++
		case ')':
			nest--
			if nest == 0 {
				s := pdfString(p.b[start:p.i])
				p.i++
				return s
			}
		}
		p.i++
	}
	return pdfString(p.b[start:])
}
