package executor_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/executor"
	"github.com/comfyd/comfyd/internal/testnodes"
	"github.com/comfyd/comfyd/node"
)

type counter struct{ calls int }

func (c *counter) Run(ctx *node.Context, in node.Inputs) (*node.Result, error) {
	c.calls++
	ui := &node.UI{}
	ui.Add("calls", c.calls)
	return &node.Result{Outputs: []any{}, UI: ui}, nil
}

// extraRegistry adds nodes that exercise the Context and hidden inputs.
func extraRegistry() *node.Registry {
	reg := testnodes.Registry()
	reg.Register(&node.Def{Spec: node.Spec{Name: "TestPreview", OutputNode: true},
		New: func() node.Node {
			return node.Func(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				img := image.NewRGBA(image.Rect(0, 0, 64, 32))
				for i := range img.Pix {
					img.Pix[i] = 200
				}
				c.Preview(img)
				c.Text("hello")
				return &node.Result{Outputs: []any{}}, nil
			})
		}})
	reg.Register(&node.Def{Spec: node.Spec{Name: "TestHidden", OutputNode: true,
		Required: []node.Input{node.In("x", node.TypeInt)},
		Hidden: []node.Hidden{{Name: "prompt", Kind: node.HiddenPrompt}, {Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo},
			{Name: "unique_id", Kind: node.HiddenUniqueID}}},
		New: func() node.Node {
			return node.Func(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				ui := &node.UI{}
				ui.Add("prompt", string(api.MustMarshal(in.Get("prompt"))))
				ui.Add("extra", in.Get("extra_pnginfo"))
				ui.Add("id", in.Get("unique_id"))
				_, undeclared := in["junk"]
				ui.Add("undeclared", undeclared)
				return &node.Result{Outputs: []any{}, UI: ui}, nil
			})
		},
		Fingerprinter: fp{}})
	reg.Register(&node.Def{Spec: node.Spec{Name: "TestCounter", OutputNode: true, Required: []node.Input{node.In("x", node.TypeInt)}},
		New: func() node.Node { return &counter{} }})
	reg.Register(&node.Def{Spec: node.Spec{Name: "TestDuplicateExpand", Required: []node.Input{node.In("value", node.TypeAny)},
		Outputs: []node.Output{{Type: node.TypeAny}}},
		New: func() node.Node {
			return node.Func(func(c *node.Context, in node.Inputs) (*node.Result, error) {
				return &node.Result{Outputs: []any{node.Link{Node: c.UniqueID, Index: 0}},
					Expand: []node.ExpandNode{{ID: c.UniqueID, ClassType: "StubInt", Inputs: map[string]any{"value": 1}}}}, nil
			})
		}})
	return reg
}

type fp struct{}

func (fp) Fingerprint(env node.Env, in node.Inputs) (any, error) { return in.Get("x"), nil }

func TestPreviewFrames(t *testing.T) {
	for _, c := range []struct {
		name, method, client string
		meta                 bool
		want                 string // frame type and recipient
	}{
		{"metadata", "auto", "c1", true, "4@c1"},
		{"legacy", "auto", "c1", false, "1@c1"},
		{"broadcast", "auto", "", false, "1@"},
		{"none", "none", "c1", true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &recSink{metaSids: map[string]bool{"c1": c.meta}}
			reg := extraRegistry()
			h := &harness{t: t, reg: reg, sink: s, ex: executor.New(executor.Options{Registry: reg, Sink: s, PreviewMethod: c.method, PreviewSize: 16})}
			g := newGB("pv")
			g.node("TestPreview")
			r := h.runOpts(g, c.client, nil, false)
			var got []string
			var textFrames int
			for _, rc := range r.recs {
				if rc.binary == nil {
					continue
				}
				typ := binary.BigEndian.Uint32(rc.binary)
				if typ == api.BinaryText {
					textFrames++
					if rc.sid != "" || !strings.HasSuffix(string(rc.binary), "pv1hello") {
						t.Errorf("text frame %q to %q", rc.binary, rc.sid)
					}
					continue
				}
				got = append(got, string(rune('0'+typ))+"@"+rc.sid)
				img := rc.binary[8:]
				if typ == api.BinaryPreviewImageWithMetadata {
					n := binary.BigEndian.Uint32(rc.binary[4:])
					var meta map[string]any
					if err := json.Unmarshal(rc.binary[8:8+n], &meta); err != nil || meta["node_id"] != "pv1" || meta["image_type"] != "image/jpeg" || meta["prompt_id"] != r.promptID {
						t.Errorf("metadata %s", rc.binary[8:8+n])
					}
					img = rc.binary[8+n:]
				}
				dec, err := jpeg.Decode(bytes.NewReader(img))
				if err != nil {
					t.Fatal(err)
				}
				if b := dec.Bounds(); b.Dx() != 16 || b.Dy() != 8 {
					t.Errorf("preview size %v, want 16x8", b)
				}
			}
			if strings.Join(got, ",") != c.want || textFrames != 1 {
				t.Errorf("frames %v text %d, want %s", got, textFrames, c.want)
			}
		})
	}
}

