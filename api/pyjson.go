package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
)

// MarshalPython encodes a JSON value the way Python's json.dumps does with
// its defaults: ", " and ": " separators, ensure_ascii (every non-ASCII
// rune as \uXXXX, surrogate pairs above U+FFFF), floats as repr, NaN and
// Infinity bare. ComfyUI writes image metadata (the "prompt" and
// "workflow" PNG chunks) and PreviewAny text this way. Values outside the
// value model go through Marshal and Decode first.
func MarshalPython(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := pyEncode(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func pyEncode(b *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		pyString(b, t)
	case json.Number:
		b.WriteString(string(t))
	case Float:
		b.WriteString(PyFloat(float64(t)))
	case float64:
		b.WriteString(PyFloat(t))
	case float32:
		b.WriteString(PyFloat(float64(t)))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(t, 10))
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyEncode(b, x); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, x)
		}
		b.WriteByte(']')
	case *Object:
		if t == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, k)
			b.WriteString(": ")
			if err := pyEncode(b, t.vals[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		raw, err := Marshal(v)
		if err != nil {
			return err
		}
		dv, err := Decode(raw)
		if err != nil {
			return fmt.Errorf("api: cannot encode %T: %w", v, err)
		}
		return pyEncode(b, dv)
	}
	return nil
}

func pyString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r >= 0x20 && r < 0x7f || r == 0x7f {
				b.WriteRune(r)
				continue
			}
			units := []uint16{uint16(r)}
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				units = []uint16{uint16(r1), uint16(r2)}
			}
			for _, u := range units {
				b.WriteString(`\u`)
				b.WriteByte(hex[u>>12&0xf])
				b.WriteByte(hex[u>>8&0xf])
				b.WriteByte(hex[u>>4&0xf])
				b.WriteByte(hex[u&0xf])
			}
		}
	}
	b.WriteByte('"')
}
