package image

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

// previewAny is PreviewAny.main: UI {"text": [value]} where strings are
// shown as-is, numbers and booleans as Python's str() (True, 0.1), other
// JSON-able values as json.dumps, and anything else (tensors, latents) as
// Python's str() of the object.
func previewAny(c *node.Context, in node.Inputs) (*node.Result, error) {
	ui := &node.UI{}
	ui.Add("text", PyStr(in.Get("source"), true))
	return &node.Result{UI: ui}, nil
}

// PyStr renders v as PreviewAny does (top = true) or as Python's repr
// inside containers (top = false).
func PyStr(v any, top bool) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case string:
		if top {
			return t
		}
		return api.PyQuote(t)
	case bool:
		if t {
			return "True"
		}
		return "False"
	case json.Number:
		if api.IsInt(t) {
			return string(t)
		}
		f, _ := t.Float64()
		return api.PyFloatRepr(f)
	case api.Float:
		return api.PyFloatRepr(float64(t))
	case float64:
		return api.PyFloatRepr(t)
	case float32:
		return api.PyFloatRepr(float64(t))
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case uint64:
		return strconv.FormatUint(t, 10)
	case *tensor.Tensor:
		return TorchRepr(t)
	}
	if top && jsonable(v) {
		if j, err := api.MarshalPython(v); err == nil {
			return string(j)
		}
	}
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = PyStr(x, false)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *api.Object:
		parts := make([]string, 0, t.Len())
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			parts = append(parts, api.PyQuote(k)+": "+PyStr(x, false))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(t))
		for _, k := range keys {
			parts = append(parts, api.PyQuote(k)+": "+PyStr(t[k], false))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case fmt.Stringer:
		return t.String()
	}
	return fmt.Sprint(v)
}

// jsonable reports whether json.dumps would accept v.
func jsonable(v any) bool {
	switch t := v.(type) {
	case nil, string, bool, json.Number, api.Float, float64, float32, int, int64, uint64:
		return true
	case []any:
		for _, x := range t {
			if !jsonable(x) {
				return false
			}
		}
		return true
	case *api.Object:
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			if !jsonable(x) {
				return false
			}
		}
		return true
	}
	return false
}

// TorchRepr formats a float32 tensor as torch's repr does with default
// print options (precision 4, threshold 1000, edgeitems 3, linewidth 80):
// integer-valued tensors as "1.", scientific notation when the magnitudes
// span more than 1000× (or exceed 1e8, or go below 1e-4), summarised with
// "..." beyond 1000 elements.
func TorchRepr(t *tensor.Tensor) string {
	t = t.Contiguous()
	vals := t.Data[t.Offset : t.Offset+t.Len()]
	summarize := len(vals) > 1000
	f := newTorchFormatter(summarizedValues(vals, t.Shape, summarize))
	const prefix = "tensor("
	var body string
	if len(t.Shape) == 0 {
		body = f.format(float64(vals[0]))
	} else if len(vals) == 0 {
		body = "[]"
	} else {
		body = torchStr(vals, t.Shape, len(prefix), summarize, f)
	}
	return prefix + body + ")"
}

const edgeItems = 3

// summarizedValues returns the values torch's formatter looks at (only the
// edge items of every dimension when summarising).
func summarizedValues(vals []float32, shape []int, summarize bool) []float64 {
	if !summarize || len(shape) == 0 {
		out := make([]float64, len(vals))
		for i, v := range vals {
			out[i] = float64(v)
		}
		return out
	}
	n := shape[0]
	inner := len(vals) / max(n, 1)
	var idx []int
	if n > 2*edgeItems {
		for i := 0; i < edgeItems; i++ {
			idx = append(idx, i)
		}
		for i := n - edgeItems; i < n; i++ {
			idx = append(idx, i)
		}
	} else {
		for i := 0; i < n; i++ {
			idx = append(idx, i)
		}
	}
	var out []float64
	for _, i := range idx {
		out = append(out, summarizedValues(vals[i*inner:(i+1)*inner], shape[1:], true)...)
	}
	return out
}

