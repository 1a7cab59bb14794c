package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit, kept so that the same documents
// are accepted.
const maxDepth = 10000

// parser is Decode's single-pass JSON reader. It accepts exactly what
// encoding/json accepts and produces what the json.Decoder token walk
// produced before it (see decodeTokens in the tests), ten times faster:
// the token API allocates and re-scans per token, which made loading a
// stored history of 10,000 entries take seconds.
type parser struct {
	data  []byte
	i     int
	depth int
}

func parse(data []byte) (any, error) {
	p := parser{data: data}
	p.ws()
	if p.i == len(p.data) {
		return nil, io.ErrUnexpectedEOF
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.data) {
		return nil, errors.New("invalid character after top-level value")
	}
	return v, nil
}

func (p *parser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) fail(what string) error {
	if p.i >= len(p.data) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("invalid character %q %s (offset %d)", p.data[p.i], what, p.i)
}

func (p *parser) value() (any, error) {
	if p.i >= len(p.data) {
		return nil, io.ErrUnexpectedEOF
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.fail("looking for beginning of value")
}

func (p *parser) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if p.i >= len(p.data) {
			return io.ErrUnexpectedEOF
		}
		if p.data[p.i] != lit[j] {
			return p.fail("in literal " + lit)
		}
		p.i++
	}
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errors.New("exceeded max depth")
	}
	return nil
}

func (p *parser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // {
	o := NewObject()
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		p.depth--
		return o, nil
	}
	for {
		p.ws()
		if p.i >= len(p.data) {
			return nil, io.ErrUnexpectedEOF
		}
		if p.data[p.i] != '"' {
			return nil, p.fail("looking for beginning of object key string")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.data) {
			return nil, io.ErrUnexpectedEOF
		}
		if p.data[p.i] != ':' {
			return nil, p.fail("after object key")
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		o.Set(k.(string), v)
		p.ws()
		if p.i >= len(p.data) {
			return nil, io.ErrUnexpectedEOF
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return o, nil
		default:
			return nil, p.fail("after object key:value pair")
		}
	}
}

func (p *parser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.i++ // [
	a := []any{}
	p.ws()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		p.depth--
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.data) {
			return nil, io.ErrUnexpectedEOF
		}
		switch p.data[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return a, nil
		default:
			return nil, p.fail("after array element")
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (p *parser) number() (any, error) {
	start := p.i
	d := p.data
	if d[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i >= len(d):
		return nil, io.ErrUnexpectedEOF
	case d[p.i] == '0':
		p.i++
	case isDigit(d[p.i]):
		for p.i < len(d) && isDigit(d[p.i]) {
			p.i++
		}
	default:
		return nil, p.fail("in numeric literal")
	}
	isInt := true
	if p.i < len(d) && d[p.i] == '.' {
		isInt = false
		p.i++
		if p.i >= len(d) {
			return nil, io.ErrUnexpectedEOF
		}
		if !isDigit(d[p.i]) {
			return nil, p.fail("after decimal point in numeric literal")
		}
		for p.i < len(d) && isDigit(d[p.i]) {
			p.i++
		}
	}
	if p.i < len(d) && (d[p.i] == 'e' || d[p.i] == 'E') {
		isInt = false
		p.i++
		if p.i < len(d) && (d[p.i] == '+' || d[p.i] == '-') {
			p.i++
		}
		if p.i >= len(d) {
			return nil, io.ErrUnexpectedEOF
		}
		if !isDigit(d[p.i]) {
			return nil, p.fail("in exponent of numeric literal")
		}
		for p.i < len(d) && isDigit(d[p.i]) {
			p.i++
		}
	}
	s := string(d[start:p.i])
	if isInt {
		return json.Number(s), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, err
	}
	return Float(f), nil
}

// str reads a string at p.i (which is '"') with encoding/json's rules:
// control characters are errors, invalid UTF-8 and unpaired surrogates
// become U+FFFD.
func (p *parser) str() (any, error) {
	d := p.data
	start := p.i + 1
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.i = i + 1
			return string(d[start:i]), nil
		}
		if c == '\\' || c < ' ' || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	// Slow path: escapes or non-ASCII.
	b := make([]byte, 0, i-start+16)
	b = append(b, d[start:i]...)
	for {
		if i >= len(d) {
			return nil, io.ErrUnexpectedEOF
		}
		c := d[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(b), nil
		case c < ' ':
			p.i = i
			return nil, p.fail("in string literal")
		case c == '\\':
			i++
			if i >= len(d) {
				return nil, io.ErrUnexpectedEOF
			}
			switch d[i] {
			case '"', '\\', '/':
				b = append(b, d[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(d, i+1)
				if !ok {
					p.i = min(i+1, len(d))
					if i+5 > len(d) {
						return nil, io.ErrUnexpectedEOF
					}
					return nil, errors.New("invalid character in \\u hexadecimal character escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A valid pair is consumed whole; otherwise U+FFFD, and
					// the next escape is read on its own.
					if i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'u' {
						if r2, ok := hex4(d, i+3); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								i += 7
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				p.i = i
				return nil, p.fail("in string escape code")
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			b = utf8.AppendRune(b, r) // invalid bytes → U+FFFD
			i += size
		}
	}
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
