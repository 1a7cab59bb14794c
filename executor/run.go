package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/node"
)

// run is one prompt being executed.
type run struct {
	e        *Executor
	ctx      context.Context
	cancel   context.CancelFunc
	promptID string
	clientID string
	extra    *api.Object
	dp       *graph.DynPrompt
	reg      *node.Registry
	signer   *graph.Signer
	list     *execList

	fingerprints   map[string]any
	executed       []string
	pendingSub     map[string][]subResult
	pendingAsync   map[string]*asyncNode
	asyncDone      chan string
	asyncWG        sync.WaitGroup
	currentOutputs []string

	// mu guards what async node goroutines touch: progress, sink, lastDisplay.
	mu          sync.Mutex
	progress    *progress
	lastDisplay string
	messages    []api.StatusMessage
}

type subResult struct {
	isSub  bool
	expand []node.ExpandNode
	result []any
}

type asyncNode struct {
	calls []callOut
	left  atomic.Int32
}

// callOut is the outcome of one mapped call.
type callOut struct {
	res     *node.Result
	blocked *node.Blocker
	err     error
	panicV  any
	stack   []string
}

// failure is what stops a prompt: an interrupt or an execution_error.
type failure struct {
	interrupt     bool
	nodeID        string
	message       string
	typ           string
	traceback     []string
	currentInputs any
}

type status int

const (
	statusSuccess status = iota
	statusPending
	statusFailure
)

type nopSink struct{}

func (nopSink) Send(string, api.Message)            {}
func (nopSink) SendBinary(string, []byte)           {}
func (nopSink) SupportsPreviewMetadata(string) bool { return false }

func (r *run) sink() Sink {
	if r.e.opts.Sink == nil {
		return nopSink{}
	}
	return r.e.opts.Sink
}

// sendTargeted sends only to the prompt's client; nothing without one.
func (r *run) sendTargeted(typ string, data any) {
	if r.clientID != "" {
		r.sink().Send(r.clientID, api.Message{Type: typ, Data: data})
	}
}

// sendClientOrAll sends to the prompt's client, or to everyone without one.
func (r *run) sendClientOrAll(typ string, data any) {
	r.sink().Send(r.clientID, api.Message{Type: typ, Data: data})
}

// addMessage records a status message for history and emits it (ComfyUI's
// add_message).
func (r *run) addMessage(event string, data any, broadcast bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, api.StatusMessage{Event: event, Data: data})
	if r.clientID != "" || broadcast {
		r.sendClientOrAll(event, data)
	}
}

func (r *run) key(id string) graph.Key { return r.signer.Key(id) }

func (r *run) isCached(id string) bool {
	_, ok := r.e.c.getOutputs(r.key(id))
	return ok
}

func (r *run) outputsOf(id string) ([][]any, bool) {
	return r.e.c.getOutputs(r.key(id))
}

func (r *run) execute(outputs []string) Outcome {
	r.addMessage(api.EventExecutionStart, api.ExecutionStart{PromptID: r.promptID, Timestamp: nowMS()}, false)
	r.signer = graph.NewSigner(r.dp, r.reg, r.fingerprint)
	keys := map[graph.Key]bool{}
	objs := map[objKey]bool{}
	for _, id := range r.dp.IDs() {
		n, _ := r.dp.Get(id)
		keys[r.key(id)] = true
		objs[objKey{id, n.ClassType}] = true
		r.currentOutputs = append(r.currentOutputs, id)
	}
	r.e.c.startPrompt(keys, objs)
	cached := []string{}
	for _, id := range r.dp.IDs() {
		if r.isCached(id) {
			cached = append(cached, id)
		}
	}
	r.addMessage(api.EventExecutionCached, api.ExecutionCached{Nodes: cached, PromptID: r.promptID, Timestamp: nowMS()}, false)

	r.list = newExecList(r.dp, r.reg, r.isCached)
	for _, o := range outputs {
		if r.dp.Has(o) {
			r.list.addNode(o, false)
		}
	}
	var fail *failure
	for !r.list.empty() {
		id, f := r.stage()
		if f != nil {
			fail = f
			break
		}
		st, f := r.executeNode(id)
		if st == statusFailure {
			fail = f
			break
		}
		if st == statusSuccess {
			r.list.popNode(id)
		}
		r.list.staged = ""
	}
	if fail != nil {
		r.handleError(fail)
	} else {
		r.addMessage(api.EventExecutionSuccess, api.ExecutionSuccess{PromptID: r.promptID, Timestamp: nowMS()}, false)
	}
	r.drainAsync()

	out := Outcome{Success: fail == nil, Outputs: api.NewObject(), Meta: map[string]api.NodeMeta{}}
	for _, id := range r.dp.IDs() {
		if u := r.e.c.getUI(r.key(id)); u != nil {
			out.Outputs.Set(id, u.output)
			out.Meta[id] = u.meta
		}
	}
	r.mu.Lock()
	out.Messages = append([]api.StatusMessage(nil), r.messages...)
	r.mu.Unlock()
	return out
}

