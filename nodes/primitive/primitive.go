// Package primitive implements ComfyUI's primitive and string nodes
// (comfy_extras/nodes_primitive.py: PrimitiveInt, PrimitiveFloat,
// PrimitiveString, PrimitiveStringMultiline, PrimitiveBoolean; and
// nodes_string.py's StringConcatenate), V3 schema nodes that pass their
// widget value through. It imports node only.
package primitive

import (
	"github.com/comfyd/comfyd/node"
)

const (
	modPrimitive = "comfy_extras.nodes_primitive"
	// int64 bounds as nodes_primitive declares them (-sys.maxsize, sys.maxsize).
	maxInt = 9223372036854775807
)

// passThrough returns the validated literal unchanged, as the Python
// execute(cls, value) does.
func passThrough(c *node.Context, in node.Inputs) (*node.Result, error) {
	return node.Outputs(in.Get("value")), nil
}

// stringConcatenate is delimiter.join([string_a, string_b]).
func stringConcatenate(c *node.Context, in node.Inputs) (*node.Result, error) {
	return node.Outputs(in.String("string_a") + in.String("delimiter") + in.String("string_b")), nil
}

func v3(name, display, typ string, value node.Input) node.Spec {
	return node.Spec{Name: name, DisplayName: display, Category: "utils/primitive", PythonModule: modPrimitive, V3: true,
		Required: []node.Input{value}, Outputs: []node.Output{{Type: typ}}}
}

func init() {
	node.RegisterFunc(v3("PrimitiveString", "String", node.TypeString, node.In("value", node.TypeString, "multiline", false)), passThrough)
	node.RegisterFunc(v3("PrimitiveStringMultiline", "String (Multiline)", node.TypeString, node.In("value", node.TypeString, "multiline", true)), passThrough)
	node.RegisterFunc(v3("PrimitiveInt", "Int", node.TypeInt, node.In("value", node.TypeInt, "min", -maxInt, "max", maxInt, "control_after_generate", true)), passThrough)
	node.RegisterFunc(v3("PrimitiveFloat", "Float", node.TypeFloat, node.In("value", node.TypeFloat, "min", -maxInt, "max", maxInt)), passThrough)
	node.RegisterFunc(v3("PrimitiveBoolean", "Boolean", node.TypeBoolean, node.Input{Name: "value", Type: node.TypeBoolean, Opts: node.Opts{}}), passThrough)
	node.RegisterFunc(node.Spec{Name: "StringConcatenate", DisplayName: "Concatenate", Category: "utils/string",
		PythonModule: "comfy_extras.nodes_string", V3: true,
		Required: []node.Input{
			node.In("string_a", node.TypeString, "multiline", true),
			node.In("string_b", node.TypeString, "multiline", true),
			node.In("delimiter", node.TypeString, "default", "", "multiline", false),
		},
		Outputs: []node.Output{{Type: node.TypeString}}}, stringConcatenate)
}
