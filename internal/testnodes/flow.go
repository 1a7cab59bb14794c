package testnodes

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

const numFlowSockets = 5

func nowSeconds() float64 { return float64(time.Now().UnixNano()) / 1e9 }

func sleepCtx(c *node.Context, seconds float64) error {
	t := time.NewTimer(time.Duration(seconds * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.Done():
		return node.ErrInterrupted
	}
}

// toBig reads an INT value (json.Number from the prompt, int64 from nodes).
func toBig(v any) *big.Int {
	switch t := v.(type) {
	case json.Number:
		if b, ok := new(big.Int).SetString(string(t), 10); ok {
			return b
		}
	case *big.Int:
		return t
	case bool:
		if t {
			return big.NewInt(1)
		}
		return big.NewInt(0)
	}
	i, err := node.ToInt(v)
	if err != nil {
		panic(err)
	}
	return big.NewInt(i)
}

func intValue(b *big.Int) any { return json.Number(b.String()) }

func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case *tensor.Tensor:
		lo, hi := minMax(t)
		return !(lo == 0 && hi == 0)
	case string:
		return t != ""
	case json.Number:
		return toBig(t).Sign() != 0
	}
	if f, err := node.ToFloat(v); err == nil {
		return f != 0
	}
	return true
}

func anyInputs(prefix string, from, to int, kv ...any) []node.Input {
	var out []node.Input
	for i := from; i < to; i++ {
		out = append(out, node.In(fmt.Sprintf("%s%d", prefix, i), node.TypeAny, kv...))
	}
	return out
}

