package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// decodeTokens is Decode's definition through json.Decoder's token API
// (the implementation before the single-pass parser), for comparison.
func decodeTokens(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid character after top-level value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return decodeFrom(dec, tok)
}

func decodeFrom(dec *json.Decoder, tok json.Token) (any, error) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	case json.Number:
		if IsInt(t) {
			return t, nil
		}
		f, err := t.Float64()
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return Float(f), nil
	default:
		return t, nil // nil, bool, string
	}
}

func checkDecodeSame(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := Decode(data)
	want, werr := decodeTokens(data)
	if werr == nil && gerr != nil && gerr.Error() == "exceeded max depth" {
		// Deliberate: the token walk has no depth limit (and recursion
		// without one can exhaust the stack); encoding/json's 10,000 is kept.
		return
	}
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("Decode(%.200q): err %v, reference err %v", data, gerr, werr)
	}
	if gerr != nil {
		return
	}
	// Compare structure and kinds, not only the re-encoding.
	if g, w := fmt.Sprintf("%#v", dump(got)), fmt.Sprintf("%#v", dump(want)); g != w {
		t.Fatalf("Decode(%q)\n got %s\nwant %s", data, g, w)
	}
}

// dump turns a value into comparable plain data, keeping key order and
// number kinds.
func dump(v any) any {
	switch t := v.(type) {
	case *Object:
		var kv []any
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			kv = append(kv, k, dump(x))
		}
		return kv
	case []any:
		out := []any{"array"}
		for _, x := range t {
			out = append(out, dump(x))
		}
		return out
	case Float:
		return "float:" + strconv.FormatFloat(float64(t), 'g', -1, 64)
	case json.Number:
		return "int:" + string(t)
	}
	return v
}

func TestDecodeMatchesTokenWalk(t *testing.T) {
	for _, s := range []string{
		``, ` `, `null`, `true`, `false`, `nul`, `tru`, `truex`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-`, `1e`,
		`-12.5e+3`, `123456789012345678901234567890`, `1e400`, `-1e400`, `1e-400`, `""`, `"abc"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`,
		`"\u00e9\u2028"`, `"\ud83c\udfa8"`, `"\ud83c"`, `"\ud83cx"`, `"\ud83c\u0041"`, `"\udfa8\ud83c"`, `"\u12"`, `"\u12zz"`, `"\x"`, `"\'"`,
		"\"tab\there\"", "\"bad\xffutf8\"", "\"é日本🎨\"", `"unterminated`, `[]`, `[1,]`, `[,1]`, `[1 2]`, `[1,[2,[3]]]`, `{}`, `{"a":1,}`,
		`{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"b":1,"a":2,"b":3}`, ` {"x" : [ true , null ] } `, `{"a":1}x`, `1 2`, `[1] [2]`,
		`{"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "v": 5.0}}}`, "\t\n\r 7 \r\n",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	} {
		checkDecodeSame(t, []byte(s))
	}
	deep := strings.Repeat(`{"a":[`, 5001) + strings.Repeat("]}", 5001)
	if _, err := Decode([]byte(deep)); err == nil {
		t.Fatal("nesting deeper than 10,000 accepted")
	}
}

func FuzzDecodeMatchesTokenWalk(f *testing.F) {
	for _, s := range []string{
		`{"b": 1, "a": [1.0, 2, {"<x>": "&"}], "c": null, "d": true}`,
		`["\u2028", "\ud83c\udfa8", "\u0000", 1e-7, -0.0, 123456789012345678901234567890]`,
		`"\ud83c\u0041\\"`, `[1e5, 0.5E-3, -0]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecodeSame(t, data) })
}

func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"prompt": {`)
	for i := range 50 {
		if i > 0 {
			buf.WriteString(", ")
		}
		fmt.Fprintf(&buf, `"%d": {"class_type": "KSampler", "inputs": {"seed": 42, "cfg": 8.0, "text": "a cat, \"quoted\" é", "model": ["4", 0]}}`, i)
	}
	buf.WriteString(`}}`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.Run("parser", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("token-walk", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeTokens(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
