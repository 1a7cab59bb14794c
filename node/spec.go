// Package node is the contract between comfyd's executor and its node
// implementations: a node class is a Def (its Spec, which produces the
// /object_info entry, plus a constructor for instances), registered in a
// Registry. A node instance runs with a *Context (cancellation on
// interrupt, progress, previews, folders) and typed Inputs, and returns a
// Result. Optional behaviour (IS_CHANGED, VALIDATE_INPUTS,
// check_lazy_status) is expressed by small interfaces on the instance.
//
// ComfyUI names are data here: class names, input names and type names keep
// ComfyUI's spelling. This package imports only api (and the standard
// library); it must not import the executor, the server or the compute wing.
package node

import (
	"fmt"
	"math"

	"github.com/comfyd/comfyd/api"
)

// Common type names.
const (
	TypeInt          = "INT"
	TypeFloat        = "FLOAT"
	TypeString       = "STRING"
	TypeBoolean      = "BOOLEAN"
	TypeCombo        = "COMBO"
	TypeAny          = "*"
	TypeImage        = "IMAGE"
	TypeMask         = "MASK"
	TypeLatent       = "LATENT"
	TypeModel        = "MODEL"
	TypeClip         = "CLIP"
	TypeVAE          = "VAE"
	TypeConditioning = "CONDITIONING"
)

// Hidden input kinds.
const (
	HiddenPrompt       = "PROMPT"
	HiddenExtraPNGInfo = "EXTRA_PNGINFO"
	HiddenUniqueID     = "UNIQUE_ID"
	HiddenDynPrompt    = "DYNPROMPT"
)

// Opt is one key of an input's options dict; Opts keep ComfyUI's key order.
type Opt struct {
	Key   string
	Value any
}

// Opts is an ordered options dict.
type Opts []Opt

