package graph

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// ValidationError is a failed validation as an error value (for code that
// wraps errors); the server writes Err and NodeErrors as the 400 body.
type ValidationError struct {
	Err        *api.Error
	NodeErrors map[string]*api.NodeError
}

func (e *ValidationError) Error() string { return e.Err.Message + ": " + e.Err.Details }

// Validate checks a prompt against reg exactly as ComfyUI's validate_prompt
// (spec §5.3–5.5), mutating it (coerced literals, unwrapped __value__).
// targets == nil means no partial_execution_targets. On failure err is the
// top-level error (400) and nodeErrors may be non-empty; on success outputs
// lists the valid output node ids in prompt order (nodeErrors may still be
// non-empty: partial success → 200). Static cycles → "dependency_cycle"
// errors (newer ComfyUI's shape). No recursion: a 5,000-node chain validates.
func Validate(reg *node.Registry, env node.Env, prompt *api.Object, targets []string) (outputs []string, nodeErrors map[string]*api.NodeError, err *api.Error) {
	nodeErrors = map[string]*api.NodeError{}
	v := &validator{reg: reg, env: env, prompt: prompt, nodes: map[string]*pnode{}, memo: map[string]*vresult{}}
	var targetSet map[string]bool
	if targets != nil {
		targetSet = make(map[string]bool, len(targets))
		for _, t := range targets {
			targetSet[t] = true
		}
	}
	var outs []string
	for _, id := range prompt.Keys() {
		pn, ok := api.PromptNodeOf(prompt, id)
		ct, hasCT := any(nil), false
		if ok {
			ct, hasCT = pn.Raw.Get("class_type")
		}
		if !hasCT {
			e := api.NewError(api.ErrInvalidPrompt, api.MsgMissingClassType, "Node ID '#"+id+"'", nil)
			return nil, nodeErrors, &e
		}
		name, _ := ct.(string)
		def, found := reg.Get(name)
		if _, isStr := ct.(string); !isStr || !found {
			e := api.NewError(api.ErrInvalidPrompt, api.MsgUnknownClass(api.PyStr(ct)), "Node ID '#"+id+"'", nil)
			return nil, nodeErrors, &e
		}
		v.nodes[id] = &pnode{id: id, def: def, inputs: pn.Inputs}
		if def.Spec.OutputNode && (targetSet == nil || targetSet[id]) {
			outs = append(outs, id)
		}
	}
	if len(outs) == 0 {
		e := api.NewError(api.ErrPromptNoOutputs, api.MsgPromptNoOutputs, "", nil)
		return nil, nodeErrors, &e
	}

	v.findCycles(outs)

	type failed struct {
		id      string
		reasons []api.Error
	}
	var fails []failed
	for _, o := range outs {
		res, exc := v.validateSafe(o)
		if exc != nil {
			extra := api.ObjectOf("exception_type", exc.Type, "traceback", exc.traceback())
			res = &vresult{reasons: []api.Error{api.NewError(api.ErrExceptionDuringValidation, api.MsgExceptionDuringValidation, exc.Msg, extra)}}
			v.setMemo(o, res)
		}
		if res.valid {
			outputs = append(outputs, o)
			continue
		}
		fails = append(fails, failed{o, res.reasons})
		// ComfyUI walks the whole shared memo for every failed output, so
		// dependent_outputs may name outputs that do not depend on the node
		// (quirk kept).
		for _, id := range v.memoOrder {
			r := v.memo[id]
			if r.valid || len(r.reasons) == 0 {
				continue
			}
			ne := nodeErrors[id]
			if ne == nil {
				ct := ""
				if pn := v.nodes[id]; pn != nil {
					ct = pn.def.Spec.Name
				}
				ne = &api.NodeError{Errors: r.reasons, DependentOutputs: []string{}, ClassType: ct}
				nodeErrors[id] = ne
			}
			ne.DependentOutputs = append(ne.DependentOutputs, o)
		}
	}
	if len(outputs) == 0 {
		var lines []string
		for _, f := range fails {
			for _, r := range f.reasons {
				lines = append(lines, r.Message+": "+r.Details)
			}
		}
		e := api.NewError(api.ErrPromptOutputsFailed, api.MsgPromptOutputsFailed, strings.Join(lines, "\n"), nil)
		return nil, nodeErrors, &e
	}
	return outputs, nodeErrors, nil
}