type torchFormatter struct {
	intMode, sciMode bool
	width            int
}

func newTorchFormatter(vals []float64) *torchFormatter {
	f := &torchFormatter{intMode: true, width: 1}
	var nz []float64
	for _, v := range vals {
		if !math.IsInf(v, 0) && !math.IsNaN(v) && v != 0 {
			nz = append(nz, v)
		}
	}
	if len(nz) == 0 {
		return f
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range nz {
		a := math.Abs(v)
		lo, hi = math.Min(lo, a), math.Max(hi, a)
		if v != math.Ceil(v) {
			f.intMode = false
		}
	}
	if f.intMode {
		if hi/lo > 1000 || hi > 1e8 {
			f.sciMode = true
			for _, v := range nz {
				f.width = max(f.width, len(strconv.FormatFloat(v, 'e', 4, 64)))
			}
		} else {
			for _, v := range nz {
				f.width = max(f.width, len(strconv.FormatFloat(v, 'f', 0, 64))+1)
			}
		}
		return f
	}
	if hi/lo > 1000 || hi > 1e8 || lo < 1e-4 {
		f.sciMode = true
		for _, v := range nz {
			f.width = max(f.width, len(strconv.FormatFloat(v, 'e', 4, 64)))
		}
	} else {
		for _, v := range nz {
			f.width = max(f.width, len(strconv.FormatFloat(v, 'f', 4, 64)))
		}
	}
	return f
}

func (f *torchFormatter) format(v float64) string {
	var s string
	switch {
	case math.IsNaN(v):
		s = "nan"
	case math.IsInf(v, 1):
		s = "inf"
	case math.IsInf(v, -1):
		s = "-inf"
	case f.sciMode:
		s = strconv.FormatFloat(v, 'e', 4, 64)
	case f.intMode:
		s = strconv.FormatFloat(v, 'f', 0, 64) + "."
	default:
		s = strconv.FormatFloat(v, 'f', 4, 64)
	}
	if n := f.width - len(s); n > 0 {
		s = strings.Repeat(" ", n) + s
	}
	return s
}

func torchStr(vals []float32, shape []int, indent int, summarize bool, f *torchFormatter) string {
	n := shape[0]
	if len(shape) == 1 {
		perLine := max(1, (80-indent)/(f.width+2))
		var data []string
		add := func(i int) { data = append(data, f.format(float64(vals[i]))) }
		if summarize && n > 2*edgeItems {
			for i := 0; i < edgeItems; i++ {
				add(i)
			}
			data = append(data, " ...")
			for i := n - edgeItems; i < n; i++ {
				add(i)
			}
		} else {
			for i := 0; i < n; i++ {
				add(i)
			}
		}
		var lines []string
		for i := 0; i < len(data); i += perLine {
			lines = append(lines, strings.Join(data[i:min(i+perLine, len(data))], ", "))
		}
		return "[" + strings.Join(lines, ",\n"+strings.Repeat(" ", indent+1)) + "]"
	}
	inner := len(vals) / n
	sub := func(i int) string { return torchStr(vals[i*inner:(i+1)*inner], shape[1:], indent+1, summarize, f) }
	var slices []string
	if summarize && n > 2*edgeItems {
		for i := 0; i < edgeItems; i++ {
			slices = append(slices, sub(i))
		}
		slices = append(slices, "...")
		for i := n - edgeItems; i < n; i++ {
			slices = append(slices, sub(i))
		}
	} else {
		for i := 0; i < n; i++ {
			slices = append(slices, sub(i))
		}
	}
	sep := "," + strings.Repeat("\n", len(shape)-1) + strings.Repeat(" ", indent+1)
	return "[" + strings.Join(slices, sep) + "]"
}

func init() {
	node.RegisterFunc(node.Spec{Name: "PreviewAny", DisplayName: "Preview Any", Category: "utils", OutputNode: true,
		PythonModule: "comfy_extras.nodes_preview_any",
		Required:     []node.Input{{Name: "source", Type: node.TypeAny, Opts: node.Opts{}}}}, previewAny)
}