// drainAsync stops and waits for async calls still running after a failure.
func (r *run) drainAsync() {
	if len(r.pendingAsync) == 0 {
		return
	}
	r.cancel()
	done := make(chan struct{})
	go func() { r.asyncWG.Wait(); close(done) }()
	for {
		select {
		case <-r.asyncDone:
		case <-done:
			return
		}
	}
}

func (r *run) releaseAsync(id string) { r.list.releaseExternalBlock(id) }

// stage picks the next node (§7.3), waiting for async nodes when nothing
// else is ready; nothing ready and nothing running is a dependency cycle.
func (r *run) stage() (string, *failure) {
	for drained := false; !drained; {
		select {
		case id := <-r.asyncDone:
			r.releaseAsync(id)
		default:
			drained = true
		}
	}
	avail := r.list.ready()
	for len(avail) == 0 && r.list.externalBlocks > 0 {
		r.releaseAsync(<-r.asyncDone)
		avail = r.list.ready()
	}
	if len(avail) == 0 {
		cyc := r.list.nodesInCycle()
		blamed := ""
		if len(cyc) > 0 {
			blamed = cyc[0]
		} else if len(r.list.pending) > 0 {
			blamed = r.list.pending[0].id
		}
		for _, id := range cyc {
			if d := r.dp.DisplayID(id); d != id {
				blamed = d
				break
			}
		}
		return "", &failure{nodeID: blamed, message: "Dependency cycle detected", typ: "graph.DependencyCycleError",
			traceback: []string{}, currentInputs: []any{}}
	}
	id := r.list.pick(avail)
	r.list.staged = id
	return id, nil
}

// handleError emits execution_interrupted or execution_error. Unlike
// ComfyUI, a run-time dependency cycle also makes the history status
// "error" (ComfyUI leaves the last node's "success" there; a protocol bug).
func (r *run) handleError(f *failure) {
	nodeType := ""
	if n, ok := r.dp.Get(f.nodeID); ok {
		nodeType = n.ClassType
	}
	executed := append([]string{}, r.executed...)
	if f.interrupt {
		r.addMessage(api.EventExecutionInterrupted, api.ExecutionInterrupted{PromptID: r.promptID, NodeID: f.nodeID,
			NodeType: nodeType, Executed: executed, Timestamp: nowMS()}, true)
		return
	}
	tb := f.traceback
	if tb == nil {
		tb = []string{}
	}
	r.addMessage(api.EventExecutionError, api.ExecutionError{PromptID: r.promptID, NodeID: f.nodeID, NodeType: nodeType,
		Executed: executed, ExceptionMessage: f.message, ExceptionType: f.typ, Traceback: tb,
		CurrentInputs: f.currentInputs, CurrentOutputs: append([]string{}, r.currentOutputs...), Timestamp: nowMS()}, false)
}

// inputData is get_input_data's result: input name → list of values, in
// ComfyUI's order, and the inputs whose links have no value yet.
type inputData struct {
	names   []string
	vals    map[string][]any
	missing map[string]bool
}

func (d *inputData) set(name string, v []any) {
	if _, ok := d.vals[name]; !ok {
		d.names = append(d.names, name)
	}
	d.vals[name] = v
}

