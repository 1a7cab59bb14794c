package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// JSON values in comfyd are the Go values produced by Decode:
//
//	null    -> nil
//	true    -> bool
//	"s"     -> string
//	5       -> json.Number (an integer of any size, kept as written)
//	5.0     -> Float
//	[...]   -> []any
//	{...}   -> *Object (keys in document order)
//
// Keeping integers and floats apart matters: ComfyUI validates 5 and 5.0
// differently, prints them differently ("5" vs "5.0"), and seeds reach
// 2^64-1, which float64 cannot hold.

// Float is a JSON number that was written with a fraction or exponent (a
// Python float). It marshals the way Python's json.dumps writes floats:
// 8.0, 0.01, 1e-05, 1e+16.
type Float float64

// MarshalJSON writes f as Python's repr would.
func (f Float) MarshalJSON() ([]byte, error) {
	return []byte(PyFloat(float64(f))), nil
}

// PyFloat formats v as Python's repr(float) does (shortest round-trip digits,
// a trailing ".0" on integral values, scientific notation below 1e-4 and from
// 1e16 on). NaN and infinities are written as Python's json module writes them.
func PyFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	if v == 0 {
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(v, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// Int returns an integer JSON value.
func Int(v int64) json.Number { return json.Number(strconv.FormatInt(v, 10)) }

// Uint returns an integer JSON value from an unsigned integer.
func Uint(v uint64) json.Number { return json.Number(strconv.FormatUint(v, 10)) }

// IsInt reports whether a json.Number is written as an integer.
func IsInt(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

// BigInt parses an integer json.Number of any size.
func BigInt(n json.Number) (*big.Int, bool) {
	return new(big.Int).SetString(string(n), 10)
}

// Object is a JSON object that remembers key order (Python dicts do, and
// ComfyUI's input order, prompt node order and event key order are visible
// on the wire).
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty ordered object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// ObjectOf builds an object from alternating keys and values.
func ObjectOf(kv ...any) *Object {
	o := NewObject()
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Len returns the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Keys returns the keys in order (do not modify).
func (o *Object) Keys() []string {
	if o == nil {
		return nil
	}
	return o.keys
}

// Get returns the value of key k.
func (o *Object) Get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.vals[k]
	return v, ok
}

// Has reports whether k is present.
func (o *Object) Has(k string) bool { _, ok := o.Get(k); return ok }

// Set sets k to v, appending k if new.
func (o *Object) Set(k string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Delete removes k.
func (o *Object) Delete(k string) {
	if o == nil {
		return
	}
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, x := range o.keys {
		if x == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// MarshalJSON writes the object with its keys in order.
func (o *Object) MarshalJSON() ([]byte, error) { return appendObject(nil, o) }

// UnmarshalJSON decodes an object keeping key order.
func (o *Object) UnmarshalJSON(data []byte) error {
	v, err := Decode(data)
	if err != nil {
		return err
	}
	obj, ok := v.(*Object)
	if !ok {
		return errors.New("api: JSON value is not an object")
	}
	*o = *obj
	return nil
}

// Marshal encodes a JSON value (see the value model above; other Go values
// go through encoding/json). HTML characters are not escaped.
func Marshal(v any) ([]byte, error) { return appendJSON(nil, v) }

// MustMarshal is Marshal for values known to be encodable.
func MustMarshal(v any) []byte {
	b, err := Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Decode parses one JSON document into the value model above. Trailing
// data after the value is an error.
func Decode(data []byte) (any, error) { return parse(data) }

// Clone deep-copies a JSON value.
func Clone(v any) any {
	switch t := v.(type) {
	case *Object:
		if t == nil {
			return t
		}
		o := &Object{keys: append([]string(nil), t.keys...), vals: make(map[string]any, len(t.vals))}
		for k, x := range t.vals {
			o.vals[k] = Clone(x)
		}
		return o
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = Clone(x)
		}
		return a
	}
	return v
}
