// Package testnodes holds Go ports of the test-only nodes of ComfyUI's
// tests/execution suite (testing_nodes/testing-pack: stubs, specific tests,
// flow control, lists, conditions, async) plus test doubles for the core
// SaveImage, PreviewImage and RebatchImages that keep images in memory
// instead of writing files. Registry returns them in a fresh registry; they
// are never registered in node.Default.
//
// It imports api, node and ml/tensor; nothing imports it outside tests.
package testnodes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

// Registry returns a new registry with every test node.
func Registry() *node.Registry {
	reg := node.NewRegistry()
	for _, d := range append(defs(), flowDefs()...) {
		reg.Register(d)
	}
	return reg
}

// Saved holds the images the SaveImage/PreviewImage doubles "wrote", by
// file name ([1,H,W,C] each), so tests can fetch them like /view.
var saved sync.Map

var fileCounter atomic.Int64

// Image returns a saved image by file name.
func Image(filename string) (*tensor.Tensor, bool) {
	v, ok := saved.Load(filename)
	if !ok {
		return nil, false
	}
	return v.(*tensor.Tensor), true
}

func fn(f func(c *node.Context, in node.Inputs) (*node.Result, error)) func() node.Node {
	return func() node.Node { return node.Func(f) }
}

func intOpts(def, min, max any) []any {
	return []any{"default", def, "min", min, "max", max, "step", 1}
}

func image(in node.Inputs, name string) *tensor.Tensor {
	t, ok := in.Get(name).(*tensor.Tensor)
	if !ok {
		panic(fmt.Sprintf("input %s: %T is not an IMAGE", name, in.Get(name)))
	}
	return t
}

// scale returns t*v.
func scale(t *tensor.Tensor, v float64) *tensor.Tensor {
	out := tensor.FromData(t.Values(), t.Shape...)
	for i := range out.Data {
		out.Data[i] = float32(float64(out.Data[i]) * v)
	}
	return out
}

func minMax(t *tensor.Tensor) (float32, float32) {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range t.Values() {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	return lo, hi
}

func mean(t *tensor.Tensor) float64 {
	s := 0.0
	vals := t.Values()
	for _, v := range vals {
		s += float64(v)
	}
	return s / float64(len(vals))
}

// A GraphBuilder-style helper: ids "<unique id>.<call index>.0.<local id>".
type builder struct {
	prefix string
	next   int
	nodes  []node.ExpandNode
	index  map[string]int
}

func newBuilder(c *node.Context) *builder {
	return &builder{prefix: fmt.Sprintf("%s.%d.0.", c.UniqueID, c.CallIndex), next: 1, index: map[string]int{}}
}

func (b *builder) node(class, id string, inputs map[string]any) string {
	if id == "" {
		id = fmt.Sprint(b.next)
		b.next++
	}
	full := b.prefix + id
	if _, ok := b.index[full]; ok {
		return full
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	b.index[full] = len(b.nodes)
	b.nodes = append(b.nodes, node.ExpandNode{ID: full, ClassType: class, Inputs: inputs})
	return full
}

func (b *builder) set(id, input string, v any) { b.nodes[b.index[id]].Inputs[input] = v }

func out(id string, i int) node.Link { return node.Link{Node: id, Index: i} }

func ones(v float64, b, h, w int) *tensor.Tensor { return tensor.Full(float32(v), b, h, w, 3) }

var saveIn = []node.Input{node.In("images", node.TypeImage), node.In("filename_prefix", node.TypeString, "default", "ComfyUI")}

// saveNode is the SaveImage/PreviewImage double: it records each image of
// the batch under a fresh file name and returns ComfyUI's UI refs.
func saveNode(typ string) func() node.Node {
	return fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
		img := image(in, "images")
		prefix := "ComfyUI"
		if in.Has("filename_prefix") {
			prefix = in.String("filename_prefix")
		}
		ui := &node.UI{}
		for b := 0; b < img.Dim(0); b++ {
			name := fmt.Sprintf("%s_%05d_.png", prefix, fileCounter.Add(1))
			one := img.Slice(0, b, b+1).Contiguous()
			saved.Store(name, one)
			ui.Add("images", api.ImageRef{Filename: name, Subfolder: "", Type: typ})
		}
		return &node.Result{Outputs: []any{}, UI: ui}, nil
	})
}