type pnode struct {
	id     string
	def    *node.Def
	inputs *api.Object
}

type vresult struct {
	valid   bool
	reasons []api.Error
}

// exc is an exception escaping validate_inputs (a bad link target or index).
type exc struct {
	pyError
	where string
}

func (e *exc) traceback() []any {
	return []any{fmt.Sprintf("  File \"graph/validate.go\", in %s\n", e.where)}
}

type validator struct {
	reg       *node.Registry
	env       node.Env
	prompt    *api.Object
	nodes     map[string]*pnode
	memo      map[string]*vresult
	memoOrder []string
}

func (v *validator) setMemo(id string, r *vresult) {
	if _, ok := v.memo[id]; !ok {
		v.memoOrder = append(v.memoOrder, id)
	}
	v.memo[id] = r
}

// frame is one validate_inputs call in progress on the explicit stack.
type frame struct {
	n        *pnode
	names    []string
	i        int
	errs     []api.Error
	valid    bool
	received map[string]string
	// the link being followed while a child frame runs
	wantName string
	wantCfg  []any
	wantLink []any
}

// childOutcome is what a finished frame hands to its parent.
type childOutcome struct {
	id  string
	res *vresult
	exc *exc
}

func (v *validator) newFrame(id string) *frame {
	n := v.nodes[id]
	f := &frame{n: n, valid: true, received: map[string]string{}}
	for _, in := range n.def.Spec.Required {
		f.names = append(f.names, in.Name)
	}
	for _, in := range n.def.Spec.Optional {
		f.names = append(f.names, in.Name)
	}
	return f
}

// validateSafe is validate with a node's panic (in a combo list function,
// say) turned into the output's exception, as Python's except clause would.
func (v *validator) validateSafe(root string) (res *vresult, e *exc) {
	defer func() {
		if p := recover(); p != nil {
			res, e = nil, &exc{pyError{fmt.Sprintf("%T", p), fmt.Sprint(p)}, "validate_prompt"}
		}
	}()
	return v.validate(root)
}

// validate runs validate_inputs for id with an explicit stack.
func (v *validator) validate(root string) (*vresult, *exc) {
	if r, ok := v.memo[root]; ok {
		return r, nil
	}
	stack := []*frame{v.newFrame(root)}
	var pending *childOutcome
	for {
		f := stack[len(stack)-1]
		if pending != nil {
			v.takeChild(f, pending)
			pending = nil
		}
		child, e := v.step(f)
		if e != nil {
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil, e
			}
			pending = &childOutcome{id: f.n.id, exc: e}
			continue
		}
		if child != "" {
			stack = append(stack, v.newFrame(child))
			continue
		}
		res, e := v.finish(f)
		stack = stack[:len(stack)-1]
		if e != nil {
			if len(stack) == 0 {
				return nil, e
			}
			pending = &childOutcome{id: f.n.id, exc: e}
			continue
		}
		v.setMemo(f.n.id, res)
		if len(stack) == 0 {
			return res, nil
		}
		pending = &childOutcome{id: f.n.id, res: res}
	}
}

func (v *validator) takeChild(f *frame, c *childOutcome) {
	if c.exc != nil {
		f.valid = false
		extra := api.ObjectOf(
			"input_name", f.wantName,
			"input_config", f.wantCfg,
			"exception_message", c.exc.Msg,
			"exception_type", c.exc.Type,
			"traceback", c.exc.traceback(),
			"linked_node", f.wantLink,
		)
		v.setMemo(c.id, &vresult{reasons: []api.Error{api.NewError(api.ErrExceptionInnerValidation, api.MsgExceptionInnerValidation, c.exc.Msg, extra)}})
		return
	}
	if !c.res.valid {
		f.valid = false
	}
}