// inputData assembles a node's inputs (§7.4). withOutputs=false is the
// IS_CHANGED/VALIDATE_INPUTS flavour: links are nil, PROMPT is {}.
func (r *run) inputData(n *graph.Node, def *node.Def, id string, withOutputs bool) *inputData {
	d := &inputData{vals: map[string][]any{}, missing: map[string]bool{}}
	spec := &def.Spec
	for _, name := range n.Inputs.Keys() {
		v, _ := n.Inputs.Get(name)
		decl, declared := spec.Input(name)
		category := declared || spec.HiddenKind(name) != ""
		raw := declared && decl.Opts.Bool("rawLink")
		if l, ok := graph.AsLink(v); ok && !raw {
			if !withOutputs {
				d.missing[name] = true
				d.set(name, []any{nil})
				continue
			}
			outs, ok := r.outputsOf(l.Node)
			if !r.list.isLinked(l.Node, id) {
				ok = false
			}
			idx := l.Index
			if idx < 0 {
				idx += len(outs)
			}
			if !ok || idx < 0 || idx >= len(outs) {
				d.missing[name] = true
				d.set(name, []any{nil})
				continue
			}
			d.set(name, outs[idx])
			continue
		} else if ok && raw {
			if category {
				d.set(name, []any{node.Link{Node: l.Node, Index: l.Index}})
			}
			continue
		}
		if category {
			d.set(name, []any{v})
		}
	}
	for _, h := range spec.Hidden {
		switch h.Kind {
		case node.HiddenPrompt:
			if withOutputs {
				d.set(h.Name, []any{r.dp.Original()})
			} else {
				d.set(h.Name, []any{api.NewObject()})
			}
		case node.HiddenDynPrompt:
			if withOutputs {
				d.set(h.Name, []any{node.DynPrompt(r.dp)})
			} else {
				d.set(h.Name, []any{nil})
			}
		case node.HiddenExtraPNGInfo:
			var v any
			if withOutputs {
				v, _ = r.extra.Get("extra_pnginfo")
			}
			d.set(h.Name, []any{v})
		case node.HiddenUniqueID:
			d.set(h.Name, []any{id})
		}
	}
	return d
}

// slices maps a node over its input lists (§7.4): one call with whole lists
// for INPUT_IS_LIST, else max-length calls repeating the last element.
func slices(d *inputData, inputIsList bool) []node.Inputs {
	if inputIsList {
		in := node.Inputs{}
		for _, k := range d.names {
			in[k] = d.vals[k]
		}
		return []node.Inputs{in}
	}
	maxLen := 0
	for _, k := range d.names {
		if l := len(d.vals[k]); l > maxLen {
			maxLen = l
		}
	}
	if maxLen == 0 {
		return []node.Inputs{{}}
	}
	out := make([]node.Inputs, maxLen)
	for i := range out {
		in := make(node.Inputs, len(d.names))
		for _, k := range d.names {
			l := d.vals[k]
			switch {
			case i < len(l):
				in[k] = l[i]
			case len(l) > 0:
				in[k] = l[len(l)-1]
			default:
				in[k] = nil
			}
		}
		out[i] = in
	}
	return out
}

// blockerIn returns the first blocker among a call's inputs.
func blockerIn(in node.Inputs, order []string, inputIsList bool) *node.Blocker {
	for _, k := range order {
		v := in[k]
		if inputIsList {
			if l, ok := v.([]any); ok {
				for _, e := range l {
					if b, ok := e.(*node.Blocker); ok {
						return b
					}
				}
			}
			continue
		}
		if b, ok := v.(*node.Blocker); ok {
			return b
		}
	}
	return nil
}

func (r *run) nodeContext(n *graph.Node, id string, call int) *node.Context {
	return &node.Context{Context: r.ctx, PromptID: r.promptID, UniqueID: id, DisplayID: r.dp.DisplayID(id),
		RealID: r.dp.RealID(id), ParentID: r.dp.ParentID(id), ClassType: n.ClassType, Env: r.e.opts.Env,
		Reporter: r, CallIndex: call}
}

// safeCall runs f, turning a panic into a callOut.
func safeCall(f func() (*node.Result, error)) (out callOut) {
	defer func() {
		if p := recover(); p != nil {
			out = callOut{panicV: p, stack: stackLines()}
		}
	}()
	res, err := f()
	return callOut{res: res, err: err}
}

func stackLines() []string {
	lines := strings.Split(strings.TrimRight(string(debug.Stack()), "\n"), "\n")
	var out []string
	// goroutine header, then pairs of "function" / "\tfile:line".
	for i := 1; i+1 < len(lines); i += 2 {
		out = append(out, "  "+strings.TrimSpace(lines[i+1])+", in "+lines[i]+"\n")
	}
	return out
}