// Get returns the value of key k.
func (o Opts) Get(k string) (any, bool) {
	for _, kv := range o {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return nil, false
}

// Bool returns a boolean option (false when absent).
func (o Opts) Bool(k string) bool {
	v, _ := o.Get(k)
	b, _ := v.(bool)
	return b
}

// Input declares one input of a node class.
type Input struct {
	Name string
	// Type is the type name ("INT", "IMAGE", "COMBO", "*", "IMAGE,FLOAT").
	// For a classic (V1) combo it is "" and Choices or ChoicesFunc give the list.
	Type        string
	Choices     []string
	ChoicesFunc func(Env) []string
	// Opts is nil for a bare ["TYPE"] spec (V1 only).
	Opts Opts
}

// IsCombo reports whether the input is a classic combo (the type is a list).
func (in Input) IsCombo() bool { return in.Type == "" }

// ComboValues returns the allowed values of a classic combo, or of a V3
// COMBO's "options".
func (in Input) ComboValues(env Env) []string {
	if in.ChoicesFunc != nil {
		return in.ChoicesFunc(env)
	}
	if in.Choices != nil {
		return in.Choices
	}
	if v, ok := in.Opts.Get("options"); ok {
		if s, ok := v.([]string); ok {
			return s
		}
	}
	return nil
}

// In declares an input: name, type, then option keys and values in
// ComfyUI's order: In("width", "INT", "default", 512, "min", 16).
// Go ints become JSON integers, float64 values JSON floats (8.0).
func In(name, typ string, kv ...any) Input {
	return Input{Name: name, Type: typ, Opts: opts(kv)}
}

// Combo declares a classic combo with fixed values.
func Combo(name string, values []string, kv ...any) Input {
	if values == nil {
		values = []string{}
	}
	return Input{Name: name, Choices: values, Opts: opts(kv)}
}

// ComboFunc declares a classic combo whose values are computed per request
// (file lists).
func ComboFunc(name string, values func(Env) []string, kv ...any) Input {
	return Input{Name: name, ChoicesFunc: values, Opts: opts(kv)}
}

func opts(kv []any) Opts {
	if len(kv) == 0 {
		return nil
	}
	if len(kv)%2 != 0 {
		panic("node: odd number of option arguments")
	}
	o := make(Opts, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		o = append(o, Opt{Key: kv[i].(string), Value: jsonValue(kv[i+1])})
	}
	return o
}

// jsonValue converts Go literals used in specs into the api value model.
func jsonValue(v any) any {
	switch t := v.(type) {
	case int:
		return api.Int(int64(t))
	case int64:
		return api.Int(t)
	case uint64:
		return api.Uint(t)
	case float64:
		return api.Float(t)
	case float32:
		return api.Float(float64(t))
	}
	return v
}

// MaxUint64 is the KSampler seed maximum, 0xffffffffffffffff.
const MaxUint64 = uint64(math.MaxUint64)

// Hidden declares a hidden input (PROMPT, EXTRA_PNGINFO, UNIQUE_ID, ...).
type Hidden struct {
	Name string
	Kind string
}

// Output declares one output slot.
type Output struct {
	Type    string
	Name    string // "" = the type
	IsList  bool
	Tooltip string // V3: null when ""
}

// Spec describes a node class: everything /object_info reports and what
// the validator and executor need to know about it.
type Spec struct {
	Name         string // class_type
	DisplayName  string // "" = the class name (V1) or null (V3)
	Category     string // "" = "sd"
	Description  string
	PythonModule string // "" = "nodes"

	Required []Input
	Optional []Input
	Hidden   []Hidden
	Outputs  []Output

	OutputNode    bool
	InputIsList   bool
	Deprecated    bool
	Experimental  bool
	NotIdempotent bool
	// OutputTooltips makes a V1 entry report output_tooltips (from Output.Tooltip).
	OutputTooltips bool
	// V3 selects the shape of schema-based nodes (§8.2 of the spec).
	V3 bool
	// Async nodes may run concurrently with other ready nodes of the same
	// prompt (ComfyUI's coroutine nodes).
	Async bool
}

// Input returns the declared required or optional input named name.
func (s *Spec) Input(name string) (Input, bool) {
	for _, in := range s.Required {
		if in.Name == name {
			return in, true
		}
	}
	for _, in := range s.Optional {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// IsRequired reports whether name is a required input.
func (s *Spec) IsRequired(name string) bool {
	for _, in := range s.Required {
		if in.Name == name {
			return true
		}
	}
	return false
}

// HiddenKind returns the hidden kind of input name, or "".
func (s *Spec) HiddenKind(name string) string {
	for _, h := range s.Hidden {
		if h.Name == name {
			return h.Kind
		}
	}
	return ""
}

// OutputTypes returns RETURN_TYPES.
func (s *Spec) OutputTypes() []string {
	t := make([]string, len(s.Outputs))
	for i, o := range s.Outputs {
		t[i] = o.Type
	}
	return t
}

// InputConfig is the declared input tuple as JSON ([type, options]); used
// as input_config in validation errors. Combos report their value list as
// the type.
func (in Input) InputConfig(env Env, v3 bool) []any {
	var typ any = in.Type
	if in.IsCombo() {
		typ = in.ComboValues(env)
	}
	if in.Opts == nil && !v3 {
		return []any{typ}
	}
	return []any{typ, optsObject(in.Opts)}
}

func optsObject(o Opts) *api.Object {
	obj := api.NewObject()
	for _, kv := range o {
		obj.Set(kv.Key, kv.Value)
	}
	return obj
}

// Info builds the node's /object_info entry with keys in ComfyUI's order.
func (s *Spec) Info(env Env) *api.Object {
	input := api.NewObject()
	order := api.NewObject()
	addGroup := func(group string, ins []Input) {
		if len(ins) == 0 {
			return
		}
		g := api.NewObject()
		names := make([]string, 0, len(ins))
		for _, in := range ins {
			g.Set(in.Name, in.InputConfig(env, s.V3))
			names = append(names, in.Name)
		}
		input.Set(group, g)
		order.Set(group, names)
	}
	addGroup("required", s.Required)
	addGroup("optional", s.Optional)
	if len(s.Hidden) > 0 {
		g := api.NewObject()
		names := make([]string, 0, len(s.Hidden))
		for _, h := range s.Hidden {
			if s.V3 {
				g.Set(h.Name, []any{h.Kind})
			} else {
				g.Set(h.Name, h.Kind)
			}
			names = append(names, h.Name)
		}
		input.Set("hidden", g)
		order.Set("hidden", names)
	}
	types := s.OutputTypes()
	isList := make([]bool, len(s.Outputs))
	names := make([]string, len(s.Outputs))
	tips := make([]any, len(s.Outputs))
	for i, o := range s.Outputs {
		isList[i] = o.IsList
		names[i] = o.Name
		if names[i] == "" {
			names[i] = o.Type
		}
		if o.Tooltip != "" {
			tips[i] = o.Tooltip
		}
	}
	info := api.NewObject()
	info.Set("input", input)
	info.Set("input_order", order)
	info.Set("output", types)
	info.Set("output_is_list", isList)
	info.Set("output_name", names)
	if s.V3 {
		info.Set("output_tooltips", tips)
	}
	info.Set("name", s.Name)
	switch {
	case s.DisplayName != "":
		info.Set("display_name", s.DisplayName)
	case s.V3:
		info.Set("display_name", nil)
	default:
		info.Set("display_name", s.Name)
	}
	info.Set("description", s.Description)
	mod := s.PythonModule
	if mod == "" {
		mod = "nodes"
	}
	info.Set("python_module", mod)
	cat := s.Category
	if cat == "" {
		cat = "sd"
	}
	info.Set("category", cat)
	info.Set("output_node", s.OutputNode)
	if s.V3 {
		info.Set("deprecated", s.Deprecated)
		info.Set("experimental", s.Experimental)
		info.Set("api_node", false)
		return info
	}
	if s.OutputTooltips {
		info.Set("output_tooltips", tips)
	}
	if s.Deprecated {
		info.Set("deprecated", true)
	}
	if s.Experimental {
		info.Set("experimental", true)
	}
	return info
}

// check panics on a malformed spec; called by Register.
func (s *Spec) check() {
	if s.Name == "" {
		panic("node: empty class name")
	}
	seen := map[string]bool{}
	for _, group := range [][]Input{s.Required, s.Optional} {
		for _, in := range group {
			if in.Name == "" || seen[in.Name] {
				panic(fmt.Sprintf("node %s: empty or duplicate input %q", s.Name, in.Name))
			}
			seen[in.Name] = true
		}
	}
}