func TestHiddenInputs(t *testing.T) {
	reg := extraRegistry()
	h := newHarnessReg(t, cacheConfigs[0], reg)
	g := newGB("hid")
	id := g.node("TestHidden", "x", 3, "junk", 5)
	v, _ := api.Decode(api.MustMarshal(g.nodes))
	prompt := v.(*api.Object)
	extra := api.ObjectOf("client_id", "c1", "extra_pnginfo", api.ObjectOf("workflow", api.ObjectOf("a", api.Int(1))))
	out := h.ex.Execute(nil, api.QueueItem{PromptID: "p", Prompt: prompt, ExtraData: extra, Outputs: []string{id}})
	ui, _ := out.Outputs.Get(id)
	got := string(api.MustMarshal(ui))
	// PROMPT is the executing prompt, which carries ComfyUI's "is_changed"
	// write-back (quirk kept: it ends up in PNG metadata); the queued prompt
	// itself is not modified.
	want := `{"prompt":["{\"hid1\":{\"class_type\":\"TestHidden\",\"inputs\":{\"x\":3,\"junk\":5},\"is_changed\":[3]}}"],"extra":[{"workflow":{"a":1}}],"id":["hid1"],"undeclared":[false]}`
	if got != want {
		t.Errorf("ui\n got %s\nwant %s", got, want)
	}
	if strings.Contains(string(api.MustMarshal(prompt)), "is_changed") {
		t.Error("queued prompt was modified")
	}
}

// Node instances live in the objects cache per (node id, class).
func TestObjectsCache(t *testing.T) {
	reg := extraRegistry()
	h := newHarnessReg(t, cacheConfigs[0], reg)
	calls := func(x int, id string) string {
		g := newGB("obj")
		g.nodeID(id, "TestCounter", "x", x)
		r := h.mustRun(g)
		ui, _ := r.outcome.Outputs.Get(id)
		return string(api.MustMarshal(ui))
	}
	if a, b := calls(1, "n"), calls(2, "n"); a != `{"calls":[1]}` || b != `{"calls":[2]}` {
		t.Errorf("same id: %s %s", a, b)
	}
	if c := calls(3, "m"); c != `{"calls":[1]}` {
		t.Errorf("new id reused an instance: %s", c)
	}
	h.ex.Free(false, true)
	if d := calls(4, "m"); d != `{"calls":[1]}` {
		t.Errorf("after free: %s", d)
	}
}

func TestDuplicateNodeError(t *testing.T) {
	h := newHarnessReg(t, cacheConfigs[0], extraRegistry())
	g := newGB("dup")
	d := g.node("TestDuplicateExpand", "value", 1)
	g.node("SaveImage", "images", out(d, 0))
	r := h.run(g)
	if r.errData == nil || r.errData.ExceptionType != "execution.DuplicateNodeError" ||
		r.errData.ExceptionMessage != "Attempt to add duplicate node dup1. Ensure node ids are unique and deterministic or use graph_utils.GraphBuilder.\n" {
		t.Fatalf("error %s", jsonOf(r.errData))
	}
}

// Classic keeps only entries the current prompt can use (A → B → A
// recomputes A); LRU keeps earlier ones.
func TestCachePolicies(t *testing.T) {
	for _, c := range []struct {
		cfg        cacheConfig
		reuseAfter bool
	}{{cacheConfigs[0], false}, {cacheConfigs[2], true}, {cacheConfigs[1], false}} {
		t.Run(c.cfg.name, func(t *testing.T) {
			h := newHarness(t, c.cfg)
			build := func(v float64) (*gb, string) {
				g := newGB("pol")
				s := g.node("StubConstantImage", "value", v, "height", 4, "width", 4, "batch_size", 1)
				g.node("SaveImage", "images", out(s, 0))
				return g, s
			}
			a, sa := build(0.25)
			h.mustRun(a)
			b, _ := build(0.5)
			h.mustRun(b)
			r := h.mustRun(a)
			if r.didRun(sa) == c.reuseAfter {
				t.Errorf("A after B ran=%v", r.didRun(sa))
			}
		})
	}
}

// execution_cached lists every cached prompt node, needed or not, in prompt order.
func TestExecutionCachedListsUnneededNodes(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("ec")
	s := stub(g, "WHITE")
	o1 := g.node("SaveImage", "images", out(s, 0))
	h.mustRun(g)
	g.node("SaveImage", "images", out(stub(g, "BLACK"), 0))
	r := h.mustRun(g, g.prefix+"4")
	for _, rc := range r.recs {
		if c, ok := rc.msg.Data.(api.ExecutionCached); ok && strings.Join(c.Nodes, ",") != s+","+o1 {
			t.Errorf("execution_cached %v", c.Nodes)
		}
	}
	if r.didRun(s) || r.didRun(o1) {
		t.Error("unneeded nodes ran")
	}
}

