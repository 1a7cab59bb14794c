package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/comfyd/comfyd/api"
)

// Python-flavoured text: ComfyUI's error details embed str() and repr() of
// values, so clients see "True", "None", "5.0" and "['a', 'b']".

// pyRepr returns Python's repr() of a JSON value.
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

// pyStr returns Python's str() of a JSON value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return api.PyFloat(f)
}

func pyIntStr(n json.Number) string {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	if b, ok := api.BigInt(n); ok {
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
		b.WriteString(pyQuote(t))
	case json.Number:
		if api.IsInt(t) {
			b.WriteString(pyIntStr(t))
		} else {
			f, _ := t.Float64()
			b.WriteString(pyFloatRepr(f))
		}
	case api.Float:
		b.WriteString(pyFloatRepr(float64(t)))
	case float64:
		b.WriteString(pyFloatRepr(t))
	case float32:
		b.WriteString(pyFloatRepr(float64(t)))
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
			b.WriteString(pyQuote(x))
		}
		b.WriteByte(']')
	case *api.Object:
		b.WriteByte('{')
		for i, k := range t.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyQuote(k))
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

// pyQuote quotes s as Python's repr(str) does: single quotes unless the
// string holds a single quote and no double quote.
func pyQuote(s string) string {
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

// pyTypeName is type(v).__name__ of a JSON value.
func pyTypeName(v any) string {
	switch t := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if api.IsInt(t) {
			return "int"
		}
		return "float"
	case api.Float, float64, float32:
		return "float"
	case int, int64, int32, uint64:
		return "int"
	case []any:
		return "list"
	case *api.Object:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