// inputConfig is validate_inputs' `info`: [type, options] (for combos the
// type is the option list).
func (v *validator) inputConfig(in node.Input) []any {
	var typ any = in.Type
	if in.IsCombo() {
		typ = in.ComboValues(v.env)
	}
	opts := api.NewObject()
	for _, kv := range in.Opts {
		opts.Set(kv.Key, kv.Value)
	}
	return []any{typ, opts}
}

func (s validateSpec) exempt(name string) bool {
	if s.all {
		return true
	}
	for _, n := range s.names {
		if n == name {
			return true
		}
	}
	return false
}

type validateSpec struct {
	has        bool
	names      []string
	all        bool
	inputTypes bool
}

func specOf(d *node.Def) validateSpec {
	if d.Validator == nil {
		return validateSpec{}
	}
	s := d.Validator.ValidateSpec()
	return validateSpec{has: true, names: s.Inputs, all: s.All, inputTypes: s.InputTypes}
}

// step processes inputs of f until it needs a child's result (returns its
// id), finishes its inputs (returns ""), or raises.
func (v *validator) step(f *frame) (string, *exc) {
	vs := specOf(f.n.def)
	spec := &f.n.def.Spec
	for f.i < len(f.names) {
		x := f.names[f.i]
		f.i++
		in, _ := spec.Input(x)
		val, present := f.n.inputs.Get(x)
		if !present {
			if spec.IsRequired(x) {
				f.errs = append(f.errs, api.NewError(api.ErrRequiredInputMissing, api.MsgRequiredInputMissing, x, api.ObjectOf("input_name", x)))
			}
			continue
		}
		info := v.inputConfig(in)
		if arr, isList := val.([]any); isList {
			if len(arr) != 2 {
				f.errs = append(f.errs, api.NewError(api.ErrBadLinkedInput, api.MsgBadLinkedInput, x,
					api.ObjectOf("input_name", x, "input_config", info, "received_value", val)))
				continue
			}
			src, e := v.lookupSource(arr[0])
			if e != nil {
				return "", e
			}
			rt, e := outputType(src, arr[1])
			if e != nil {
				return "", e
			}
			f.received[x] = rt
			if !vs.inputTypes && !linkCompatible(rt, in, v.env) {
				details := fmt.Sprintf("%s, received_type(%s) mismatch input_type(%s)", x, rt, api.PyStr(info[0]))
				f.errs = append(f.errs, api.NewError(api.ErrReturnTypeMismatch, api.MsgReturnTypeMismatch, details,
					api.ObjectOf("input_name", x, "input_config", info, "received_type", rt, "linked_node", val)))
				continue
			}
			if r, done := v.memo[src.id]; done {
				if !r.valid {
					f.valid = false
				}
				continue
			}
			f.wantName, f.wantCfg, f.wantLink = x, info, arr
			return src.id, nil
		}
		v.checkLiteral(f, x, in, val, info, vs)
	}
	return "", nil
}

func (v *validator) lookupSource(key any) (*pnode, *exc) {
	switch k := key.(type) {
	case string:
		if n := v.nodes[k]; n != nil {
			return n, nil
		}
		return nil, &exc{pyError{"KeyError", api.PyQuote(k)}, "validate_inputs"}
	case []any, *api.Object:
		return nil, &exc{pyError{"TypeError", "unhashable type: '" + api.PyTypeName(k) + "'"}, "validate_inputs"}
	}
	return nil, &exc{pyError{"KeyError", api.PyRepr(key)}, "validate_inputs"}
}

