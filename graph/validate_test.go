package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

func mustPrompt(t testing.TB, s string) *api.Object {
	t.Helper()
	v, err := api.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*api.Object)
}

func inputOf(p *api.Object, id, name string) any {
	n, _ := api.PromptNodeOf(p, id)
	v, _ := n.Inputs.Get(name)
	return v
}

type kwValidator struct{ spec node.ValidateSpec }

func (k kwValidator) ValidateSpec() node.ValidateSpec { return k.spec }
func (k kwValidator) Validate(env node.Env, in node.Inputs, types map[string]string) (bool, string) {
	if v, ok := in["b"]; ok && v != nil && fmt.Sprint(v) == "7" {
		return false, "7s are not allowed"
	}
	if k.spec.InputTypes && types["a"] == "MASK" {
		return false, ""
	}
	return true, ""
}

// testRegistry: a literal sink with every coerced type, a big-int range and
// a validator with **kwargs.
func testRegistry() *node.Registry {
	reg := node.NewRegistry()
	many := make([]string, 25)
	for i := range many {
		many[i] = fmt.Sprintf("opt%d", i)
	}
	reg.Register(&node.Def{Spec: node.Spec{Name: "Lit", OutputNode: true,
		Required: []node.Input{
			node.In("i", node.TypeInt, "min", -5, "max", 10),
		},
		Optional: []node.Input{
			node.In("f", node.TypeFloat, "min", 0.0, "max", 1.0),
			node.In("s", node.TypeString),
			node.In("b", node.TypeBoolean),
			node.In("seed", node.TypeInt, "min", 0, "max", node.MaxUint64),
			node.Combo("c", []string{"a", "b"}),
			node.Combo("big", many),
			node.In("v3", node.TypeCombo, "options", []string{"x", "y"}),
			node.In("img", node.TypeImage),
			node.In("list", "*"),
		},
		Outputs: []node.Output{{Type: node.TypeImage}, {Type: node.TypeMask}}}, New: noop})
	reg.Register(&node.Def{Spec: node.Spec{Name: "Src", Outputs: []node.Output{{Type: node.TypeImage}, {Type: "STRING,INT"}}}, New: noop})
	reg.Register(&node.Def{Spec: node.Spec{Name: "Pass",
		Required: []node.Input{node.In("x", node.TypeImage)},
		Outputs:  []node.Output{{Type: node.TypeImage}}}, New: noop})
	reg.Register(&node.Def{Spec: node.Spec{Name: "Out", OutputNode: true,
		Required: []node.Input{node.In("x", node.TypeImage)}}, New: noop})
	reg.Register(&node.Def{Spec: node.Spec{Name: "KW", OutputNode: true,
		Required: []node.Input{node.In("a", "IMAGE,MASK"), node.In("b", node.TypeFloat, "min", 0.0, "max", 1.0)}},
		New: noop, Validator: kwValidator{node.ValidateSpec{All: true}}})
	reg.Register(&node.Def{Spec: node.Spec{Name: "Typed", OutputNode: true,
		Required: []node.Input{node.In("a", node.TypeFloat)}},
		New: noop, Validator: kwValidator{node.ValidateSpec{InputTypes: true}}})
	return reg
}

