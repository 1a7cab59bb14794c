package primitive

import (
	"github.com/comfyd/comfyd/internal/testutil"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

func TestObjectInfoMatchesComfyUI(t *testing.T) {
	testutil.CheckObjectInfo(t, "testdata/object_info.json", nil)
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