func exceptionType(err error) string {
	var t interface{ ExceptionType() string }
	if errors.As(err, &t) {
		return t.ExceptionType()
	}
	return fmt.Sprintf("%T", err)
}

// failureOf turns a call's error or panic into a failure of node id.
func (r *run) failureOf(id string, c callOut, d *inputData) *failure {
	real := r.dp.RealID(id)
	if c.panicV == nil && c.err != nil && (errors.Is(c.err, node.ErrInterrupted) || (errors.Is(c.err, context.Canceled) && r.ctx.Err() != nil)) {
		return &failure{interrupt: true, nodeID: real}
	}
	f := &failure{nodeID: real, traceback: []string{}, currentInputs: formatInputs(d)}
	if c.panicV != nil {
		f.traceback = c.stack
		if err, ok := c.panicV.(error); ok {
			f.typ = exceptionType(err)
			f.message = err.Error() + "\n"
		} else {
			f.typ = fmt.Sprintf("%T", c.panicV)
			f.message = fmt.Sprint(c.panicV) + "\n"
		}
		return f
	}
	f.typ = exceptionType(c.err)
	f.message = c.err.Error() + "\n"
	return f
}

func errFailure(r *run, id, typ, msg string, d *inputData) *failure {
	return &failure{nodeID: r.dp.RealID(id), typ: typ, message: msg + "\n", traceback: []string{}, currentInputs: formatInputs(d)}
}

// formatInputs is current_inputs: primitives as-is, anything else str().
func formatInputs(d *inputData) any {
	o := api.NewObject()
	if d == nil {
		return o
	}
	for _, k := range d.names {
		vals := make([]any, len(d.vals[k]))
		for i, v := range d.vals[k] {
			vals[i] = formatValue(v)
		}
		o.Set(k, vals)
	}
	return o
}

func formatValue(v any) any {
	switch t := v.(type) {
	case nil, bool, string, json.Number, api.Float, float64, float32, int, int64, int32, uint64:
		return v
	case []any, *api.Object:
		return string(api.MustMarshal(v))
	case fmt.Stringer:
		return t.String()
	}
	return fmt.Sprint(v)
}

func (r *run) objectFor(id string, n *graph.Node, def *node.Def) (obj node.Node, c callOut) {
	k := objKey{id, n.ClassType}
	if o := r.e.c.objects[k]; o != nil {
		return o, callOut{}
	}
	c = safeCall(func() (*node.Result, error) { obj = def.New(); return nil, nil })
	if c.panicV == nil && obj != nil {
		r.e.c.objects[k] = obj
	}
	return obj, c
}