func defs() []*node.Def {
	stubDims := func(first node.Input) []node.Input {
		return []node.Input{first,
			node.In("height", node.TypeInt, intOpts(512, 1, 1<<30)...),
			node.In("width", node.TypeInt, intOpts(512, 1, int64(1)<<36)...),
			node.In("batch_size", node.TypeInt, intOpts(1, 1, 1<<30)...)}
	}
	dims := func(in node.Inputs) (int, int, int) {
		return int(in.Int("batch_size")), int(in.Int("height")), int(in.Int("width"))
	}
	seed := atomic.Uint64{}
	return []*node.Def{
		{Spec: node.Spec{Name: "StubImage", Category: "Testing/Stub Nodes",
			Required: stubDims(node.Combo("content", []string{"WHITE", "BLACK", "NOISE"})),
			Outputs:  []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				b, h, w := dims(in)
				switch in.String("content") {
				case "WHITE":
					return node.Outputs(ones(1, b, h, w)), nil
				case "BLACK":
					return node.Outputs(ones(0, b, h, w)), nil
				}
				t := tensor.New(b, h, w, 3)
				r := rand.New(rand.NewPCG(seed.Add(1), 7))
				for i := range t.Data {
					t.Data[i] = r.Float32()
				}
				return node.Outputs(t), nil
			})},
		{Spec: node.Spec{Name: "StubConstantImage", Category: "Testing/Stub Nodes",
			Required: stubDims(node.In("value", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 1.0, "step", 0.01)),
			Outputs:  []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				b, h, w := dims(in)
				return node.Outputs(ones(in.Float("value"), b, h, w)), nil
			})},
		{Spec: node.Spec{Name: "StubMask", Category: "Testing/Stub Nodes",
			Required: stubDims(node.In("value", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 1.0, "step", 0.01)),
			Outputs:  []node.Output{{Type: node.TypeMask}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				b, h, w := dims(in)
				return node.Outputs(tensor.Full(float32(in.Float("value")), b, h, w)), nil
			})},
		{Spec: node.Spec{Name: "StubInt", Category: "Testing/Stub Nodes",
			Required: []node.Input{node.In("value", node.TypeInt, intOpts(0, -0xffffffff, 0xffffffff)...)},
			Outputs:  []node.Output{{Type: node.TypeInt}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) { return node.Outputs(in.Get("value")), nil })},
		{Spec: node.Spec{Name: "StubFloat", Category: "Testing/Stub Nodes",
			Required: []node.Input{node.In("value", node.TypeFloat, "default", 0.0, "min", -1.0e38, "max", 1.0e38, "step", 0.01)},
			Outputs:  []node.Output{{Type: node.TypeFloat}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) { return node.Outputs(in.Get("value")), nil })},

		{Spec: node.Spec{Name: "SaveImage", OutputNode: true, Required: saveIn,
			Hidden: []node.Hidden{{Name: "prompt", Kind: node.HiddenPrompt}, {Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo}}},
			New: saveNode("output")},
		{Spec: node.Spec{Name: "PreviewImage", OutputNode: true, Required: saveIn[:1],
			Hidden: []node.Hidden{{Name: "prompt", Kind: node.HiddenPrompt}, {Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo}}},
			New: saveNode("temp")},
		{Spec: node.Spec{Name: "RebatchImages", InputIsList: true,
			Required: []node.Input{node.In("images", node.TypeImage), node.In("batch_size", node.TypeInt, "default", 1, "min", 1, "max", 4096)},
			Outputs:  []node.Output{{Type: node.TypeImage, IsList: true}}},
			New: fn(rebatch)},

		lazyMix(),
		{Spec: node.Spec{Name: "TestVariadicAverage", Required: []node.Input{node.In("input1", node.TypeImage)},
			Outputs: []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				imgs := []*tensor.Tensor{image(in, "input1")}
				for in.Has(fmt.Sprintf("input%d", len(imgs)+1)) {
					imgs = append(imgs, image(in, fmt.Sprintf("input%d", len(imgs)+1)))
				}
				sum := tensor.FromData(imgs[0].Values(), imgs[0].Shape...)
				for _, t := range imgs[1:] {
					if !tensor.SameShape(t, sum) {
						return nil, node.Errorf("RuntimeError", "stack expects each tensor to be equal size")
					}
					for i, v := range t.Values() {
						sum.Data[i] += v
					}
				}
				return node.Outputs(scale(sum, 1/float64(len(imgs)))), nil
			})},
		{Spec: node.Spec{Name: "TestCustomIsChanged", Required: []node.Input{node.In("image", node.TypeImage)},
			Optional: []node.Input{node.In("should_change", "BOOL", "default", false)},
			Outputs:  []node.Output{{Type: node.TypeImage}}},
			New:           fn(func(c *node.Context, in node.Inputs) (*node.Result, error) { return node.Outputs(in.Get("image")), nil }),
			Fingerprinter: fingerprintFunc(customIsChanged)},
		{Spec: node.Spec{Name: "TestIsChangedWithConstants", Required: []node.Input{node.In("image", node.TypeImage),
			node.In("value", node.TypeFloat, "default", 1.0, "min", 0.0, "max", 10.0)},
			Outputs: []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				return node.Outputs(scale(image(in, "image"), in.Float("value"))), nil
			}),
			Fingerprinter: fingerprintFunc(func(in node.Inputs) (any, error) {
				if !in.Has("image") {
					return in.Get("value"), nil
				}
				return mean(image(in, "image")) * in.Float("value"), nil
			})},
		customValidation("TestCustomValidation1", "IMAGE,FLOAT", node.ValidateSpec{Inputs: []string{"input1", "input2"}}, validateImageOrFloat),
		customValidation("TestCustomValidation2", "IMAGE,FLOAT", node.ValidateSpec{Inputs: []string{"input1", "input2"}, InputTypes: true}, validateImageOrFloat),
		customValidation("TestCustomValidation3", "IMAGE,FLOAT", node.ValidateSpec{InputTypes: true}, nil),
		customValidation("TestCustomValidation4", node.TypeFloat, node.ValidateSpec{Inputs: []string{"input1", "input2"}}, validateFloat),
		customValidation("TestCustomValidation5", node.TypeFloat, node.ValidateSpec{All: true}, nil),
		{Spec: node.Spec{Name: "TestDynamicDependencyCycle", Required: []node.Input{node.In("input1", node.TypeImage), node.In("input2", node.TypeImage)},
			Outputs: []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				g := newBuilder(c)
				mask := g.node("StubMask", "", map[string]any{"value": 0.5, "height": 512, "width": 512, "batch_size": 1})
				mix1 := g.node("TestLazyMixImages", "", map[string]any{"image1": in.Get("input1"), "mask": out(mask, 0)})
				mix2 := g.node("TestLazyMixImages", "", map[string]any{"image1": out(mix1, 0), "image2": in.Get("input2"), "mask": out(mask, 0)})
				g.set(mix1, "image2", out(mix2, 0))
				return &node.Result{Outputs: []any{out(mix2, 0)}, Expand: g.nodes}, nil
			})},
		{Spec: node.Spec{Name: "TestMixedExpansionReturns", Required: []node.Input{node.In("input1", node.TypeFloat)},
			Outputs: []node.Output{{Type: node.TypeImage}, {Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				white := ones(1, 1, 64, 64)
				v := in.Float("input1")
				if v <= 0.1 {
					return node.Outputs(ones(0.1, 1, 64, 64), white), nil
				}
				if v <= 0.2 {
					return node.Outputs(ones(0.2, 1, 64, 64), white), nil
				}
				g := newBuilder(c)
				mask := g.node("StubMask", "", map[string]any{"value": 0.3, "height": 64, "width": 64, "batch_size": 1})
				black := g.node("StubImage", "", map[string]any{"content": "BLACK", "height": 64, "width": 64, "batch_size": 1})
				wh := g.node("StubImage", "", map[string]any{"content": "WHITE", "height": 64, "width": 64, "batch_size": 1})
				mix := g.node("TestLazyMixImages", "", map[string]any{"image1": out(black, 0), "image2": out(wh, 0), "mask": out(mask, 0)})
				return &node.Result{Outputs: []any{out(mix, 0), white}, Expand: g.nodes}, nil
			})},
		{Spec: node.Spec{Name: "TestSleep", Category: "_for_testing", Async: true,
			Required: []node.Input{node.In("value", node.TypeAny), node.In("seconds", node.TypeFloat, "default", 1.0, "min", 0.0, "max", 9999.0, "step", 0.01)},
			Hidden:   []node.Hidden{{Name: "unique_id", Kind: node.HiddenUniqueID}},
			Outputs:  []node.Output{{Type: node.TypeAny}}},
			New: fn(sleep)},
		{Spec: node.Spec{Name: "TestParallelSleep", Category: "_for_testing", OutputNode: true,
			Required: []node.Input{node.In("image1", node.TypeImage), node.In("image2", node.TypeImage), node.In("image3", node.TypeImage),
				node.In("sleep1", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 10.0, "step", 0.01),
				node.In("sleep2", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 10.0, "step", 0.01),
				node.In("sleep3", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 10.0, "step", 0.01)},
			Hidden:  []node.Hidden{{Name: "unique_id", Kind: node.HiddenUniqueID}},
			Outputs: []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				g := newBuilder(c)
				s1 := g.node("TestSleep", "", map[string]any{"value": in.Get("image1"), "seconds": in.Get("sleep1")})
				s2 := g.node("TestSleep", "", map[string]any{"value": in.Get("image2"), "seconds": in.Get("sleep2")})
				s3 := g.node("TestSleep", "", map[string]any{"value": in.Get("image3"), "seconds": in.Get("sleep3")})
				avg := g.node("TestVariadicAverage", "", map[string]any{"input1": out(s1, 0), "input2": out(s2, 0), "input3": out(s3, 0)})
				return &node.Result{Outputs: []any{out(avg, 0)}, Expand: g.nodes}, nil
			})},
		{Spec: node.Spec{Name: "TestOutputNodeWithSocketOutput", Category: "_for_testing", OutputNode: true,
			Required: []node.Input{node.In("image", node.TypeImage), node.In("value", node.TypeFloat, "default", 1.0, "min", 0.0, "max", 10.0)},
			Outputs:  []node.Output{{Type: node.TypeImage}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				return node.Outputs(scale(image(in, "image"), in.Float("value"))), nil
			})},
		{Spec: node.Spec{Name: "TestSyncError", Category: "_for_testing",
			Required: []node.Input{node.In("value", node.TypeAny)}, Outputs: []node.Output{{Type: node.TypeAny}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				return nil, node.Errorf("RuntimeError", "Intentional sync execution error for testing")
			})},
		{Spec: node.Spec{Name: "TestAsyncError", Category: "_for_testing", Async: true,
			Required: []node.Input{node.In("value", node.TypeAny), node.In("error_after", node.TypeFloat, "default", 0.1, "min", 0.0, "max", 10.0, "step", 0.1)},
			Outputs:  []node.Output{{Type: node.TypeAny}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				if err := wait(c, in.Float("error_after")); err != nil {
					return nil, err
				}
				return nil, node.Errorf("RuntimeError", "Intentional async execution error for testing")
			})},
		{Spec: node.Spec{Name: "TestPanic", Category: "_for_testing",
			Required: []node.Input{node.In("value", node.TypeAny)}, Outputs: []node.Output{{Type: node.TypeAny}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				var m map[string]int
				m["boom"] = 1 // a real runtime panic
				return nil, nil
			})},
		{Spec: node.Spec{Name: "TestWaitForInterrupt", Category: "_for_testing",
			Required: []node.Input{node.In("value", node.TypeAny)}, Outputs: []node.Output{{Type: node.TypeAny}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				<-c.Done()
				return nil, c.Interrupted()
			})},
		{Spec: node.Spec{Name: "TestExecutionBlocker", Category: "Testing/Flow",
			Required: []node.Input{node.In("input", node.TypeAny), node.In("block", node.TypeBoolean),
				node.In("verbose", node.TypeBoolean, "default", false)},
			Outputs: []node.Output{{Type: node.TypeAny, Name: "output"}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				if in.Bool("block") {
					b := &node.Blocker{}
					if in.Bool("verbose") {
						msg := "Blocked Execution"
						b.Message = &msg
					}
					return node.Outputs(b), nil
				}
				return node.Outputs(in.Get("input")), nil
			})},
	}
}