// outputType is RETURN_TYPES[index] with Python's tuple indexing rules.
func outputType(src *pnode, index any) (string, *exc) {
	types := src.def.Spec.OutputTypes()
	var i int64
	switch t := index.(type) {
	case json.Number:
		if !api.IsInt(t) {
			return "", &exc{pyError{"TypeError", "tuple indices must be integers or slices, not float"}, "validate_inputs"}
		}
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil {
			return "", &exc{pyError{"IndexError", "cannot fit 'int' into an index-sized integer"}, "validate_inputs"}
		}
		i = n
	case bool:
		if t {
			i = 1
		}
	default:
		return "", &exc{pyError{"TypeError", "tuple indices must be integers or slices, not " + api.PyTypeName(index)}, "validate_inputs"}
	}
	if i < 0 {
		i += int64(len(types))
	}
	if i < 0 || i >= int64(len(types)) {
		return "", &exc{pyError{"IndexError", "tuple index out of range"}, "validate_inputs"}
	}
	return types[i], nil
}

// linkCompatible is validate_node_input for a declared input (§5.5).
func linkCompatible(received string, in node.Input, env node.Env) bool {
	if in.IsCombo() {
		return received == node.TypeAny || received == node.TypeCombo
	}
	return TypesCompatible(received, in.Type)
}

// TypesCompatible reports whether an output of type received may feed an
// input of type declared: equal, either side "*", or the comma-separated
// sets intersect.
func TypesCompatible(received, declared string) bool {
	if received == declared || received == node.TypeAny || declared == node.TypeAny {
		return true
	}
	rs := strings.Split(received, ",")
	ds := strings.Split(declared, ",")
	for _, r := range rs {
		r = strings.TrimSpace(r)
		for _, d := range ds {
			if r == strings.TrimSpace(d) {
				return true
			}
		}
	}
	return false
}

func (v *validator) checkLiteral(f *frame, x string, in node.Input, val any, info []any, vs validateSpec) {
	if o, ok := val.(*api.Object); ok {
		if inner, has := o.Get("__value__"); has {
			val = inner
			f.n.inputs.Set(x, val)
		}
	}
	var perr *pyError
	switch in.Type {
	case node.TypeInt:
		var n json.Number
		if n, perr = coerceInt(val); perr == nil {
			val = n
		}
	case node.TypeFloat:
		var fl api.Float
		if fl, perr = coerceFloat(val); perr == nil {
			val = fl
		}
	case node.TypeString:
		val = api.PyStr(val)
	case node.TypeBoolean:
		val = api.PyTruthy(val)
	}
	if perr != nil {
		details := fmt.Sprintf("%s, %s, %s", x, api.PyStr(val), perr.Msg)
		f.errs = append(f.errs, api.NewError(api.ErrInvalidInputType, "Failed to convert an input value to a "+in.Type+" value", details,
			api.ObjectOf("input_name", x, "input_config", info, "received_value", val, "exception_message", perr.Msg)))
		return
	}
	switch in.Type {
	case node.TypeInt, node.TypeFloat, node.TypeString, node.TypeBoolean:
		f.n.inputs.Set(x, val)
	}
	if vs.exempt(x) {
		return
	}
	if lim, ok := in.Opts.Get("min"); ok {
		if c, ok := comparePy(val, lim); ok && c < 0 {
			f.errs = append(f.errs, api.NewError(api.ErrValueSmallerThanMin, fmt.Sprintf("Value %s smaller than min of %s", api.PyStr(val), api.PyStr(lim)), x,
				api.ObjectOf("input_name", x, "input_config", info, "received_value", val)))
			return
		}
	}
	if lim, ok := in.Opts.Get("max"); ok {
		if c, ok := comparePy(val, lim); ok && c > 0 {
			f.errs = append(f.errs, api.NewError(api.ErrValueBiggerThanMax, fmt.Sprintf("Value %s bigger than max of %s", api.PyStr(val), api.PyStr(lim)), x,
				api.ObjectOf("input_name", x, "input_config", info, "received_value", val)))
			return
		}
	}
	isV3Combo := in.Type == node.TypeCombo && in.Opts != nil && !in.Opts.Bool("remote_combo")
	if in.IsCombo() || isV3Combo {
		if isV3Combo {
			if _, has := in.Opts.Get("options"); !has && in.ChoicesFunc == nil && in.Choices == nil {
				return
			}
		}
		options := in.ComboValues(v.env)
		s, isStr := val.(string)
		found := false
		if isStr {
			for _, o := range options {
				if o == s {
					found = true
					break
				}
			}
		}
		if !found {
			var cfg any = info
			listInfo := api.PyRepr(options)
			if len(options) > 20 {
				listInfo = fmt.Sprintf("(list of length %d)", len(options))
				cfg = nil
			}
			f.errs = append(f.errs, api.NewError(api.ErrValueNotInList, api.MsgValueNotInList, fmt.Sprintf("%s: '%s' not in %s", x, api.PyStr(val), listInfo),
				api.ObjectOf("input_name", x, "input_config", cfg, "received_value", val)))
		}
	}
}