// A lazy node that goes back to pending is announced again.
func TestLazyReannounced(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("re")
	in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
	m := mask(g, 0.5)
	mix := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in2, 0), "mask", out(m, 0))
	g.node("SaveImage", "images", out(mix, 0))
	r := h.mustRun(g)
	n := 0
	for _, rc := range r.recs {
		if e, ok := rc.msg.Data.(api.Executing); ok && e.Node == mix {
			n++
		}
	}
	if n != 2 {
		t.Errorf("executing sent %d times for the lazy node, want 2", n)
	}
	// Its sources are cached now, but unrequested lazy inputs still read as
	// missing (ComfyUI's per-node execution cache): it asks again.
	g.set(m, "value", 0.6)
	r = h.mustRun(g)
	n = 0
	for _, rc := range r.recs {
		if e, ok := rc.msg.Data.(api.Executing); ok && e.Node == mix {
			n++
		}
	}
	if n != 2 || r.didRun(in1) || r.didRun(in2) {
		t.Errorf("rerun: executing %d times, ran %v", n, r.ran)
	}
}

// Interrupt reaches async nodes through their context and progress calls.
func TestInterruptAsync(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("ia")
	img := stub(g, "WHITE")
	sl := g.node("TestSleep", "value", out(img, 0), "seconds", 30.0)
	g.node("SaveImage", "images", out(sl, 0))
	started := make(chan struct{}, 1)
	h.sink.onSend = func(r rec) {
		if p, ok := r.msg.Data.(api.Progress); ok && p.Node == sl {
			select {
			case started <- struct{}{}:
			default:
			}
		}
	}
	done := make(chan *result)
	go func() { done <- h.run(g) }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("sleep never reported progress")
	}
	h.ex.Interrupt("other-prompt") // not the running one: ignored
	select {
	case <-done:
		t.Fatal("interrupt for another prompt stopped this one")
	case <-time.After(50 * time.Millisecond):
	}
	h.ex.Interrupt("")
	select {
	case r := <-done:
		last := r.outcome.Messages[len(r.outcome.Messages)-1]
		if last.Event != "execution_interrupted" || r.outcome.Success {
			t.Errorf("outcome %s", jsonOf(r.outcome.Messages))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("async node not interrupted")
	}
}

// executor.ProgressState marshals exactly as api.ProgressState.
func TestProgressStateJSON(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("pj")
	img := stub(g, "WHITE")
	g.node("SaveImage", "images", out(img, 0))
	r := h.mustRun(g)
	n := 0
	for _, rc := range r.recs {
		ps, ok := rc.msg.Data.(executor.ProgressState)
		if !ok {
			continue
		}
		n++
		want := api.MustMarshal(api.Message{Type: rc.msg.Type, Data: api.ProgressState{PromptID: ps.PromptID, Nodes: ps.Nodes()}})
		if got := api.MustMarshal(rc.msg); string(got) != string(want) {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	}
	if n != 4 {
		t.Errorf("%d progress_state messages", n)
	}
}

// From test_async_nodes.py: async nodes with dependencies, blockers fed by
// async sources, and a failed async task reporting current_inputs {}.
func TestAsyncMore(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		t.Run("dependencies", func(t *testing.T) {
			g := newGB("adep")
			s1 := g.node("TestSleep", "value", out(stub(g, "BLACK"), 0), "seconds", 0.05)
			s2 := g.node("TestSleep", "value", out(stub(g, "WHITE"), 0), "seconds", 0.05)
			avg := g.node("TestVariadicAverage", "input1", out(s1, 0), "input2", out(s2, 0))
			o := g.node("SaveImage", "images", out(avg, 0))
			assertGrey(t, h.mustRun(g).images(t, o)[0], 127)
		})
		t.Run("blocker", func(t *testing.T) {
			g := newGB("ablock")
			s1 := g.node("TestSleep", "value", out(stub(g, "WHITE"), 0), "seconds", 0.05)
			s2 := g.node("TestSleep", "value", out(stub(g, "BLACK"), 0), "seconds", 0.05)
			b1 := g.node("TestExecutionBlocker", "input", out(s1, 0), "block", true, "verbose", false)
			b2 := g.node("TestExecutionBlocker", "input", out(s2, 0), "block", false, "verbose", false)
			o1 := g.node("PreviewImage", "images", out(b1, 0))
			o2 := g.node("PreviewImage", "images", out(b2, 0))
			r := h.mustRun(g)
			if len(r.images(t, o1)) != 0 || len(r.images(t, o2)) != 1 {
				t.Errorf("outputs %s", jsonOf(r.outcome.Outputs))
			}
		})
		t.Run("task_error_inputs", func(t *testing.T) {
			g := newGB("aerr")
			ae := g.node("TestAsyncError", "value", out(stub(g, "WHITE"), 0), "error_after", 0.01)
			g.node("SaveImage", "images", out(ae, 0))
			r := h.run(g)
			if r.errData == nil || jsonOf(r.errData.CurrentInputs) != "{}" || r.errData.ExceptionType != "RuntimeError" {
				t.Errorf("error %s", jsonOf(r.errData))
			}
		})
	})
}