func rebatch(c *node.Context, in node.Inputs) (*node.Result, error) {
	imgs, _ := in.Get("images").([]any)
	bs := 1
	if l, ok := in.Get("batch_size").([]any); ok && len(l) > 0 {
		n, _ := node.ToInt(l[0])
		bs = int(n)
	}
	var batches []*tensor.Tensor
	var cur []*tensor.Tensor
	flush := func() {
		if len(cur) == 0 {
			return
		}
		s := cur[0].Shape
		data := []float32{}
		n := 0
		for _, t := range cur {
			data = append(data, t.Values()...)
			n += t.Dim(0)
		}
		batches = append(batches, tensor.FromData(data, append([]int{n}, s[1:]...)...))
		cur = nil
	}
	count := 0
	for _, x := range imgs {
		t, ok := x.(*tensor.Tensor)
		if !ok {
			continue
		}
		for b := 0; b < t.Dim(0); b++ {
			cur = append(cur, t.Slice(0, b, b+1))
			count++
			if count%bs == 0 {
				flush()
			}
		}
	}
	flush()
	out := make([]any, len(batches))
	for i, b := range batches {
		out[i] = b
	}
	return node.Outputs(out), nil
}

type lazyMixNode struct{}

func lazyMix() *node.Def {
	return &node.Def{Spec: node.Spec{Name: "TestLazyMixImages", Category: "Testing/Nodes",
		Required: []node.Input{node.In("image1", node.TypeImage, "lazy", true), node.In("image2", node.TypeImage, "lazy", true), node.In("mask", node.TypeMask)},
		Outputs:  []node.Output{{Type: node.TypeImage}}},
		New: func() node.Node { return lazyMixNode{} }}
}