// executeNode is ComfyUI's execute() for one staged node.
func (r *run) executeNode(id string) (status, *failure) {
	n, _ := r.dp.Get(id)
	def, ok := r.reg.Get(n.ClassType)
	if !ok {
		return statusFailure, errFailure(r, id, "KeyError", api.PyQuote(n.ClassType), nil)
	}
	display := r.dp.DisplayID(id)
	key := r.key(id)
	if _, hit := r.e.c.getOutputs(key); hit {
		if r.clientID != "" {
			var out *api.Object
			if u := r.e.c.getUI(key); u != nil {
				out = u.output
			}
			r.mu.Lock()
			r.sendTargeted(api.EventExecuted, api.Executed{Node: id, DisplayNode: display, Output: out, PromptID: r.promptID})
			r.mu.Unlock()
		}
		r.progressFinish(id)
		return statusSuccess, nil
	}

	var d *inputData
	var calls []callOut
	var outputs [][]any
	var subs []subResult
	var ui *api.Object
	hasSub := false
	switch {
	case r.pendingAsync[id] != nil:
		a := r.pendingAsync[id]
		delete(r.pendingAsync, id)
		calls = a.calls
	case r.pendingSub[id] != nil:
		cached := r.pendingSub[id]
		delete(r.pendingSub, id)
		var resolved [][]any
		for _, s := range cached {
			if !s.isSub {
				resolved = append(resolved, s.result)
				continue
			}
			var out []any
			for _, x := range s.result {
				l, isLink := x.(node.Link)
				if !isLink {
					out = append(out, x)
					continue
				}
				src, ok := r.outputsOf(l.Node)
				idx := l.Index
				if idx < 0 {
					idx += len(src)
				}
				if !ok || idx < 0 || idx >= len(src) {
					return statusFailure, errFailure(r, id, "TypeError", "'NoneType' object is not subscriptable", nil)
				}
				out = append(out, src[idx]...)
			}
			resolved = append(resolved, out)
		}
		var err error
		if outputs, err = mergeResults(resolved, def); err != nil {
			return statusFailure, errFailure(r, id, "IndexError", err.Error(), nil)
		}
	default:
		r.progressStart(id)
		d = r.inputData(n, def, id, true)
		if r.clientID != "" {
			r.mu.Lock()
			r.lastDisplay = display
			r.sendTargeted(api.EventExecuting, api.Executing{Node: id, DisplayNode: display, PromptID: r.promptID})
			r.mu.Unlock()
		}
		obj, c := r.objectFor(id, n, def)
		if c.panicV != nil {
			return statusFailure, r.failureOf(id, c, d)
		}
		if lc, ok := obj.(node.LazyChecker); ok {
			need, f := r.checkLazy(id, n, def, lc, d)
			if f != nil {
				return statusFailure, f
			}
			if len(need) > 0 {
				for _, name := range need {
					v, present := n.Inputs.Get(name)
					if !present {
						return statusFailure, errFailure(r, id, "comfy_execution.graph.NodeInputError",
							fmt.Sprintf("Node %s says it needs input %s, but there is no input to that node at all", id, name), d)
					}
					l, isLink := graph.AsLink(v)
					if !isLink {
						return statusFailure, errFailure(r, id, "comfy_execution.graph.NodeInputError",
							fmt.Sprintf("Node %s says it needs input %s, but that value is a constant", id, name), d)
					}
					r.list.addStrongLink(l.Node, l.Index, id)
				}
				return statusPending, nil
			}
		}
		var f *failure
		var pending bool
		calls, pending, f = r.callNode(id, n, def, obj, d)
		if f != nil {
			return statusFailure, f
		}
		if pending {
			return statusPending, nil
		}
	}
	if calls != nil {
		for _, c := range calls {
			if c.panicV != nil || c.err != nil {
				return statusFailure, r.failureOf(id, c, d)
			}
		}
		var err error
		outputs, ui, hasSub, subs, err = fromReturns(calls, def)
		if err != nil {
			return statusFailure, errFailure(r, id, "IndexError", err.Error(), d)
		}
	}
	if ui != nil && ui.Len() > 0 {
		meta := api.NodeMeta{NodeID: id, DisplayNode: display, ParentNode: r.dp.ParentID(id), RealNodeID: r.dp.RealID(id)}
		r.e.c.setUI(key, &uiEntry{output: ui, meta: meta})
		if r.clientID != "" {
			r.mu.Lock()
			r.sendTargeted(api.EventExecuted, api.Executed{Node: id, DisplayNode: display, Output: ui, PromptID: r.promptID})
			r.mu.Unlock()
		}
	}
	if hasSub {
		return r.expand(id, subs, d)
	}
	r.e.c.setOutputs(key, outputs)
	r.progressFinish(id)
	r.executed = append(r.executed, id)
	return statusSuccess, nil
}

// checkLazy runs check_lazy_status over the mapped inputs and returns the
// names still needed (available or literal inputs are ignored).
func (r *run) checkLazy(id string, n *graph.Node, def *node.Def, lc node.LazyChecker, d *inputData) ([]string, *failure) {
	var need []string
	seen := map[string]bool{}
	for i, in := range slices(d, def.Spec.InputIsList) {
		if r.ctx.Err() != nil {
			return nil, &failure{interrupt: true, nodeID: r.dp.RealID(id)}
		}
		if blockerIn(in, d.names, def.Spec.InputIsList) != nil {
			continue
		}
		ctx := r.nodeContext(n, id, i)
		var names []string
		c := safeCall(func() (*node.Result, error) {
			var err error
			names, err = lc.CheckLazy(ctx, in)
			return nil, err
		})
		if c.panicV != nil || c.err != nil {
			return nil, r.failureOf(id, c, d)
		}
		for _, x := range names {
			_, has := d.vals[x]
			if seen[x] || (has && !d.missing[x]) {
				continue
			}
			seen[x] = true
			need = append(need, x)
		}
	}
	return need, nil
}

