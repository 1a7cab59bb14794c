package server

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
)

// pyStr is Python's str() of a JSON value: what ComfyUI does to a
// prompt_id it is sent (null becomes "None").
func pyStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case json.Number:
		return string(t)
	case api.Float:
		return api.PyFloat(float64(t))
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = pyRepr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *api.Object:
		parts := make([]string, 0, t.Len())
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			parts = append(parts, pyRepr(k)+": "+pyRepr(x))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return string(api.MustMarshal(v))
}

func pyRepr(v any) string {
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	return pyStr(v)
}

// pyFloat is Python's float() of a JSON value.
func pyFloat(v any) (float64, error) {
	switch t := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, err
		}
		return f, nil
	case api.Float:
		return float64(t), nil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	case string:
		s := strings.ToLower(trimPySpace(t))
		switch s {
		case "inf", "+inf", "infinity", "+infinity":
			return math.Inf(1), nil
		case "-inf", "-infinity":
			return math.Inf(-1), nil
		case "nan", "+nan", "-nan":
			return math.NaN(), nil
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err != nil {
			return 0, errors.New("could not convert string to float: '" + t + "'")
		}
		return f, nil
	}
	return 0, errors.New("float() argument must be a string or a real number")
}

// pyTruthy is Python's bool() of a JSON value.
func pyTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case json.Number:
		f, _ := strconv.ParseFloat(string(t), 64)
		return f != 0
	case api.Float:
		return t != 0
	case []any:
		return len(t) > 0
	case *api.Object:
		return t.Len() > 0
	}
	return true
}

func trimPySpace(s string) string { return strings.TrimSpace(s) }