func (lazyMixNode) CheckLazy(c *node.Context, in node.Inputs) ([]string, error) {
	lo, hi := minMax(in.Get("mask").(*tensor.Tensor))
	var need []string
	if !in.Has("image1") && (lo != 1 || hi != 1) {
		need = append(need, "image1")
	}
	if !in.Has("image2") && (lo != 0 || hi != 0) {
		need = append(need, "image2")
	}
	return need, nil
}

func (lazyMixNode) Run(c *node.Context, in node.Inputs) (*node.Result, error) {
	mask := in.Get("mask").(*tensor.Tensor)
	lo, hi := minMax(mask)
	if lo == 0 && hi == 0 {
		return node.Outputs(in.Get("image1")), nil
	}
	if lo == 1 && hi == 1 {
		return node.Outputs(in.Get("image2")), nil
	}
	a, b := image(in, "image1"), image(in, "image2")
	if !tensor.SameShape(a, b) {
		return nil, node.Errorf("RuntimeError", "The size of tensor a (%d) must match the size of tensor b (%d) at non-singleton dimension 2", a.Dim(2), b.Dim(2))
	}
	m := mask.Values()
	hw := a.Dim(1) * a.Dim(2)
	if len(m) != a.Dim(0)*hw && len(m) != hw {
		return nil, node.Errorf("RuntimeError", "The size of tensor a (%d) must match the size of tensor b (%d) at non-singleton dimension 2", a.Dim(2), mask.Dim(mask.Dims()-1))
	}
	av, bv := a.Values(), b.Values()
	outv := make([]float32, len(av))
	ch := a.Dim(3)
	for i := range outv {
		p := i / ch
		w := m[p%len(m)]
		outv[i] = av[i]*(1-w) + bv[i]*w
	}
	return node.Outputs(tensor.FromData(outv, a.Shape...)), nil
}