// callNode makes the mapped calls of a node; async nodes run them in
// goroutines and the node goes back to pending with an external block.
func (r *run) callNode(id string, n *graph.Node, def *node.Def, obj node.Node, d *inputData) ([]callOut, bool, *failure) {
	ins := slices(d, def.Spec.InputIsList)
	calls := make([]callOut, len(ins))
	var a *asyncNode
	for i, in := range ins {
		if r.ctx.Err() != nil {
			if a != nil {
				// Calls already started finish on their own (they see the
				// cancelled context); the prompt stops here.
				r.pendingAsync[id] = a
			}
			return nil, false, &failure{interrupt: true, nodeID: r.dp.RealID(id)}
		}
		if b := blockerIn(in, d.names, def.Spec.InputIsList); b != nil {
			calls[i] = callOut{blocked: r.blocked(id, n, b)}
			continue
		}
		ctx := r.nodeContext(n, id, i)
		in := in
		if !def.Spec.Async {
			calls[i] = safeCall(func() (*node.Result, error) { return obj.Run(ctx, in) })
			continue
		}
		if a == nil {
			a = &asyncNode{calls: calls}
			a.left.Store(1) // released after the loop
		}
		a.left.Add(1)
		r.asyncWG.Add(1)
		go func(i int) {
			defer r.asyncWG.Done()
			a.calls[i] = safeCall(func() (*node.Result, error) { return obj.Run(ctx, in) })
			if a.left.Add(-1) == 0 {
				r.asyncDone <- id
			}
		}(i)
	}
	if a == nil {
		return calls, false, nil
	}
	r.pendingAsync[id] = a
	r.list.addExternalBlock(id)
	r.asyncWG.Add(1)
	go func() {
		defer r.asyncWG.Done()
		if a.left.Add(-1) == 0 {
			r.asyncDone <- id
		}
	}()
	return nil, true, nil
}

// blocked is execution_block_cb: a blocker with a message reports a
// non-fatal execution_error once and continues silently.
func (r *run) blocked(id string, n *graph.Node, b *node.Blocker) *node.Blocker {
	if b.Message == nil {
		return b
	}
	mes := api.ObjectOf("prompt_id", r.promptID, "node_id", id, "node_type", n.ClassType,
		"executed", append([]string{}, r.executed...),
		"exception_message", "Execution Blocked: "+*b.Message, "exception_type", "ExecutionBlocked",
		"traceback", []string{}, "current_inputs", []any{}, "current_outputs", []any{})
	r.mu.Lock()
	r.sendClientOrAll(api.EventExecutionError, mes)
	r.mu.Unlock()
	return &node.Blocker{}
}

// wholeBlock expands a blocker returned as the whole result to every output.
func wholeBlock(outs []any, n int) []any {
	if len(outs) == 1 && n != 1 {
		if b, ok := outs[0].(*node.Blocker); ok {
			t := make([]any, n)
			for i := range t {
				t[i] = b
			}
			return t
		}
	}
	return outs
}

// fromReturns is get_output_from_returns.
func fromReturns(calls []callOut, def *node.Def) (outputs [][]any, ui *api.Object, hasSub bool, subs []subResult, err error) {
	nout := len(def.Spec.Outputs)
	var results [][]any
	var uis []*node.UI
	for _, c := range calls {
		if c.blocked != nil {
			t := make([]any, nout)
			for i := range t {
				t[i] = c.blocked
			}
			results = append(results, t)
			subs = append(subs, subResult{result: t})
			continue
		}
		res := c.res
		if res == nil {
			continue
		}
		if res.UI != nil {
			uis = append(uis, res.UI)
		}
		if len(res.Expand) > 0 {
			hasSub = true
			subs = append(subs, subResult{isSub: true, expand: res.Expand, result: wholeBlock(res.Outputs, nout)})
			continue
		}
		if res.Outputs != nil {
			t := wholeBlock(res.Outputs, nout)
			results = append(results, t)
			subs = append(subs, subResult{result: t})
		}
	}
	if len(uis) > 0 {
		ui = api.NewObject()
		for _, k := range uis[0].Keys {
			items := []any{}
			for _, u := range uis {
				items = append(items, u.Values[k]...)
			}
			ui.Set(k, items)
		}
	}
	if hasSub {
		return nil, ui, true, subs, nil
	}
	if len(results) > 0 {
		outputs, err = mergeResults(results, def)
	} else {
		outputs = [][]any{}
	}
	return outputs, ui, false, nil, err
}