// comparePy compares two values numerically; ok is false when either is not
// a number (ComfyUI would raise on str < int; such inputs are skipped) or NaN.
func comparePy(a, b any) (int, bool) {
	na, ok1 := toNumber(a)
	nb, ok2 := toNumber(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return cmpNumbers(na, nb)
}

// finish runs the custom validation of f's node and returns its result.
func (v *validator) finish(f *frame) (*vresult, *exc) {
	vs := specOf(f.n.def)
	if vs.has {
		in, order := v.validatorInputs(f.n, vs)
		var types map[string]string
		if vs.inputTypes {
			types = f.received
			order = append(order, "input_types")
		}
		ok, msg, perr := callValidator(f.n.def.Validator, v.env, in, types)
		if perr != nil {
			return nil, &exc{*perr, "VALIDATE_INPUTS"}
		}
		if !ok {
			for _, x := range order {
				details := x
				if msg != "" {
					details += " - " + msg
				}
				f.errs = append(f.errs, api.NewError(api.ErrCustomValidationFailed, api.MsgCustomValidationFailed, details, api.ObjectOf("input_name", x)))
			}
		}
	}
	if len(f.errs) > 0 || !f.valid {
		return &vresult{valid: false, reasons: f.errs}, nil
	}
	return &vresult{valid: true, reasons: []api.Error{}}, nil
}

func callValidator(val node.Validator, env node.Env, in node.Inputs, types map[string]string) (ok bool, msg string, perr *pyError) {
	defer func() {
		if r := recover(); r != nil {
			perr = &pyError{Type: fmt.Sprintf("%T", r), Msg: fmt.Sprint(r)}
		}
	}()
	ok, msg = val.Validate(env, in, types)
	return ok, msg, nil
}

// validatorInputs is get_input_data without outputs, filtered to the inputs
// the validate function names: literals as given, links as nil, hidden
// inputs resolved (PROMPT → {}).
func (v *validator) validatorInputs(n *pnode, vs validateSpec) (node.Inputs, []string) {
	spec := &n.def.Spec
	in := node.Inputs{}
	var order []string
	add := func(k string, val any) {
		if !vs.exempt(k) {
			return
		}
		if _, seen := in[k]; !seen {
			order = append(order, k)
		}
		in[k] = val
	}
	for _, k := range n.inputs.Keys() {
		val, _ := n.inputs.Get(k)
		decl, declared := spec.Input(k)
		hidden := spec.HiddenKind(k) != ""
		if l, ok := api.AsLink(val); ok {
			if declared && decl.Opts.Bool("rawLink") {
				add(k, node.Link{Node: l.Node, Index: l.Index})
				continue
			}
			add(k, nil)
			continue
		}
		if declared || hidden {
			add(k, val)
		}
	}
	for _, h := range spec.Hidden {
		switch h.Kind {
		case node.HiddenPrompt:
			add(h.Name, api.NewObject())
		case node.HiddenDynPrompt, node.HiddenExtraPNGInfo:
			add(h.Name, nil)
		case node.HiddenUniqueID:
			add(h.Name, n.id)
		}
	}
	return in, order
}
