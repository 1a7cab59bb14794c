package node

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/comfyd/comfyd/api"
)

// Inputs are the values a node call receives, by input name. Literal
// values follow api's value model after validation (INT as json.Number,
// FLOAT as api.Float, STRING, BOOLEAN as bool); values from other nodes are
// whatever those nodes produced (tensors, ints, ...). The typed accessors
// accept both forms and panic with a clear message on a wrong type (the
// executor turns a panic into an execution_error).
type Inputs map[string]any

// Has reports whether name was given (optional inputs may be absent).
func (in Inputs) Has(name string) bool {
	v, ok := in[name]
	return ok && v != nil
}

// Get returns the raw value.
func (in Inputs) Get(name string) any { return in[name] }

// Int returns an integer input.
func (in Inputs) Int(name string) int64 {
	v, err := ToInt(in[name])
	if err != nil {
		panic(fmt.Sprintf("input %s: %v", name, err))
	}
	return v
}

// Uint64 returns an integer input in [0, 2^64) (seeds).
func (in Inputs) Uint64(name string) uint64 {
	switch t := in[name].(type) {
	case json.Number:
		if u, err := strconv.ParseUint(string(t), 10, 64); err == nil {
			return u
		}
	case uint64:
		return t
	}
	v := in.Int(name)
	return uint64(v)
}

// Float returns a numeric input as float64.
func (in Inputs) Float(name string) float64 {
	v, err := ToFloat(in[name])
	if err != nil {
		panic(fmt.Sprintf("input %s: %v", name, err))
	}
	return v
}

// String returns a string input.
func (in Inputs) String(name string) string {
	switch t := in[name].(type) {
	case string:
		return t
	case nil:
		return ""
	}
	panic(fmt.Sprintf("input %s: %T is not a string", name, in[name]))
}

// Bool returns a boolean input.
func (in Inputs) Bool(name string) bool {
	switch t := in[name].(type) {
	case bool:
		return t
	case nil:
		return false
	}
	panic(fmt.Sprintf("input %s: %T is not a boolean", name, in[name]))
}

// ToInt converts a numeric value to int64.
func ToInt(v any) (int64, error) {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(string(t), 10, 64); err == nil {
			return int64(u), nil
		}
		f, err := t.Float64()
		if err != nil {
			return 0, err
		}
		return int64(f), nil
	case int:
		return int64(t), nil
	case int64:
		return t, nil
	case int32:
		return int64(t), nil
	case uint64:
		return int64(t), nil
	case float64:
		return int64(t), nil
	case api.Float:
		return int64(t), nil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

// ToFloat converts a numeric value to float64.
func ToFloat(v any) (float64, error) {
	switch t := v.(type) {
	case json.Number:
		return t.Float64()
	case api.Float:
		return float64(t), nil
	case float64:
		return t, nil
	case float32:
		return float64(t), nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	}
	return math.NaN(), fmt.Errorf("%T is not a number", v)
}