func flowDefs() []*node.Def {
	accum := func(name string, req []node.Input, outs []node.Output, f func(c *node.Context, in node.Inputs) (*node.Result, error)) *node.Def {
		return &node.Def{Spec: node.Spec{Name: name, Category: "Testing/Lists", Required: req, Outputs: outs}, New: fn(f)}
	}
	accIn := []node.Input{node.In("accumulation", "ACCUMULATION")}
	getAcc := func(in node.Inputs) []any {
		m, _ := in.Get("accumulation").(map[string]any)
		l, _ := m["accum"].([]any)
		return l
	}
	whileOutTypes := []node.Output{{Type: "FLOW_CONTROL"}}
	for i := 0; i < numFlowSockets; i++ {
		whileOutTypes = append(whileOutTypes, node.Output{Type: node.TypeAny, Name: fmt.Sprintf("value%d", i)})
	}
	closeOuts := []node.Output{}
	for i := 0; i < numFlowSockets; i++ {
		closeOuts = append(closeOuts, node.Output{Type: node.TypeAny, Name: fmt.Sprintf("value%d", i)})
	}
	forOpenOuts := []node.Output{{Type: "FLOW_CONTROL", Name: "flow_control"}, {Type: node.TypeInt, Name: "remaining"}}
	for i := 1; i < numFlowSockets; i++ {
		forOpenOuts = append(forOpenOuts, node.Output{Type: node.TypeAny, Name: fmt.Sprintf("value%d", i)})
	}
	intOp := []string{"add", "subtract", "multiply", "divide", "modulo", "power"}
	big64 := new(big.Int).SetUint64(0xffffffffffffffff)
	bigNeg := new(big.Int).Neg(big64)
	return []*node.Def{
		{Spec: node.Spec{Name: "TestWhileLoopOpen", Category: "Testing/Flow",
			Required: []node.Input{node.In("condition", node.TypeBoolean, "default", true)},
			Optional: anyInputs("initial_value", 0, numFlowSockets), Outputs: whileOutTypes},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				vals := []any{"stub"}
				for i := 0; i < numFlowSockets; i++ {
					vals = append(vals, in.Get(fmt.Sprintf("initial_value%d", i)))
				}
				return node.Outputs(vals...), nil
			})},
		{Spec: node.Spec{Name: "TestWhileLoopClose", Category: "Testing/Flow",
			Required: []node.Input{node.In("flow_control", "FLOW_CONTROL", "rawLink", true), node.In("condition", node.TypeBoolean, "forceInput", true)},
			Optional: anyInputs("initial_value", 0, numFlowSockets),
			Hidden:   []node.Hidden{{Name: "dynprompt", Kind: node.HiddenDynPrompt}, {Name: "unique_id", Kind: node.HiddenUniqueID}},
			Outputs:  closeOuts},
			New: fn(whileLoopClose)},
		{Spec: node.Spec{Name: "TestForLoopOpen", Category: "Testing/Flow",
			Required: []node.Input{node.In("remaining", node.TypeInt, "default", 1, "min", 0, "max", 100000, "step", 1)},
			Optional: anyInputs("initial_value", 1, numFlowSockets),
			Hidden:   []node.Hidden{{Name: "initial_value0", Kind: node.TypeAny}},
			Outputs:  forOpenOuts},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				g := newBuilder(c)
				remaining := in.Get("remaining")
				if _, ok := in["initial_value0"]; ok {
					remaining = in.Get("initial_value0")
				}
				inputs := map[string]any{"condition": remaining, "initial_value0": remaining}
				outs := []any{"stub", remaining}
				for i := 1; i < numFlowSockets; i++ {
					k := fmt.Sprintf("initial_value%d", i)
					inputs[k] = in.Get(k)
					outs = append(outs, in.Get(k))
				}
				g.node("TestWhileLoopOpen", "", inputs)
				return &node.Result{Outputs: outs, Expand: g.nodes}, nil
			})},
		{Spec: node.Spec{Name: "TestForLoopClose", Category: "Testing/Flow",
			Required: []node.Input{node.In("flow_control", "FLOW_CONTROL", "rawLink", true)},
			Optional: anyInputs("initial_value", 1, numFlowSockets, "rawLink", true),
			Outputs:  closeOuts[1:]},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				g := newBuilder(c)
				fc := in.Get("flow_control").(node.Link)
				sub := g.node("TestIntMathOperation", "", map[string]any{"operation": "subtract", "a": node.Link{Node: fc.Node, Index: 1}, "b": 1})
				cond := g.node("TestToBoolNode", "", map[string]any{"value": out(sub, 0)})
				inputs := map[string]any{"flow_control": fc, "condition": out(cond, 0), "initial_value0": out(sub, 0)}
				for i := 1; i < numFlowSockets; i++ {
					k := fmt.Sprintf("initial_value%d", i)
					inputs[k] = in.Get(k)
				}
				wc := g.node("TestWhileLoopClose", "", inputs)
				var res []any
				for i := 1; i < numFlowSockets; i++ {
					res = append(res, out(wc, i))
				}
				return &node.Result{Outputs: res, Expand: g.nodes}, nil
			})},
		{Spec: node.Spec{Name: "TestIntMathOperation", Category: "Testing/Logic",
			Required: []node.Input{
				node.In("a", node.TypeInt, "default", 0, "min", intValue(bigNeg), "max", intValue(big64), "step", 1),
				node.In("b", node.TypeInt, "default", 0, "min", intValue(bigNeg), "max", intValue(big64), "step", 1),
				node.Combo("operation", intOp)},
			Outputs: []node.Output{{Type: node.TypeInt}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				a, b := toBig(in.Get("a")), toBig(in.Get("b"))
				r := new(big.Int)
				switch in.String("operation") {
				case "add":
					r.Add(a, b)
				case "subtract":
					r.Sub(a, b)
				case "multiply":
					r.Mul(a, b)
				case "divide", "modulo":
					if b.Sign() == 0 {
						return nil, node.Errorf("ZeroDivisionError", "integer division or modulo by zero")
					}
					q, m := new(big.Int).DivMod(a, b, new(big.Int))
					// Python floors; DivMod is Euclidean: adjust for b < 0.
					if m.Sign() != 0 && b.Sign() < 0 {
						q.Add(q, big.NewInt(1))
						m.Add(m, b)
					}
					if in.String("operation") == "divide" {
						r = q
					} else {
						r = m
					}
				case "power":
					r.Exp(a, b, nil)
				}
				return node.Outputs(intValue(r)), nil
			})},
		{Spec: node.Spec{Name: "TestToBoolNode", Category: "Testing/Logic",
			Required: []node.Input{node.In("value", node.TypeAny)},
			Optional: []node.Input{node.In("invert", node.TypeBoolean, "default", false)},
			Outputs:  []node.Output{{Type: node.TypeBoolean}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				r := truthy(in.Get("value"))
				if in.Has("invert") && in.Bool("invert") {
					r = !r
				}
				return node.Outputs(r), nil
			})},
		{Spec: node.Spec{Name: "TestIntConditions", Category: "Testing/Logic",
			Required: []node.Input{
				node.In("a", node.TypeInt, "default", 0, "min", intValue(bigNeg), "max", intValue(big64), "step", 1),
				node.In("b", node.TypeInt, "default", 0, "min", intValue(bigNeg), "max", intValue(big64), "step", 1),
				node.Combo("operation", []string{"==", "!=", "<", ">", "<=", ">="})},
			Outputs: []node.Output{{Type: node.TypeBoolean}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				cmp := toBig(in.Get("a")).Cmp(toBig(in.Get("b")))
				var r bool
				switch in.String("operation") {
				case "==":
					r = cmp == 0
				case "!=":
					r = cmp != 0
				case "<":
					r = cmp < 0
				case ">":
					r = cmp > 0
				case "<=":
					r = cmp <= 0
				case ">=":
					r = cmp >= 0
				}
				return node.Outputs(r), nil
			})},
		{Spec: node.Spec{Name: "TestMakeListNode", Category: "Testing/Lists",
			Required: []node.Input{node.In("value1", node.TypeAny)},
			Optional: anyInputs("value", 2, 10), // ComfyUI declares value1 twice (required and optional)
			Outputs:  []node.Output{{Type: node.TypeAny, IsList: true}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				var l []any
				for i := 0; i < 10; i++ {
					if v, ok := in[fmt.Sprintf("value%d", i)]; ok {
						l = append(l, v)
					}
				}
				if l == nil {
					l = []any{}
				}
				return node.Outputs(l), nil
			})},
		accum("TestAccumulateNode", []node.Input{node.In("to_add", node.TypeAny)}, []node.Output{{Type: "ACCUMULATION"}},
			func(c *node.Context, in node.Inputs) (*node.Result, error) {
				prev := getAcc(in)
				return node.Outputs(map[string]any{"accum": append(append([]any{}, prev...), in.Get("to_add"))}), nil
			}),
		accum("TestAccumulationHeadNode", accIn, []node.Output{{Type: "ACCUMULATION"}, {Type: node.TypeAny}},
			func(c *node.Context, in node.Inputs) (*node.Result, error) {
				l := getAcc(in)
				if len(l) == 0 {
					return node.Outputs(in.Get("accumulation"), nil), nil
				}
				return node.Outputs(map[string]any{"accum": l[1:]}, l[0]), nil
			}),
		accum("TestAccumulationTailNode", accIn, []node.Output{{Type: "ACCUMULATION"}, {Type: node.TypeAny}},
			func(c *node.Context, in node.Inputs) (*node.Result, error) {
				l := getAcc(in)
				if len(l) == 0 {
					return node.Outputs(nil, in.Get("accumulation")), nil
				}
				return node.Outputs(map[string]any{"accum": l[:len(l)-1]}, l[len(l)-1]), nil
			}),
		{Spec: node.Spec{Name: "TestAccumulationToListNode", Category: "Testing/Lists", Required: accIn,
			Outputs: []node.Output{{Type: node.TypeAny, IsList: true}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				return node.Outputs(append([]any{}, getAcc(in)...)), nil
			})},
		{Spec: node.Spec{Name: "TestListToAccumulationNode", Category: "Testing/Lists", InputIsList: true,
			Required: []node.Input{node.In("list", node.TypeAny)}, Outputs: []node.Output{{Type: "ACCUMULATION"}}},
			New: fn(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				l, _ := in.Get("list").([]any)
				return node.Outputs(map[string]any{"accum": l}), nil
			})},
		accum("TestAccumulationGetLengthNode", accIn, []node.Output{{Type: node.TypeInt}},
			func(c *node.Context, in node.Inputs) (*node.Result, error) {
				return node.Outputs(intValue(big.NewInt(int64(len(getAcc(in)))))), nil
			}),
		accum("TestAccumulationGetItemNode", append(append([]node.Input{}, accIn...), node.In("index", node.TypeInt, "default", 0, "step", 1)),
			[]node.Output{{Type: node.TypeAny}},
			func(c *node.Context, in node.Inputs) (*node.Result, error) {
				l := getAcc(in)
				i := int(in.Int("index"))
				if i < 0 {
					i += len(l)
				}
				if i < 0 || i >= len(l) {
					return nil, node.Errorf("IndexError", "list index out of range")
				}
				return node.Outputs(l[i]), nil
			}),
		accum("TestAccumulationSetItemNode", append(append([]node.Input{}, accIn...), node.In("index", node.TypeInt, "default", 0, "step", 1), node.In("value", node.TypeAny)),
			[]node.Output{{Type: "ACCUMULATION"}},
			func(c *node.Context, in node.Inputs) (*node.Result, error) {
				l := append([]any{}, getAcc(in)...)
				i := int(in.Int("index"))
				if i < 0 {
					i += len(l)
				}
				if i < 0 || i >= len(l) {
					return nil, node.Errorf("IndexError", "list assignment index out of range")
				}
				l[i] = in.Get("value")
				return node.Outputs(map[string]any{"accum": l}), nil
			}),
	}
}

