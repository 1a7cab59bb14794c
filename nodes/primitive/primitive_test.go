package primitive

import (
	"os"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

func TestObjectInfoMatchesComfyUI(t *testing.T) {
	raw, err := os.ReadFile("testdata/object_info.json")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	g := golden.(*api.Object)
	for _, name := range g.Keys() {
		want, _ := g.Get(name)
		def, ok := node.Default.Get(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		if got, w := api.MustMarshal(def.Spec.Info(nil)), api.MustMarshal(want); string(got) != string(w) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}

func run(t *testing.T, class string, in node.Inputs) any {
	t.Helper()
	def, ok := node.Default.Get(class)
	if !ok {
		t.Fatalf("%s not registered", class)
	}
	res, err := def.New().Run(&node.Context{}, in)
	if err != nil {
		t.Fatal(err)
	}
	return res.Outputs[0]
}

func TestPrimitivesPassThrough(t *testing.T) {
	if v := run(t, "PrimitiveInt", node.Inputs{"value": api.Int(-7)}); v != api.Int(-7) {
		t.Fatalf("%v", v)
	}
	if v := run(t, "PrimitiveFloat", node.Inputs{"value": api.Float(0.1)}); v != api.Float(0.1) {
		t.Fatalf("%v", v)
	}
	if v := run(t, "PrimitiveBoolean", node.Inputs{"value": false}); v != false {
		t.Fatalf("%v", v)
	}
	if v := run(t, "PrimitiveStringMultiline", node.Inputs{"value": "a\nb"}); v != "a\nb" {
		t.Fatalf("%v", v)
	}
	if v := run(t, "StringConcatenate", node.Inputs{"string_a": "ab", "string_b": "cd", "delimiter": ", "}); v != "ab, cd" {
		t.Fatalf("%q", v)
	}
	if v := run(t, "StringConcatenate", node.Inputs{"string_a": "", "string_b": "x", "delimiter": "-"}); v != "-x" {
		t.Fatalf("%q", v)
	}
}