type fingerprintFunc func(in node.Inputs) (any, error)

func (f fingerprintFunc) Fingerprint(env node.Env, in node.Inputs) (any, error) { return f(in) }

func customIsChanged(in node.Inputs) (any, error) {
	if v, ok := in.Get("should_change").(bool); ok && v {
		return math.NaN(), nil
	}
	return false, nil
}

type validatorFunc struct {
	spec node.ValidateSpec
	f    func(in node.Inputs, types map[string]string) (bool, string)
}

func (v validatorFunc) ValidateSpec() node.ValidateSpec { return v.spec }
func (v validatorFunc) Validate(env node.Env, in node.Inputs, types map[string]string) (bool, string) {
	return v.f(in, types)
}

func pyClass(v any) string {
	switch v.(type) {
	case string:
		return "<class 'str'>"
	case bool:
		return "<class 'bool'>"
	case api.Float:
		return "<class 'float'>"
	}
	return "<class 'int'>"
}

func validateImageOrFloat(in node.Inputs, types map[string]string) (bool, string) {
	for _, k := range []string{"input1", "input2"} {
		v := in[k]
		switch v.(type) {
		case nil, *tensor.Tensor, api.Float:
		default:
			return false, "Invalid type of " + k + ": " + pyClass(v)
		}
	}
	for _, k := range []string{"input1", "input2"} {
		if t, ok := types[k]; ok && t != "IMAGE" && t != "FLOAT" {
			return false, "Invalid type of " + k + ": " + t
		}
	}
	return true, ""
}