// whileLoopClose re-expands the loop body (every node between the open node
// and this one) until the condition is false, as TestWhileLoopClose does.
func whileLoopClose(c *node.Context, in node.Inputs) (*node.Result, error) {
	if !truthy(in.Get("condition")) {
		var vals []any
		for i := 0; i < numFlowSockets; i++ {
			vals = append(vals, in.Get(fmt.Sprintf("initial_value%d", i)))
		}
		return node.Outputs(vals...), nil
	}
	dp, ok := in.Get("dynprompt").(node.DynPrompt)
	if !ok {
		return nil, node.Errorf("AssertionError", "dynprompt missing")
	}
	uid := in.String("unique_id")
	// upstream: parent -> children, from this node up to the prompt inputs.
	upstream := map[string][]string{}
	stack := []string{uid}
	visited := map[string]bool{uid: true}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		_, inputs, ok := dp.NodeInfo(id)
		if !ok {
			continue
		}
		for _, v := range sortedValues(inputs) {
			l, isLink := v.(node.Link)
			if !isLink {
				continue
			}
			if _, seen := upstream[l.Node]; !seen {
				upstream[l.Node] = nil
			}
			upstream[l.Node] = append(upstream[l.Node], id)
			if !visited[l.Node] {
				visited[l.Node] = true
				stack = append(stack, l.Node)
			}
		}
	}
	open := in.Get("flow_control").(node.Link).Node
	contained := map[string]bool{}
	var order []string
	work := []string{open}
	for len(work) > 0 {
		id := work[len(work)-1]
		work = work[:len(work)-1]
		for _, ch := range upstream[id] {
			if !contained[ch] {
				contained[ch] = true
				order = append(order, ch)
				work = append(work, ch)
			}
		}
	}
	for _, id := range []string{uid, open} {
		if !contained[id] {
			contained[id] = true
			order = append(order, id)
		}
	}
	g := newBuilder(c)
	local := func(id string) string {
		if id == uid {
			return "Recurse"
		}
		return id
	}
	for _, id := range order {
		ct, _, _ := dp.NodeInfo(id)
		nid := g.node(ct, local(id), nil)
		g.nodes[g.index[nid]].OverrideDisplayID = id
	}
	for _, id := range order {
		_, inputs, _ := dp.NodeInfo(id)
		nid := g.prefix + local(id)
		for k, v := range inputs {
			if l, isLink := v.(node.Link); isLink && contained[l.Node] {
				g.set(nid, k, out(g.prefix+local(l.Node), l.Index))
			} else {
				g.set(nid, k, v)
			}
		}
	}
	newOpen := g.prefix + open
	for i := 0; i < numFlowSockets; i++ {
		k := fmt.Sprintf("initial_value%d", i)
		g.set(newOpen, k, in.Get(k))
	}
	clone := g.prefix + "Recurse"
	var res []any
	for i := 0; i < numFlowSockets; i++ {
		res = append(res, out(clone, i))
	}
	return &node.Result{Outputs: res, Expand: g.nodes}, nil
}

func sortedValues(m map[string]any) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}