// mergeResults is merge_result_data: per output slot, the per-call values
// (or, for list outputs, their concatenation).
func mergeResults(results [][]any, def *node.Def) ([][]any, error) {
	if len(results) == 0 {
		return [][]any{}, nil
	}
	n := len(results[0])
	out := make([][]any, n)
	for i := 0; i < n; i++ {
		isList := i < len(def.Spec.Outputs) && def.Spec.Outputs[i].IsList
		vals := []any{}
		for _, o := range results {
			if i >= len(o) {
				return nil, errors.New("tuple index out of range")
			}
			if isList {
				if _, blocked := o[i].(*node.Blocker); !blocked {
					if l, ok := o[i].([]any); ok {
						vals = append(vals, l...)
						continue
					}
				}
			}
			vals = append(vals, o[i])
		}
		out[i] = vals
	}
	return out, nil
}

// expand adds the nodes of an expansion to the dynamic prompt and makes the
// expanding node wait for the outputs it links to (§7.7).
func (r *run) expand(id string, subs []subResult, d *inputData) (status, *failure) {
	var cached []subResult
	var newOutputs []string
	var links []node.Link
	for _, s := range subs {
		if !s.isSub {
			cached = append(cached, s)
			continue
		}
		for _, en := range s.expand {
			if r.dp.Has(en.ID) {
				return statusFailure, errFailure(r, id, "execution.DuplicateNodeError",
					fmt.Sprintf("Attempt to add duplicate node %s. Ensure node ids are unique and deterministic or use graph_utils.GraphBuilder.", en.ID), d)
			}
		}
		for _, en := range s.expand {
			display := en.OverrideDisplayID
			if display == "" {
				display = id
			}
			r.dp.AddEphemeral(en.ID, en.ClassType, en.Inputs, id, display)
			cd, ok := r.reg.Get(en.ClassType)
			if !ok {
				return statusFailure, errFailure(r, id, "KeyError", api.PyQuote(en.ClassType), d)
			}
			if cd.Spec.OutputNode {
				newOutputs = append(newOutputs, en.ID)
			}
		}
		for _, x := range s.result {
			if l, ok := x.(node.Link); ok {
				links = append(links, l)
			}
		}
		cached = append(cached, s)
	}
	for _, o := range newOutputs {
		r.list.addNode(o, false)
	}
	for _, l := range links {
		r.list.addStrongLink(l.Node, l.Index, id)
	}
	r.pendingSub[id] = cached
	return statusPending, nil
}

// fingerprint is the is_changed value of a node (§7.6), computed once per
// prompt with literal inputs only and written into the (copied) prompt as
// "is_changed", as ComfyUI does.
func (r *run) fingerprint(id string) any {
	if v, ok := r.fingerprints[id]; ok {
		return v
	}
	n, ok := r.dp.Get(id)
	if !ok {
		return false
	}
	def, ok := r.reg.Get(n.ClassType)
	if !ok || def.Fingerprinter == nil {
		r.fingerprints[id] = false
		return false
	}
	if n.Raw != nil {
		if v, ok := n.Raw.Get("is_changed"); ok {
			r.fingerprints[id] = v
			return v
		}
	}
	d := r.inputData(n, def, id, false)
	var vals []any
	var result any
	for _, in := range slices(d, def.Spec.InputIsList) {
		var v any
		c := safeCall(func() (*node.Result, error) {
			var err error
			v, err = def.Fingerprinter.Fingerprint(r.e.opts.Env, in)
			return nil, err
		})
		if c.panicV != nil || c.err != nil {
			vals = nil
			result = api.Float(nan())
			break
		}
		if _, blocked := v.(*node.Blocker); blocked {
			v = nil
		}
		if f, ok := v.(float64); ok {
			v = api.Float(f)
		}
		vals = append(vals, v)
	}
	if vals != nil {
		result = vals
	}
	if n.Raw != nil {
		n.Raw.Set("is_changed", result)
	}
	r.fingerprints[id] = result
	return result
}
