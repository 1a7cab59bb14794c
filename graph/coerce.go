package graph

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
)

// pyError is a Python exception as ComfyUI reports it: type name and str().
type pyError struct {
	Type string
	Msg  string
}

func (e *pyError) Error() string { return e.Msg }

// coerceInt is Python's int(v) on a JSON value.
func coerceInt(v any) (json.Number, *pyError) {
	switch t := v.(type) {
	case json.Number:
		if api.IsInt(t) {
			return json.Number(api.PyIntStr(t)), nil
		}
		f, _ := t.Float64()
		return floatToInt(f)
	case api.Float:
		return floatToInt(float64(t))
	case bool:
		if t {
			return "1", nil
		}
		return "0", nil
	case string:
		if n, ok := parsePyInt(t); ok {
			return n, nil
		}
		return "", &pyError{"ValueError", "invalid literal for int() with base 10: " + api.PyQuote(t)}
	}
	return "", &pyError{"TypeError", "int() argument must be a string, a bytes-like object or a real number, not '" + api.PyTypeName(v) + "'"}
}

func floatToInt(f float64) (json.Number, *pyError) {
	switch {
	case math.IsNaN(f):
		return "", &pyError{"ValueError", "cannot convert float NaN to integer"}
	case math.IsInf(f, 0):
		return "", &pyError{"OverflowError", "cannot convert float infinity to integer"}
	}
	f = math.Trunc(f)
	if math.Abs(f) < 1<<62 {
		return api.Int(int64(f)), nil
	}
	bi, _ := big.NewFloat(f).Int(nil)
	return json.Number(bi.String()), nil
}

// parsePyInt parses a decimal string as Python's int(str) does: surrounding
// whitespace, an optional sign, digits with single underscores between them.
func parsePyInt(s string) (json.Number, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return "", false
	}
	s = strings.ReplaceAll(s, "_", "")
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	bi, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return "", false
	}
	if neg {
		bi.Neg(bi)
	}
	return json.Number(bi.String()), true
}

// coerceFloat is Python's float(v).
func coerceFloat(v any) (api.Float, *pyError) {
	switch t := v.(type) {
	case json.Number:
		if api.IsInt(t) {
			if bi, ok := api.BigInt(t); ok {
				f, _ := new(big.Float).SetInt(bi).Float64()
				if math.IsInf(f, 0) {
					return 0, &pyError{"OverflowError", "int too large to convert to float"}
				}
				return api.Float(f), nil
			}
		}
		f, _ := t.Float64()
		return api.Float(f), nil
	case api.Float:
		return t, nil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	case string:
		if f, ok := parsePyFloat(t); ok {
			return api.Float(f), nil
		}
		return 0, &pyError{"ValueError", "could not convert string to float: " + api.PyQuote(t)}
	}
	return 0, &pyError{"TypeError", "float() argument must be a string or a real number, not '" + api.PyTypeName(v) + "'"}
}

func parsePyFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity", "nan":
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	if body == "" || strings.ContainsAny(body, "xXpP") || strings.HasPrefix(body, "_") || strings.HasSuffix(body, "_") || strings.Contains(body, "__") {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// number is a JSON number or bool prepared for exact comparison.
type number struct {
	isInt bool
	i     int64 // when small
	small bool
	f     float64
	big   *big.Int
}

func toNumber(v any) (number, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return number{isInt: true, small: true, i: 1}, true
		}
		return number{isInt: true, small: true}, true
	case json.Number:
		if api.IsInt(t) {
			if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
				return number{isInt: true, small: true, i: i}, true
			}
			bi, ok := api.BigInt(t)
			if !ok {
				return number{}, false
			}
			return number{isInt: true, big: bi}, true
		}
		f, err := t.Float64()
		if err != nil {
			return number{}, false
		}
		return number{f: f}, true
	case api.Float:
		return number{f: float64(t)}, true
	case float64:
		return number{f: t}, true
	case int:
		return number{isInt: true, small: true, i: int64(t)}, true
	case int64:
		return number{isInt: true, small: true, i: t}, true
	case uint64:
		return number{isInt: true, big: new(big.Int).SetUint64(t)}, true
	}
	return number{}, false
}

func (n number) rat() *big.Rat {
	switch {
	case n.isInt && n.small:
		return new(big.Rat).SetInt64(n.i)
	case n.isInt:
		return new(big.Rat).SetInt(n.big)
	}
	return new(big.Rat).SetFloat64(n.f) // exact: every finite float64 is a rational
}

// cmpNumbers compares exactly as Python does (ints of any size against
// floats); ok is false when either side is NaN (every comparison false).
func cmpNumbers(a, b number) (c int, ok bool) {
	if (!a.isInt && math.IsNaN(a.f)) || (!b.isInt && math.IsNaN(b.f)) {
		return 0, false
	}
	if a.isInt && a.small && b.isInt && b.small {
		switch {
		case a.i < b.i:
			return -1, true
		case a.i > b.i:
			return 1, true
		}
		return 0, true
	}
	if !a.isInt && !b.isInt {
		switch {
		case a.f < b.f:
			return -1, true
		case a.f > b.f:
			return 1, true
		}
		return 0, true
	}
	if !a.isInt && math.IsInf(a.f, 0) {
		if a.f > 0 {
			return 1, true
		}
		return -1, true
	}
	if !b.isInt && math.IsInf(b.f, 0) {
		if b.f > 0 {
			return -1, true
		}
		return 1, true
	}
	return a.rat().Cmp(b.rat()), true
}

// PyFloat is Python's float() of a JSON value, for callers outside the
// validator (the server parses POST /prompt's "number" with it).
func PyFloat(v any) (float64, error) {
	f, err := coerceFloat(v)
	if err != nil {
		return 0, err
	}
	return float64(f), nil
}