func TestCoercionWrittenBack(t *testing.T) {
	reg := testRegistry()
	p := mustPrompt(t, `{"1":{"class_type":"Lit","inputs":{"i":"7","f":"0.5","s":5,"b":"false","seed":18446744073709551615,"c":{"__value__":"a"}}},
		"2":{"class_type":"Lit","inputs":{"i":3.9,"s":5.0,"b":0}},
		"3":{"class_type":"Lit","inputs":{"i":true,"s":true}},
		"4":{"class_type":"Lit","inputs":{"i":-2,"s":null,"b":""}}}`)
	outs, ne, err := Validate(reg, nil, p, nil)
	if err != nil || len(ne) != 0 || len(outs) != 4 {
		t.Fatalf("outs %v errs %v %v", outs, api.MustMarshal(ne), err)
	}
	want := map[string]string{
		"1.i": `7`, "1.f": `0.5`, "1.s": `"5"`, "1.b": `true`, "1.seed": `18446744073709551615`, "1.c": `"a"`,
		"2.i": `3`, "2.s": `"5.0"`, "2.b": `false`,
		"3.i": `1`, "3.s": `"True"`,
		"4.i": `-2`, "4.s": `"None"`, "4.b": `false`,
	}
	for k, w := range want {
		id, name, _ := strings.Cut(k, ".")
		if got := string(api.MustMarshal(inputOf(p, id, name))); got != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
}

func singleError(t *testing.T, reg *node.Registry, prompt string) api.Error {
	t.Helper()
	p := mustPrompt(t, prompt)
	_, ne, err := Validate(reg, nil, p, nil)
	if err == nil {
		t.Fatalf("passed")
	}
	for _, e := range ne {
		if len(e.Errors) == 1 {
			return e.Errors[0]
		}
		t.Fatalf("errors: %s", api.MustMarshal(ne))
	}
	t.Fatalf("no node errors: %s", api.MustMarshal(err))
	return api.Error{}
}

func TestLiteralErrors(t *testing.T) {
	reg := testRegistry()
	cases := []struct{ inputs, typ, msg, details string }{
		{`"i":"abc"`, api.ErrInvalidInputType, "Failed to convert an input value to a INT value", "i, abc, invalid literal for int() with base 10: 'abc'"},
		{`"i":"5.0"`, api.ErrInvalidInputType, "Failed to convert an input value to a INT value", "i, 5.0, invalid literal for int() with base 10: '5.0'"},
		{`"i":null`, api.ErrInvalidInputType, "Failed to convert an input value to a INT value", "i, None, int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
		{`"i":1,"f":"x"`, api.ErrInvalidInputType, "Failed to convert an input value to a FLOAT value", "f, x, could not convert string to float: 'x'"},
		{`"i":-6`, api.ErrValueSmallerThanMin, "Value -6 smaller than min of -5", "i"},
		{`"i":11`, api.ErrValueBiggerThanMax, "Value 11 bigger than max of 10", "i"},
		{`"i":1,"f":1.5`, api.ErrValueBiggerThanMax, "Value 1.5 bigger than max of 1.0", "f"},
		{`"i":1,"f":2`, api.ErrValueBiggerThanMax, "Value 2.0 bigger than max of 1.0", "f"},
		{`"i":1,"seed":18446744073709551616`, api.ErrValueBiggerThanMax, "Value 18446744073709551616 bigger than max of 18446744073709551615", "seed"},
		{`"i":1,"seed":-1`, api.ErrValueSmallerThanMin, "Value -1 smaller than min of 0", "seed"},
		{`"i":1,"c":"z"`, api.ErrValueNotInList, "Value not in list", "c: 'z' not in ['a', 'b']"},
		{`"i":1,"big":"z"`, api.ErrValueNotInList, "Value not in list", "big: 'z' not in (list of length 25)"},
		{`"i":1,"v3":"z"`, api.ErrValueNotInList, "Value not in list", "v3: 'z' not in ['x', 'y']"},
		{`"i":1,"img":["1"]`, api.ErrBadLinkedInput, api.MsgBadLinkedInput, "img"},
	}
	for _, c := range cases {
		e := singleError(t, reg, `{"1":{"class_type":"Lit","inputs":{`+c.inputs+`}}}`)
		if e.Type != c.typ || e.Message != c.msg || e.Details != c.details {
			t.Errorf("%s: got %s / %s / %s", c.inputs, e.Type, e.Message, e.Details)
		}
	}
	// More than 20 options: input_config is null.
	e := singleError(t, reg, `{"1":{"class_type":"Lit","inputs":{"i":1,"big":"z"}}}`)
	if cfg, _ := e.ExtraInfo.Get("input_config"); cfg != nil {
		t.Errorf("input_config = %v, want null", cfg)
	}
	e = singleError(t, reg, `{"1":{"class_type":"Lit","inputs":{"i":1,"c":"z"}}}`)
	if got := string(api.MustMarshal(e.ExtraInfo)); got != `{"input_name":"c","input_config":[["a","b"],{}],"received_value":"z"}` {
		t.Errorf("extra_info %s", got)
	}
}

func TestLinkErrors(t *testing.T) {
	reg := testRegistry()
	e := singleError(t, reg, `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"Out","inputs":{"x":["1",1]}}}`)
	if e.Type != api.ErrReturnTypeMismatch || e.Details != "x, received_type(STRING,INT) mismatch input_type(IMAGE)" {
		t.Errorf("got %+v", e)
	}
	// Comma sets intersect: STRING,INT feeds a "*"/union input fine.
	p := mustPrompt(t, `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"Lit","inputs":{"i":1,"list":["1",1]}}}`)
	if _, _, err := Validate(reg, nil, p, nil); err != nil {
		t.Errorf("union: %v", err)
	}
	e = singleError(t, reg, `{"2":{"class_type":"Out","inputs":{"x":["1",-3]}},"1":{"class_type":"Src","inputs":{}}}`)
	if e.Type != api.ErrExceptionDuringValidation || e.Details != "tuple index out of range" {
		t.Errorf("got %+v", e)
	}
	if et, _ := e.ExtraInfo.Get("exception_type"); et != "IndexError" {
		t.Errorf("exception_type %v", et)
	}
	// Negative indexes count from the end, as in Python.
	p = mustPrompt(t, `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"Out","inputs":{"x":["1",-2]}}}`)
	if _, _, err := Validate(reg, nil, p, nil); err != nil {
		t.Errorf("negative index: %v", err)
	}
}

// A missing source node deep in one branch fails only that output; the error
// sits on the node whose validation raised (the one linking to the missing
// id), with the linking node's input name (spec §5.3 example).
func TestPartialSuccessMissingNode(t *testing.T) {
	reg := testRegistry()
	p := mustPrompt(t, `{"1":{"class_type":"Src","inputs":{}},
		"10":{"class_type":"Pass","inputs":{"x":["removeme",0]}},
		"11":{"class_type":"Out","inputs":{"x":["1",0]}},
		"12":{"class_type":"Out","inputs":{"x":["10",0]}}}`)
	outs, ne, err := Validate(reg, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(outs) != "[11]" {
		t.Errorf("outputs %v", outs)
	}
	got := string(api.MustMarshal(ne["10"]))
	if !strings.Contains(got, `"type":"exception_during_inner_validation","message":"Exception when validating inner node","details":"'removeme'"`) ||
		!strings.Contains(got, `"input_name":"x"`) || !strings.Contains(got, `"exception_type":"KeyError"`) ||
		!strings.Contains(got, `"linked_node":["10",0]`) || !strings.HasSuffix(got, `"dependent_outputs":["12"],"class_type":"Pass"}`) {
		t.Errorf("node_errors[10] = %s", got)
	}
	if len(ne) != 1 {
		t.Errorf("node_errors %s", api.MustMarshal(ne))
	}
}

func TestCustomValidation(t *testing.T) {
	reg := testRegistry()
	// **kwargs: min/max skipped (5.0 > max 1.0 accepted).
	p := mustPrompt(t, `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"KW","inputs":{"a":["1",0],"b":5.0}}}`)
	if _, ne, err := Validate(reg, nil, p, nil); err != nil {
		t.Fatalf("%v %s", err, api.MustMarshal(ne))
	}
	// A failing call gives one error per passed input name.
	p = mustPrompt(t, `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"KW","inputs":{"a":["1",0],"b":7}}}`)
	_, ne, err := Validate(reg, nil, p, nil)
	if err == nil {
		t.Fatal("passed")
	}
	var details []string
	for _, e := range ne["2"].Errors {
		details = append(details, e.Details)
	}
	if got := strings.Join(details, "|"); got != "a - 7s are not allowed|b - 7s are not allowed" {
		t.Errorf("details %q", got)
	}
	if err.Details != "Custom validation failed for node: a - 7s are not allowed\nCustom validation failed for node: b - 7s are not allowed" {
		t.Errorf("top details %q", err.Details)
	}
}

func TestInputTypesSkipsLinkCheck(t *testing.T) {
	reg := testRegistry()
	// IMAGE into FLOAT would mismatch, but input_types exempts the check.
	p := mustPrompt(t, `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"Typed","inputs":{"a":["1",0]}}}`)
	if _, ne, err := Validate(reg, nil, p, nil); err != nil {
		t.Fatalf("%v %s", err, api.MustMarshal(ne))
	}
}

func TestDependencyCycle(t *testing.T) {
	reg := testRegistry()
	p := mustPrompt(t, `{"1":{"class_type":"Pass","inputs":{"x":["2",0]}},"2":{"class_type":"Pass","inputs":{"x":["1",0]}},
		"3":{"class_type":"Out","inputs":{"x":["1",0]}}}`)
	_, ne, err := Validate(reg, nil, p, nil)
	if err == nil || err.Type != api.ErrPromptOutputsFailed {
		t.Fatalf("err %v", err)
	}
	for id, want := range map[string]string{"1": "1 (Pass) -> 2 (Pass) -> 1 (Pass)", "2": "2 (Pass) -> 1 (Pass) -> 2 (Pass)"} {
		e := ne[id]
		if e == nil || e.Errors[0].Type != api.ErrDependencyCycle || e.Errors[0].Details != want {
			t.Errorf("node %s: %s", id, api.MustMarshal(e))
			continue
		}
		if got := string(api.MustMarshal(e.Errors[0].ExtraInfo)); !strings.Contains(got, `"node_id":"`+id+`"`) || !strings.Contains(got, `"cycle_nodes":[`) {
			t.Errorf("extra_info %s", got)
		}
	}
	if _, bad := ne["3"]; bad {
		t.Errorf("output reported with own reasons")
	}
}

func TestPartialTargets(t *testing.T) {
	reg := testRegistry()
	p := `{"1":{"class_type":"Src","inputs":{}},"2":{"class_type":"Out","inputs":{"x":["1",0]}},"3":{"class_type":"Out","inputs":{"x":["1",0]}}}`
	outs, _, err := Validate(reg, nil, mustPrompt(t, p), []string{"3", "1"})
	if err != nil || fmt.Sprint(outs) != "[3]" {
		t.Errorf("outs %v err %v", outs, err)
	}
	_, _, err = Validate(reg, nil, mustPrompt(t, p), []string{})
	if err == nil || err.Type != api.ErrPromptNoOutputs {
		t.Errorf("empty targets: %v", err)
	}
}

func chainPrompt(n int) string {
	var b strings.Builder
	b.WriteString(`{"0":{"class_type":"Src","inputs":{}}`)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, `,"%d":{"class_type":"Pass","inputs":{"x":["%d",0]}}`, i, i-1)
	}
	fmt.Fprintf(&b, `,"out":{"class_type":"Out","inputs":{"x":["%d",0]}}}`, n-1)
	return b.String()
}

func TestLongChain(t *testing.T) {
	reg := testRegistry()
	p := mustPrompt(t, chainPrompt(5000))
	outs, _, err := Validate(reg, nil, p, nil)
	if err != nil || len(outs) != 1 {
		t.Fatalf("%v %v", outs, err)
	}
	dp := NewDynPrompt(p)
	s := NewSigner(dp, reg, nil)
	k1 := s.Key("out")
	if k1 != NewSigner(NewDynPrompt(mustPrompt(t, chainPrompt(5000))), reg, nil).Key("out") {
		t.Error("signature not deterministic")
	}
}

func TestSignatureEquality(t *testing.T) {
	reg := testRegistry()
	sig := func(prompt, id string, fp func(string) any) Key {
		return NewSigner(NewDynPrompt(mustPrompt(t, prompt)), reg, fp).Key(id)
	}
	a := sig(`{"1":{"class_type":"Lit","inputs":{"i":1}}}`, "1", nil)
	if a != sig(`{"7":{"class_type":"Lit","inputs":{"i":1.0}}}`, "7", nil) || a != sig(`{"1":{"class_type":"Lit","inputs":{"i":true}}}`, "1", nil) {
		t.Error("1, 1.0 and true must share a key (Python equality); node ids must not matter")
	}
	if a == sig(`{"1":{"class_type":"Lit","inputs":{"i":"1"}}}`, "1", nil) {
		t.Error("string 1 equals int 1")
	}
	// Links: same structure, different ids → same key; different source literal → different.
	l1 := sig(`{"1":{"class_type":"Lit","inputs":{"i":1}},"2":{"class_type":"Out","inputs":{"x":["1",0]}}}`, "2", nil)
	l2 := sig(`{"a":{"class_type":"Lit","inputs":{"i":1}},"b":{"class_type":"Out","inputs":{"x":["a",0]}}}`, "b", nil)
	l3 := sig(`{"a":{"class_type":"Lit","inputs":{"i":2}},"b":{"class_type":"Out","inputs":{"x":["a",0]}}}`, "b", nil)
	l4 := sig(`{"a":{"class_type":"Lit","inputs":{"i":1}},"b":{"class_type":"Out","inputs":{"x":["a",1]}}}`, "b", nil)
	if l1 != l2 || l1 == l3 || l1 == l4 {
		t.Error("link signatures")
	}
	nan := func(string) any { return api.Float(mathNaN()) }
	if sig(`{"1":{"class_type":"Lit","inputs":{"i":1}}}`, "1", nan) == sig(`{"1":{"class_type":"Lit","inputs":{"i":1}}}`, "1", nan) {
		t.Error("NaN fingerprints must never match")
	}
	// Missing source: never equal.
	if sig(`{"2":{"class_type":"Out","inputs":{"x":["9",0]}}}`, "2", nil) == sig(`{"2":{"class_type":"Out","inputs":{"x":["9",0]}}}`, "2", nil) {
		t.Error("missing source matched")
	}
}

func BenchmarkValidate(b *testing.B) {
	reg := comfyRegistry(b)
	const src = `{"1":{"class_type":"EmptyImage","inputs":{"width":64,"height":64,"batch_size":1,"color":0}},
	"2":{"class_type":"ImageInvert","inputs":{"image":["1",0]}},
	"3":{"class_type":"ImageScale","inputs":{"image":["2",0],"upscale_method":"bilinear","width":32,"height":32,"crop":"disabled"}},
	"4":{"class_type":"ImageBlend","inputs":{"image1":["3",0],"image2":["3",0],"blend_factor":0.5,"blend_mode":"normal"}},
	"5":{"class_type":"SaveImage","inputs":{"images":["4",0],"filename_prefix":"bench"}},
	"6":{"class_type":"PreviewImage","inputs":{"images":["2",0]}}}`
	raw := []byte(src)
	b.ReportAllocs()
	for b.Loop() {
		v, _ := api.Decode(raw)
		if _, _, err := Validate(reg, nil, v.(*api.Object), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSignatureIncludesID(t *testing.T) {
	reg := node.NewRegistry()
	reg.Register(&node.Def{Spec: node.Spec{Name: "NI", NotIdempotent: true}, New: noop})
	reg.Register(&node.Def{Spec: node.Spec{Name: "UID", Hidden: []node.Hidden{{Name: "u", Kind: node.HiddenUniqueID}}}, New: noop})
	reg.Register(&node.Def{Spec: node.Spec{Name: "Plain"}, New: noop})
	for class, wantSame := range map[string]bool{"NI": false, "UID": false, "Plain": true} {
		p := mustPrompt(t, `{"a":{"class_type":"`+class+`","inputs":{}},"b":{"class_type":"`+class+`","inputs":{}}}`)
		s := NewSigner(NewDynPrompt(p), reg, nil)
		if (s.Key("a") == s.Key("b")) != wantSame {
			t.Errorf("%s: same key = %v", class, !wantSame)
		}
	}
}
