package api

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Python-flavoured text, shared by every package that must print what
// ComfyUI prints: ComfyUI's error details embed str() and repr() of
// values, so clients see "True", "None", "5.0" and "['a', 'b']".

// PyRepr returns Python's repr() of a JSON value.
func PyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// PyStr returns Python's str() of a JSON value.
func PyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return PyRepr(v)
}

// PyFloatRepr is repr(float) with NaN and infinities spelled as Python
// prints them (json.dumps writes NaN/Infinity instead).
func PyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return PyFloat(f)
}

// PyIntStr is str(int) of an integer literal (normalised: "007" is 7).
func PyIntStr(n json.Number) string {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	if b, ok := BigInt(n); ok {
		return b.String()
	}
	return string(n)
}

func writeRepr(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(PyQuote(t))
	case json.Number:
		if IsInt(t) {
			b.WriteString(PyIntStr(t))
		} else {
			f, _ := t.Float64()
			b.WriteString(PyFloatRepr(f))
		}
	case Float:
		b.WriteString(PyFloatRepr(float64(t)))
	case float64:
		b.WriteString(PyFloatRepr(t))
	case float32:
		b.WriteString(PyFloatRepr(float64(t)))
	case int, int64, int32, uint64, uint32, uint:
		fmt.Fprint(b, t)
	case *big.Int:
		b.WriteString(t.String())
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(PyQuote(x))
		}
		b.WriteByte(']')
	case *Object:
		b.WriteByte('{')
		for i, k := range t.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(PyQuote(k))
			b.WriteString(": ")
			x, _ := t.Get(k)
			writeRepr(b, x)
		}
		b.WriteByte('}')
	case fmt.Stringer:
		b.WriteString(t.String())
	default:
		fmt.Fprint(b, t)
	}
}

// PyQuote quotes s as Python's repr(str) does: single quotes unless the
// string holds a single quote and no double quote.
func PyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, "\\x%02x", s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case byte(r) == q && r < 128:
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r >= 0x80 && !unicode.IsPrint(r):
			if r <= 0xff {
				fmt.Fprintf(&b, "\\x%02x", r)
			} else if r <= 0xffff {
				fmt.Fprintf(&b, "\\u%04x", r)
			} else {
				fmt.Fprintf(&b, "\\U%08x", r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// PyTypeName is type(v).__name__ of a JSON value.
func PyTypeName(v any) string {
	switch t := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if IsInt(t) {
			return "int"
		}
		return "float"
	case Float, float64, float32:
		return "float"
	case int, int64, int32, uint64:
		return "int"
	case []any:
		return "list"
	case *Object:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// PyTruthy is Python's bool() of a JSON value ("false" is true, 0 and "" are false).
func PyTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case json.Number:
		if IsInt(t) {
			bi, ok := BigInt(t)
			return !ok || bi.Sign() != 0
		}
		f, _ := t.Float64()
		return f != 0
	case Float:
		return t != 0
	case []any:
		return len(t) > 0
	case *Object:
		return t.Len() > 0
	}
	return true
}
