package graph

import (
	"os"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// specFromInfo rebuilds a node.Spec from a ComfyUI /object_info entry, so
// the tests validate against exactly ComfyUI's declarations.
func specFromInfo(name string, e *api.Object) node.Spec {
	s := node.Spec{Name: name}
	_, s.V3 = e.Get("api_node")
	if on, _ := e.Get("output_node"); on == true {
		s.OutputNode = true
	}
	inputs, _ := e.Get("input")
	in, _ := inputs.(*api.Object)
	group := func(g string) []node.Input {
		gv, _ := in.Get(g)
		go_, _ := gv.(*api.Object)
		var out []node.Input
		for _, k := range go_.Keys() {
			cfg, _ := go_.Get(k)
			arr, _ := cfg.([]any)
			var ni node.Input
			ni.Name = k
			switch t := arr[0].(type) {
			case string:
				ni.Type = t
			case []any:
				ni.Choices = []string{}
				for _, c := range t {
					cs, _ := c.(string)
					ni.Choices = append(ni.Choices, cs)
				}
			}
			if len(arr) > 1 {
				ni.Opts = node.Opts{}
				o, _ := arr[1].(*api.Object)
				for _, ok := range o.Keys() {
					ov, _ := o.Get(ok)
					if l, isList := ov.([]any); isList && ok == "options" {
						var ss []string
						for _, x := range l {
							xs, _ := x.(string)
							ss = append(ss, xs)
						}
						ov = ss
					}
					ni.Opts = append(ni.Opts, node.Opt{Key: ok, Value: ov})
				}
			}
			out = append(out, ni)
		}
		return out
	}
	s.Required = group("required")
	s.Optional = group("optional")
	outs, _ := e.Get("output")
	isList, _ := e.Get("output_is_list")
	ol, _ := isList.([]any)
	for i, o := range outs.([]any) {
		t, _ := o.(string)
		out := node.Output{Type: t}
		if i < len(ol) && ol[i] == true {
			out.IsList = true
		}
		s.Outputs = append(s.Outputs, out)
	}
	return s
}

type loadImageValidator struct{}

func (loadImageValidator) ValidateSpec() node.ValidateSpec {
	return node.ValidateSpec{Inputs: []string{"image"}}
}

// Validate mirrors LoadImage.VALIDATE_INPUTS with no input files present.
func (loadImageValidator) Validate(env node.Env, in node.Inputs, _ map[string]string) (bool, string) {
	return false, "Invalid image file: " + in.String("image")
}

var noop = func() node.Node {
	return node.Func(func(c *node.Context, in node.Inputs) (*node.Result, error) { return &node.Result{}, nil })
}

// comfyRegistry holds ComfyUI's declarations of the classes the golden
// captures use.
func comfyRegistry(t testing.TB) *node.Registry {
	raw, err := os.ReadFile("testdata/object_info_subset.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	all := v.(*api.Object)
	reg := node.NewRegistry()
	for _, name := range all.Keys() {
		e, _ := all.Get(name)
		d := &node.Def{Spec: specFromInfo(name, e.(*api.Object)), New: noop}
		if name == "LoadImage" {
			d.Validator = loadImageValidator{}
		}
		reg.Register(d)
	}
	return reg
}