func validateFloat(in node.Inputs, _ map[string]string) (bool, string) {
	for _, k := range []string{"input1", "input2"} {
		v := in[k]
		switch v.(type) {
		case nil, api.Float:
		default:
			return false, "Invalid type of " + k + ": " + pyClass(v)
		}
	}
	return true, ""
}

// variantCheck is what ComfyUI's VariantSupport injects: link types must
// match the declared (comma-set) types.
func variantCheck(spec *node.Spec) func(in node.Inputs, types map[string]string) (bool, string) {
	return func(in node.Inputs, types map[string]string) (bool, string) {
		for _, i := range spec.Required {
			t, ok := types[i.Name]
			if !ok {
				continue
			}
			match := false
			for _, d := range splitComma(i.Type) {
				for _, r := range splitComma(t) {
					if d == r || d == "*" || r == "*" {
						match = true
					}
				}
			}
			if !match {
				return false, fmt.Sprintf("Invalid type of %s: %s (expected %s)", i.Name, t, i.Type)
			}
		}
		return true, ""
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, trim(s[start:i]))
			start = i + 1
		}
	}
	return out
}

func trim(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

func customValidation(name, typ string, vs node.ValidateSpec, f func(node.Inputs, map[string]string) (bool, string)) *node.Def {
	in1, in2 := node.In("input1", typ), node.In("input2", typ)
	if name == "TestCustomValidation5" {
		in1 = node.In("input1", typ, "min", 0.0, "max", 1.0)
		in2 = node.In("input2", typ, "min", 0.0, "max", 1.0)
	}
	d := &node.Def{Spec: node.Spec{Name: name, Category: "Testing/Nodes", Required: []node.Input{in1, in2},
		Outputs: []node.Output{{Type: node.TypeImage}}}}
	switch {
	case name == "TestCustomValidation5":
		f = func(in node.Inputs, _ map[string]string) (bool, string) {
			if v, err := node.ToFloat(in["input2"]); err == nil && v == 7.0 {
				return false, "7s are not allowed. I've never liked 7s."
			}
			return true, ""
		}
	case f == nil:
		f = variantCheck(&d.Spec)
	}
	d.Validator = validatorFunc{vs, f}
	d.New = fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
		a, b := in.Get("input1"), in.Get("input2")
		fa, aFloat := a.(api.Float)
		fb, bFloat := b.(api.Float)
		if aFloat && bFloat {
			return node.Outputs(ones(float64(fa)*float64(fb), 1, 64, 64)), nil
		}
		if t, ok := a.(*tensor.Tensor); ok && bFloat {
			return node.Outputs(scale(t, float64(fb))), nil
		}
		if t, ok := b.(*tensor.Tensor); ok && aFloat {
			return node.Outputs(scale(t, float64(fa))), nil
		}
		ta, tb := image(in, "input1"), image(in, "input2")
		o := tensor.FromData(ta.Values(), ta.Shape...)
		for i, v := range tb.Values() {
			o.Data[i] *= v
		}
		return node.Outputs(o), nil
	})
	return d
}

// wait sleeps for seconds, reporting progress like ComfyUI's ProgressBar and
// stopping on interrupt.
func wait(c *node.Context, seconds float64) error {
	start := nowSeconds()
	for {
		el := nowSeconds() - start
		if err := c.Progress(math.Min(el, seconds), seconds); err != nil {
			return err
		}
		if el >= seconds {
			return nil
		}
		if err := sleepCtx(c, 0.01); err != nil {
			return err
		}
	}
}

func sleep(c *node.Context, in node.Inputs) (*node.Result, error) {
	if err := wait(c, in.Float("seconds")); err != nil {
		return nil, err
	}
	return node.Outputs(in.Get("value")), nil
}
