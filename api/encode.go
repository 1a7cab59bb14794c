package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendJSON appends v encoded exactly as Marshal defines it. The value
// model's own types (nil, bool, string, json.Number, Float, []any, []string,
// *Object, QueueItem) are written directly; anything else goes through
// encoding/json. Going through encoding/json for nested objects costs a
// re-validation and re-compaction of every nested MarshalJSON result, which
// made encoding a prompt quadratic in its depth (~250 µs for a 3 KB queue
// item; this path takes a few µs).
func appendJSON(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case string:
		return appendString(dst, t, false), nil
	case json.Number:
		s := string(t)
		if s == "" {
			s = "0" // encoding/json's rule
		}
		if !validNumber(s) {
			break
		}
		return append(dst, s...), nil
	case Float:
		if math.IsNaN(float64(t)) || math.IsInf(float64(t), 0) {
			break // not JSON: let encoding/json report the error
		}
		return append(dst, PyFloat(float64(t))...), nil
	case *Object:
		return appendObject(dst, t)
	case []any:
		if t == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, x := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, x); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case []string:
		if t == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, s := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s, false)
		}
		return append(dst, ']'), nil
	case QueueItem:
		return t.appendJSON(dst)
	case HistoryEntry:
		return t.appendJSON(dst)
	case StatusMessage:
		return appendJSON(dst, []any{t.Event, t.Data})
	}
	return appendStd(dst, v)
}

// appendStd is Marshal's definition: encoding/json without HTML escaping.
func appendStd(dst []byte, v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(dst, bytes.TrimRight(b.Bytes(), "\n")...), nil
}

func appendObject(dst []byte, o *Object) ([]byte, error) {
	if o == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '{')
	for i, k := range o.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		// Keys have always been written with json.Marshal, which escapes
		// <, > and & (values are not): kept byte for byte.
		dst = appendString(dst, k, true)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSON(dst, o.vals[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func (q QueueItem) appendJSON(dst []byte) ([]byte, error) {
	outs := q.Outputs
	if outs == nil {
		outs = []string{}
	}
	extra := q.ExtraData
	if extra == nil {
		extra = NewObject()
	}
	return appendJSON(dst, []any{q.Number, q.PromptID, q.Prompt, extra, outs})
}

// appendJSON writes the entry as encoding/json writes the struct (field
// order, meta keys sorted, nil slices and maps as null).
func (h HistoryEntry) appendJSON(dst []byte) ([]byte, error) {
	var err error
	dst = append(dst, `{"prompt":`...)
	if dst, err = h.Prompt.appendJSON(dst); err != nil {
		return nil, err
	}
	dst = append(dst, `,"outputs":`...)
	if dst, err = appendObject(dst, h.Outputs); err != nil {
		return nil, err
	}
	dst = append(dst, `,"status":{"status_str":`...)
	dst = appendString(dst, h.Status.StatusStr, false)
	dst = append(dst, `,"completed":`...)
	dst = strconv.AppendBool(dst, h.Status.Completed)
	dst = append(dst, `,"messages":`...)
	if h.Status.Messages == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, m := range h.Status.Messages {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSON(dst, []any{m.Event, m.Data}); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `},"meta":`...)
	if h.Meta == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(h.Meta)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			m := h.Meta[k]
			dst = appendString(dst, k, false)
			dst = append(dst, `:{"node_id":`...)
			dst = appendString(dst, m.NodeID, false)
			dst = append(dst, `,"display_node":`...)
			dst = appendString(dst, m.DisplayNode, false)
			dst = append(dst, `,"parent_node":`...)
			if m.ParentNode == nil {
				dst = append(dst, "null"...)
			} else {
				dst = appendString(dst, *m.ParentNode, false)
			}
			dst = append(dst, `,"real_node_id":`...)
			dst = appendString(dst, m.RealNodeID, false)
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as encoding/json does (invalid UTF-8 as \ufffd,
// U+2028/U+2029 escaped, <, > and & escaped only when html is set).
func appendString(dst []byte, s string, html bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && (!html || (b != '<' && b != '>' && b != '&')) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		} else if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		} else {
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validNumber reports whether s is a JSON number literal.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}
	return s == ""
}
