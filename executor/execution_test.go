package executor_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/executor"
)

// Ports of ComfyUI's tests/execution/test_execution.py (spec §10.1), at the
// executor level, over the cache configurations the suite uses (plus
// --cache-none, where nothing is reused).

const S = 64

// timing is false with COMFYD_SKIP_TIMING=1 (ComfyUI's --skip-timing-checks),
// for loaded machines.
var timing = os.Getenv("COMFYD_SKIP_TIMING") == "" // image size (ComfyUI's tests use 512; the behaviour is the same)

func stub(g *gb, content string) string {
	return g.node("StubImage", "content", content, "height", S, "width", S, "batch_size", 1)
}

func mask(g *gb, v any) string {
	return g.node("StubMask", "value", v, "height", S, "width", S, "batch_size", 1)
}

func TestLazyInput(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_lazy_input")
		in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
		m := mask(g, 0.0)
		mix := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in2, 0), "mask", out(m, 0))
		o := g.node("SaveImage", "images", out(mix, 0))
		r := h.mustRun(g)
		assertGrey(t, r.images(t, o)[0], 0)
		if !r.didRun(in1) || r.didRun(in2) || !r.didRun(m) || !r.didRun(mix) {
			t.Errorf("ran %v", r.ran)
		}
	})
}

func lazyGraph(maskValue float64) (*gb, string, string, string, string, string) {
	g := newGB("cache")
	in1, in2 := stub(g, "BLACK"), stub(g, "NOISE")
	m := mask(g, maskValue)
	mix := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in2, 0), "mask", out(m, 0))
	o := g.node("SaveImage", "images", out(mix, 0))
	return g, in1, in2, m, mix, o
}

func TestFullCache(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, cfg cacheConfig) {
		g, _, _, _, _, _ := lazyGraph(0.5)
		h.mustRun(g)
		r := h.mustRun(g)
		for _, id := range g.nodes.Keys() {
			if r.didRun(id) == cfg.shouldCache {
				t.Errorf("node %s ran=%v", id, r.didRun(id))
			}
			if r.cached[id] != cfg.shouldCache {
				t.Errorf("node %s cached=%v", id, r.cached[id])
			}
		}
	})
}

func TestPartialCache(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, cfg cacheConfig) {
		g, in1, in2, m, mix, _ := lazyGraph(0.5)
		h.mustRun(g)
		g.set(m, "value", 0.4)
		r := h.mustRun(g)
		if r.didRun(in1) == cfg.shouldCache || r.didRun(in2) == cfg.shouldCache {
			t.Errorf("inputs ran %v", r.ran)
		}
		if !r.didRun(m) || !r.didRun(mix) {
			t.Errorf("changed nodes did not run: %v", r.ran)
		}
	})
}

func TestError(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_error")
		in1 := stub(g, "BLACK")
		in2 := g.node("StubImage", "content", "NOISE", "height", S/2, "width", S/2, "batch_size", 1)
		m := mask(g, 0.5)
		mix := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in2, 0), "mask", out(m, 0))
		g.node("SaveImage", "images", out(mix, 0))
		r := h.run(g)
		e := r.errData
		if e == nil || e.PromptID != r.promptID || e.NodeID != mix || e.NodeType != "TestLazyMixImages" {
			t.Fatalf("error %s", jsonOf(e))
		}
		if e.ExceptionType != "RuntimeError" || !strings.HasSuffix(e.ExceptionMessage, "\n") {
			t.Errorf("exception %q %q", e.ExceptionType, e.ExceptionMessage)
		}
		ci := jsonOf(e.CurrentInputs)
		if !strings.Contains(ci, `"image1":["tensor(shape=[1, 64, 64, 3]`) || !strings.Contains(ci, `"mask":[`) {
			t.Errorf("current_inputs %s", ci)
		}
		if len(e.CurrentOutputs) != g.nodes.Len() {
			t.Errorf("current_outputs %v", e.CurrentOutputs)
		}
		if r.outcome.Success {
			t.Error("success after error")
		}
		msgs := r.outcome.Messages
		if len(msgs) != 3 || msgs[0].Event != "execution_start" || msgs[1].Event != "execution_cached" || msgs[2].Event != "execution_error" {
			t.Errorf("messages %s", jsonOf(msgs))
		}
	})
}

func validationCase(t *testing.T, h *harness, g *gb, wantErr bool) {
	t.Helper()
	r := h.run(g)
	if wantErr != (r.validation != nil) {
		t.Errorf("validation error=%v, want %v (%s)", r.validation != nil, wantErr, jsonOf(r.nodeErrors))
	}
	if r.validation == nil && (r.errData != nil || !r.outcome.Success) {
		t.Errorf("execution failed: %s", jsonOf(r.errData))
	}
}

func TestValidationErrors(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	// Literal: int 5 and "foo" fail TestCustomValidation1, 5.0 passes.
	for _, c := range []struct {
		v   any
		err bool
	}{{5, true}, {"foo", true}, {5.0, false}} {
		g := newGB("literal")
		v := g.node("TestCustomValidation1", "input1", c.v, "input2", 3.0)
		g.node("SaveImage", "images", out(v, 0))
		validationCase(t, h, g, c.err)
	}
	edge := func(class, stubType string, value any, wantErr bool) {
		g := newGB("edge")
		s := g.node(stubType, "value", value)
		v := g.node(class, "input1", out(s, 0), "input2", 3.0)
		g.node("SaveImage", "images", out(v, 0))
		validationCase(t, h, g, wantErr)
	}
	edge("TestCustomValidation1", "StubInt", 5, true)
	edge("TestCustomValidation1", "StubMask", 5.0, true)
	for _, cls := range []string{"TestCustomValidation2", "TestCustomValidation3", "TestCustomValidation4"} {
		edge(cls, "StubInt", 5, true)
		edge(cls, "StubFloat", 5.0, false)
	}
	// **kwargs bypasses min/max; 7.0 is refused by the function.
	for _, c := range []struct {
		v1, v2 float64
		err    bool
	}{{0, 0.5, false}, {0, 5, false}, {0, 7, true}} {
		g := newGB("kwargs")
		v := g.node("TestCustomValidation5", "input1", c.v1, "input2", c.v2)
		g.node("SaveImage", "images", out(v, 0))
		validationCase(t, h, g, c.err)
	}
}

func TestCycleError(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("test_cycle_error")
	in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
	m := mask(g, 0.5)
	mix1 := g.node("TestLazyMixImages", "image1", out(in1, 0), "mask", out(m, 0))
	mix2 := g.node("TestLazyMixImages", "image1", out(mix1, 0), "image2", out(in2, 0), "mask", out(m, 0))
	g.node("SaveImage", "images", out(mix2, 0))
	if r := h.run(g); r.validation == nil {
		t.Fatal("no validation error")
	}
	// A real static cycle gets dependency_cycle errors on every member.
	g.set(mix1, "image2", out(mix2, 0))
	r := h.run(g)
	if r.validation == nil || r.nodeErrors[mix1] == nil || r.nodeErrors[mix2] == nil || r.nodeErrors[mix1].Errors[0].Type != "dependency_cycle" {
		t.Fatalf("cycle: %s", jsonOf(r.nodeErrors))
	}
}

// A cycle created by expansion fails at run time, blamed on the expanding
// node. ComfyUI leaves status_str "success" in history there (§6.2 quirk);
// comfyd reports the failure as "error".
func TestDynamicCycleError(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_dynamic_cycle_error")
		in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
		gen := g.node("TestDynamicDependencyCycle", "input1", out(in1, 0), "input2", out(in2, 0))
		g.node("SaveImage", "images", out(gen, 0))
		r := h.run(g)
		e := r.errData
		if e == nil || e.NodeID != gen || e.ExceptionType != "graph.DependencyCycleError" || e.ExceptionMessage != "Dependency cycle detected" {
			t.Fatalf("error %s", jsonOf(e))
		}
		if ci, ok := e.CurrentInputs.([]any); !ok || len(ci) != 0 {
			t.Errorf("current_inputs %s, want []", jsonOf(e.CurrentInputs))
		}
		if r.outcome.Success {
			t.Error("status success after a dependency cycle (ComfyUI quirk not fixed)")
		}
	})
}

func TestMissingNodeError(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_missing_node_error")
		in1 := stub(g, "BLACK")
		g.nodeID("removeme", "StubImage", "content", "WHITE", "height", S, "width", S, "batch_size", 1)
		in3 := stub(g, "WHITE")
		m := mask(g, 0.5)
		mix1 := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out("removeme", 0), "mask", out(m, 0))
		mix2 := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in3, 0), "mask", out(m, 0))
		o1 := g.node("SaveImage", "images", out(mix1, 0))
		o2 := g.node("SaveImage", "images", out(mix2, 0))
		g.remove("removeme")
		r := h.mustRun(g)
		if r.nodeErrors[mix1] == nil || r.didRun(o1) || !r.didRun(o2) {
			t.Errorf("partial: errors %s ran %v", jsonOf(r.nodeErrors), r.ran)
		}
		g.nodeID("removeme", "StubImage", "content", "WHITE", "height", S, "width", S, "batch_size", 1)
		r = h.mustRun(g)
		// mix1 now equals mix2 (same classes and inputs), so o1 may be a cache hit.
		if !r.wasExecuted(o1) || len(r.images(t, o1)) != 1 {
			t.Errorf("re-added branch not executed")
		}
	})
}

func TestCustomIsChanged(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, cfg cacheConfig) {
		g := newGB("test_custom_is_changed")
		save := g.node("SaveImage")
		ic := g.node("TestCustomIsChanged", "should_change", false)
		in1 := stub(g, "BLACK")
		g.set(save, "images", out(ic, 0))
		g.set(ic, "image", out(in1, 0))
		r1 := h.mustRun(g)
		r2 := h.mustRun(g)
		g.set(ic, "should_change", true)
		r3 := h.mustRun(g)
		r4 := h.mustRun(g)
		if !r1.didRun(ic) || r2.didRun(ic) == cfg.shouldCache || !r3.didRun(ic) || !r4.didRun(ic) {
			t.Errorf("runs: %v %v %v %v", r1.didRun(ic), r2.didRun(ic), r3.didRun(ic), r4.didRun(ic))
		}
	})
}

func TestUndeclaredInputs(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_undeclared_inputs")
		a, b, c, d := stub(g, "BLACK"), stub(g, "WHITE"), stub(g, "BLACK"), stub(g, "BLACK")
		avg := g.node("TestVariadicAverage", "input1", out(a, 0), "input2", out(b, 0), "input3", out(c, 0), "input4", out(d, 0))
		o := g.node("SaveImage", "images", out(avg, 0))
		r := h.mustRun(g)
		assertGrey(t, r.images(t, o)[0], 255/4)
	})
}

func TestForLoop(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_for_loop")
		in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
		ic := g.node("TestCustomIsChanged", "should_change", true, "image", out(in2, 0))
		fo := g.node("TestForLoopOpen", "remaining", 4, "initial_value1", out(ic, 0))
		avg := g.node("TestVariadicAverage", "input1", out(in1, 0), "input2", out(fo, 2))
		fc := g.node("TestForLoopClose", "flow_control", out(fo, 0), "initial_value1", out(avg, 0))
		o := g.node("SaveImage", "images", out(fc, 0))
		for it := 1; it <= 4; it++ {
			g.set(fo, "remaining", it)
			r := h.mustRun(g)
			imgs := r.images(t, o)
			if len(imgs) != 1 {
				t.Fatalf("iterations %d: %d images", it, len(imgs))
			}
			assertGrey(t, imgs[0], 255/(1<<it))
			if !r.didRun(ic) {
				t.Errorf("is_changed node cached")
			}
		}
	})
}

func TestMixedExpansionReturns(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_mixed_expansion_returns")
		vl := g.node("TestMakeListNode", "value1", 0.1, "value2", 0.2, "value3", 0.3)
		mixed := g.node("TestMixedExpansionReturns", "input1", out(vl, 0))
		od := g.node("SaveImage", "images", out(mixed, 0))
		ol := g.node("SaveImage", "images", out(mixed, 1))
		r := h.mustRun(g)
		dyn := r.images(t, od)
		if len(dyn) != 3 {
			t.Fatalf("%d dynamic images", len(dyn))
		}
		for i, want := range []int{25, 51, 76} {
			assertGrey(t, dyn[i], want)
		}
		lit := r.images(t, ol)
		if len(lit) != 3 {
			t.Fatalf("%d literal images", len(lit))
		}
		for _, img := range lit {
			assertGrey(t, img, 255)
		}
	})
}

func TestMixedLazyResults(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_mixed_lazy_results")
		vl := g.node("TestMakeListNode", "value1", 0.0, "value2", 0.5, "value3", 1.0)
		m := g.node("StubMask", "value", out(vl, 0), "height", S, "width", S, "batch_size", 1)
		in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
		mix := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in2, 0), "mask", out(m, 0))
		rb := g.node("RebatchImages", "images", out(mix, 0), "batch_size", 3)
		o := g.node("SaveImage", "images", out(rb, 0))
		r := h.mustRun(g)
		imgs := r.images(t, o)
		if len(imgs) != 3 {
			t.Fatalf("%d images", len(imgs))
		}
		for i, want := range []int{0, 127, 255} {
			assertGrey(t, imgs[i], want)
		}
	})
}

func TestOutputReuse(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_output_reuse")
		in1 := stub(g, "BLACK")
		o1 := g.node("SaveImage", "images", out(in1, 0))
		o2 := g.node("SaveImage", "images", out(in1, 0))
		r := h.mustRun(g)
		if len(r.images(t, o1)) != 1 || len(r.images(t, o2)) != 1 {
			t.Errorf("outputs %s", jsonOf(r.outcome.Outputs))
		}
	})
}

func TestIsChangedWithConstants(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, cfg cacheConfig) {
		g := newGB("test_is_changed_with_outputs")
		in1 := g.node("StubConstantImage", "value", 0.5, "height", S, "width", S, "batch_size", 1)
		tn := g.node("TestIsChangedWithConstants", "image", out(in1, 0), "value", 0.5)
		o := g.node("PreviewImage", "images", out(tn, 0))
		for i := 0; i < 2; i++ {
			r := h.mustRun(g)
			imgs := r.images(t, o)
			if len(imgs) != 1 {
				t.Fatalf("%d images", len(imgs))
			}
			assertGrey(t, imgs[0], 63)
			if i == 1 && r.didRun(tn) == cfg.shouldCache {
				t.Errorf("second run ran=%v", r.didRun(tn))
			}
		}
	})
}

func TestParallelSleepNodes(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_parallel_sleep_nodes")
		img := stub(g, "BLACK")
		var sleeps []string
		for _, s := range []float64{0.29, 0.31, 0.3} {
			sl := g.node("TestSleep", "value", out(img, 0), "seconds", s)
			sleeps = append(sleeps, sl)
			g.node("PreviewImage", "images", out(sl, 0))
		}
		start := time.Now()
		r := h.mustRun(g)
		if el := time.Since(start); timing && el > 800*time.Millisecond {
			t.Errorf("parallel sleeps took %v (not overlapping)", el)
		}
		for _, s := range sleeps {
			if !r.didRun(s) {
				t.Errorf("%s did not run", s)
			}
		}
	})
}

func TestParallelSleepExpansion(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_parallel_sleep_expansion")
		i1, i2, i3 := stub(g, "BLACK"), stub(g, "WHITE"), stub(g, "WHITE")
		ps := g.node("TestParallelSleep", "image1", out(i1, 0), "image2", out(i2, 0), "image3", out(i3, 0),
			"sleep1", 0.28, "sleep2", 0.29, "sleep3", 0.3)
		o := g.node("SaveImage", "images", out(ps, 0))
		start := time.Now()
		r := h.mustRun(g)
		if el := time.Since(start); timing && el > 800*time.Millisecond {
			t.Errorf("expansion took %v", el)
		}
		if !r.didRun(ps) {
			t.Error("parallel sleep did not run")
		}
		imgs := r.images(t, o)
		if len(imgs) != 1 {
			t.Fatalf("%d images", len(imgs))
		}
		assertGrey(t, imgs[0], 170)
		// Expanded children are reported with their parent as display node.
		for _, rc := range r.recs {
			if d, ok := rc.msg.Data.(api.Executing); ok && strings.HasPrefix(d.Node, ps+".0.0.") && d.DisplayNode != ps {
				t.Errorf("child %s display %s", d.Node, d.DisplayNode)
			}
		}
	})
}

func TestExecutionBlockListOutput(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		g := newGB("test_execution_block_list_output")
		i1, i2, i3 := stub(g, "BLACK"), stub(g, "WHITE"), stub(g, "BLACK")
		il := g.node("TestMakeListNode", "value1", out(i1, 0), "value2", out(i2, 0), "value3", out(i3, 0))
		n1, n2, n3 := g.node("StubInt", "value", 1), g.node("StubInt", "value", 2), g.node("StubInt", "value", 3)
		nl := g.node("TestMakeListNode", "value1", out(n1, 0), "value2", out(n2, 0), "value3", out(n3, 0))
		cmp := g.node("TestIntConditions", "a", out(nl, 0), "b", 2, "operation", "==")
		bl := g.node("TestExecutionBlocker", "input", out(il, 0), "block", out(cmp, 0), "verbose", false)
		lo := g.node("TestMakeListNode", "value1", out(bl, 0))
		o := g.node("PreviewImage", "images", out(lo, 0))
		r := h.mustRun(g)
		if !r.didRun(o) {
			t.Fatal("output did not run")
		}
		imgs := r.images(t, o)
		if len(imgs) != 2 {
			t.Fatalf("%d images", len(imgs))
		}
		assertGrey(t, imgs[0], 0)
		assertGrey(t, imgs[1], 0)
	})
}

// A blocker with a message reports a non-fatal execution_error (no
// timestamp, not in history) and the prompt still succeeds.
func TestExecutionBlockerMessage(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("verbose")
	i1 := stub(g, "BLACK")
	bl := g.node("TestExecutionBlocker", "input", out(i1, 0), "block", true, "verbose", true)
	o := g.node("PreviewImage", "images", out(bl, 0))
	r := h.run(g)
	if !r.outcome.Success || r.errData != nil {
		t.Fatalf("failed: %s", jsonOf(r.outcome.Messages))
	}
	var found string
	for _, rc := range r.recs {
		if rc.msg.Type == "execution_error" {
			found = jsonOf(rc.msg.Data)
		}
	}
	want := `{"prompt_id":"` + r.promptID + `","node_id":"` + o + `","node_type":"PreviewImage","executed":["verbose1","verbose2"],"exception_message":"Execution Blocked: Blocked Execution","exception_type":"ExecutionBlocked","traceback":[],"current_inputs":[],"current_outputs":[]}`
	if found != want {
		t.Errorf("blocker message\n got %s\nwant %s", found, want)
	}
	if _, ok := r.outcome.Outputs.Get(o); ok {
		t.Error("blocked output node produced UI")
	}
}

func TestPartialExecution(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, _ cacheConfig) {
		t.Run("included", func(t *testing.T) {
			g := newGB("included")
			in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
			o1 := g.node("SaveImage", "images", out(in1, 0))
			o2 := g.node("SaveImage", "images", out(in2, 0))
			r := h.mustRun(g, o1)
			if !r.wasExecuted(in1) || !r.wasExecuted(o1) || r.didRun(in2) || r.didRun(o2) {
				t.Errorf("ran %v", r.ran)
			}
			if len(r.images(t, o1)) != 1 || len(r.images(t, o2)) != 0 {
				t.Errorf("outputs %s", jsonOf(r.outcome.Outputs))
			}
		})
		t.Run("excluded", func(t *testing.T) {
			g := newGB("excluded")
			in1, in2, in3 := stub(g, "BLACK"), stub(g, "WHITE"), stub(g, "NOISE")
			o1 := g.node("SaveImage", "images", out(in1, 0))
			o2 := g.node("SaveImage", "images", out(in2, 0))
			o3 := g.node("SaveImage", "images", out(in3, 0))
			r := h.mustRun(g, o1, o3)
			if !r.wasExecuted(in1) || !r.wasExecuted(in3) || !r.wasExecuted(o1) || !r.wasExecuted(o3) || r.didRun(in2) || r.didRun(o2) {
				t.Errorf("ran %v", r.ran)
			}
		})
		t.Run("dependencies", func(t *testing.T) {
			g := newGB("dependencies")
			in1 := stub(g, "BLACK")
			ows := g.node("TestOutputNodeWithSocketOutput", "image", out(in1, 0), "value", 2.0)
			dep := g.node("TestLazyMixImages", "image1", out(ows, 0), "image2", out(in1, 0), "mask", out(mask(g, 0.5), 0))
			fin := g.node("SaveImage", "images", out(dep, 0))
			r := h.mustRun(g, fin)
			for _, id := range []string{in1, ows, dep, fin} {
				if !r.wasExecuted(id) {
					t.Errorf("%s not executed", id)
				}
			}
		})
		t.Run("lazy", func(t *testing.T) {
			g := newGB("lazy")
			in1, in2, in3 := stub(g, "BLACK"), stub(g, "WHITE"), stub(g, "NOISE")
			m1, m2 := mask(g, 0.0), mask(g, 0.5)
			l1 := g.node("TestLazyMixImages", "image1", out(in1, 0), "image2", out(in2, 0), "mask", out(m1, 0))
			l2 := g.node("TestLazyMixImages", "image1", out(in2, 0), "image2", out(in3, 0), "mask", out(m2, 0))
			o1 := g.node("SaveImage", "images", out(l1, 0))
			o2 := g.node("SaveImage", "images", out(l2, 0))
			r := h.mustRun(g, o1)
			if !r.wasExecuted(in1) || r.didRun(in2) || !r.wasExecuted(m1) || !r.wasExecuted(l1) || !r.wasExecuted(o1) {
				t.Errorf("path 1: ran %v", r.ran)
			}
			for _, id := range []string{in3, m2, l2, o2} {
				if r.didRun(id) {
					t.Errorf("%s ran", id)
				}
			}
		})
		t.Run("multiple_output_nodes", func(t *testing.T) {
			g := newGB("multi")
			in1, in2 := stub(g, "BLACK"), stub(g, "WHITE")
			on1 := g.node("TestOutputNodeWithSocketOutput", "image", out(in1, 0), "value", 1.5)
			on2 := g.node("TestOutputNodeWithSocketOutput", "image", out(on1, 0), "value", 2.0)
			s1 := g.node("SaveImage", "images", out(on1, 0))
			s2 := g.node("SaveImage", "images", out(on2, 0))
			s3 := g.node("SaveImage", "images", out(in2, 0))
			r := h.mustRun(g, s2)
			for _, id := range []string{in1, on1, on2, s2} {
				if !r.wasExecuted(id) {
					t.Errorf("%s not executed", id)
				}
			}
			for _, id := range []string{in2, s1, s3} {
				if r.didRun(id) {
					t.Errorf("%s ran", id)
				}
			}
		})
		t.Run("empty_list", func(t *testing.T) {
			g := newGB("empty")
			in1 := stub(g, "BLACK")
			g.node("SaveImage", "images", out(in1, 0))
			r := h.runOpts(g, "c1", []string{}, true)
			if r.validation == nil || r.validation.Type != "prompt_no_outputs" {
				t.Errorf("validation %v", r.validation)
			}
		})
	})
}

func TestAsyncNodes(t *testing.T) {
	forEachConfig(t, func(t *testing.T, h *harness, cfg cacheConfig) {
		t.Run("basic_and_cached", func(t *testing.T) {
			g := newGB("async_basic")
			img := stub(g, "WHITE")
			sl := g.node("TestSleep", "value", out(img, 0), "seconds", 0.05)
			o := g.node("SaveImage", "images", out(sl, 0))
			r := h.mustRun(g)
			assertGrey(t, r.images(t, o)[0], 255)
			start := time.Now()
			r = h.mustRun(g)
			if cfg.shouldCache && (r.didRun(sl) || (timing && time.Since(start) > 100*time.Millisecond)) {
				t.Errorf("async node not cached on rerun")
			}
		})
		t.Run("error", func(t *testing.T) {
			g := newGB("async_error")
			img := stub(g, "WHITE")
			ae := g.node("TestAsyncError", "value", out(img, 0), "error_after", 0.05)
			g.node("SaveImage", "images", out(ae, 0))
			r := h.run(g)
			if r.errData == nil || r.errData.NodeID != ae || r.errData.ExceptionMessage != "Intentional async execution error for testing\n" {
				t.Fatalf("error %s", jsonOf(r.errData))
			}
			// Recovery: the next prompt runs.
			g2 := newGB("async_recover")
			o := g2.node("SaveImage", "images", out(stub(g2, "BLACK"), 0))
			if len(h.mustRun(g2).images(t, o)) != 1 {
				t.Error("no image after recovery")
			}
		})
		t.Run("sync_error_while_async_runs", func(t *testing.T) {
			g := newGB("sync_error")
			img := stub(g, "WHITE")
			sl := g.node("TestSleep", "value", out(img, 0), "seconds", 0.2)
			g.node("SaveImage", "images", out(sl, 0))
			se := g.node("TestSyncError", "value", out(img, 0))
			g.node("SaveImage", "images", out(se, 0))
			r := h.run(g)
			if r.errData == nil || r.errData.NodeID != se || r.errData.ExceptionType != "RuntimeError" {
				t.Fatalf("error %s", jsonOf(r.errData))
			}
		})
	})
}

// Two clients each get progress_state for their own prompt only.
func TestProgressIsolation(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	for _, client := range []string{"alice", "bob"} {
		g := newGB("iso_" + client)
		img := stub(g, "WHITE")
		sl := g.node("TestSleep", "value", out(img, 0), "seconds", 0.03)
		g.node("SaveImage", "images", out(sl, 0))
		r := h.runOpts(g, client, nil, false)
		n := 0
		for _, rc := range r.recs {
			if rc.msg.Type == "progress_state" || rc.msg.Type == "progress" {
				n++
				if rc.sid != client {
					t.Errorf("%s sent to %q", rc.msg.Type, rc.sid)
				}
				if ps, ok := rc.msg.Data.(executor.ProgressState); ok && ps.PromptID != r.promptID {
					t.Errorf("foreign prompt id")
				}
			}
		}
		if n == 0 {
			t.Errorf("no progress for %s", client)
		}
	}
}

// Addressing (§4.3): without a client id, executing/executed/status
// messages are not sent, progress and progress_state are broadcast.
func TestAddressingWithoutClient(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("anon")
	img := stub(g, "WHITE")
	sl := g.node("TestSleep", "value", out(img, 0), "seconds", 0.02)
	g.node("SaveImage", "images", out(sl, 0))
	r := h.runOpts(g, "", nil, false)
	if !r.outcome.Success {
		t.Fatal("failed")
	}
	seen := map[string]bool{}
	for _, rc := range r.recs {
		seen[rc.msg.Type] = true
		if rc.sid != "" {
			t.Errorf("%s targeted to %q", rc.msg.Type, rc.sid)
		}
	}
	for _, typ := range []string{"execution_start", "execution_cached", "executing", "executed", "execution_success"} {
		if seen[typ] {
			t.Errorf("%s sent without client", typ)
		}
	}
	if !seen["progress_state"] || !seen["progress"] {
		t.Errorf("progress not broadcast: %v", seen)
	}
	if len(r.outcome.Messages) != 3 {
		t.Errorf("history messages %s", jsonOf(r.outcome.Messages))
	}
}

// The event stream of a small prompt with a client, and of its cached rerun.
func TestEventSequence(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("seq")
	img := stub(g, "WHITE")
	o := g.node("SaveImage", "images", out(img, 0))
	r := h.mustRun(g)
	if got := eventTypes(r.recs); got != "execution_start,execution_cached,progress_state,executing,progress_state,progress_state,executing,executed,progress_state,execution_success" {
		t.Errorf("events %s", got)
	}
	for _, rc := range r.recs {
		if rc.sid != "c1" {
			t.Errorf("%s to %q", rc.msg.Type, rc.sid)
		}
	}
	// progress_state at start: value 0.0 of 1.0, running; finished: value = max.
	ps := jsonOf(r.recs[2].msg.Data)
	if want := `{"prompt_id":"` + r.promptID + `","nodes":{"` + img + `":{"value":0.0,"max":1.0,"state":"running","node_id":"` + img + `","prompt_id":"` + r.promptID + `","display_node_id":"` + img + `","parent_node_id":null,"real_node_id":"` + img + `"}}}`; ps != want {
		t.Errorf("progress_state\n got %s\nwant %s", ps, want)
	}
	meta := r.outcome.Meta[o]
	if meta.NodeID != o || meta.DisplayNode != o || meta.ParentNode != nil || meta.RealNodeID != o {
		t.Errorf("meta %+v", meta)
	}
	r2 := h.mustRun(g)
	if got := eventTypes(r2.recs); got != "execution_start,execution_cached,executed,progress_state,execution_success" {
		t.Errorf("cached events %s", got)
	}
	for _, rc := range r2.recs {
		if ex, ok := rc.msg.Data.(api.Executed); ok && (ex.Node != o || ex.Output == nil) {
			t.Errorf("cached executed %s", jsonOf(ex))
		}
		if c, ok := rc.msg.Data.(api.ExecutionCached); ok && strings.Join(c.Nodes, ",") != img+","+o {
			t.Errorf("execution_cached %v", c.Nodes)
		}
	}
	if _, ok := r2.outcome.Outputs.Get(o); !ok {
		t.Error("cached output missing from history outputs")
	}
}

func chain(n int) (*gb, string) {
	g := newGB("c")
	prev := g.node("StubImage", "content", "WHITE", "height", 2, "width", 2, "batch_size", 1)
	for i := 0; i < n; i++ {
		prev = g.node("TestVariadicAverage", "input1", out(prev, 0))
	}
	return g, g.node("SaveImage", "images", out(prev, 0))
}

var longChain = 5000 // lowered by profiling runs

func TestLongChain(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g, o := chain(longChain)
	start := time.Now()
	r := h.mustRun(g)
	if len(r.ran) != longChain+2 {
		t.Errorf("%d nodes ran", len(r.ran))
	}
	assertGrey(t, r.images(t, o)[0], 255)
	t.Logf("5,000-node chain validated and ran in %v", time.Since(start))
}

func TestInterrupt(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	// An interrupt with nothing running is lost (ComfyUI clears the flag
	// when the next prompt starts).
	h.ex.Interrupt("")
	g := newGB("int")
	img := stub(g, "WHITE")
	w := g.node("TestWaitForInterrupt", "value", out(img, 0))
	g.node("SaveImage", "images", out(w, 0))
	started := make(chan struct{})
	var once sync.Once
	h.sink.onSend = func(r rec) {
		if e, ok := r.msg.Data.(api.Executing); ok && e.Node == w {
			once.Do(func() { close(started) })
		}
	}
	done := make(chan *result)
	go func() { done <- h.run(g) }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("node never started")
	}
	if p, c, d := h.ex.Running(); p == "" || c != "c1" || d != w {
		t.Errorf("Running() = %q %q %q", p, c, d)
	}
	at := time.Now()
	h.ex.Interrupt("")
	var r *result
	select {
	case r = <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("interrupt did not stop the node")
	}
	if el := time.Since(at); timing && el > 500*time.Millisecond {
		t.Errorf("interrupt took %v", el)
	}
	msgs := r.outcome.Messages
	last := msgs[len(msgs)-1]
	ei, ok := last.Data.(api.ExecutionInterrupted)
	if r.outcome.Success || last.Event != "execution_interrupted" || !ok || ei.NodeID != w || ei.NodeType != "TestWaitForInterrupt" || strings.Join(ei.Executed, ",") != img {
		t.Errorf("outcome %s", jsonOf(msgs))
	}
	h.sink.onSend = nil
	// The next prompt runs normally and reuses the cached image node.
	g2 := newGB("after")
	o := g2.node("SaveImage", "images", out(g2.node("StubImage", "content", "WHITE", "height", S, "width", S, "batch_size", 1), 0))
	if len(h.mustRun(g2).images(t, o)) != 1 {
		t.Error("no image after interrupt")
	}
}

func TestPanicIsExecutionError(t *testing.T) {
	h := newHarness(t, cacheConfigs[0])
	g := newGB("panic")
	img := stub(g, "WHITE")
	p := g.node("TestPanic", "value", out(img, 0))
	g.node("SaveImage", "images", out(p, 0))
	r := h.run(g)
	e := r.errData
	if e == nil || e.NodeID != p || !strings.HasPrefix(e.ExceptionType, "runtime.") || !strings.Contains(e.ExceptionMessage, "nil map") || len(e.Traceback) == 0 {
		t.Fatalf("error %s", jsonOf(e))
	}
	g2 := newGB("after")
	o := g2.node("SaveImage", "images", out(stub(g2, "BLACK"), 0))
	if len(h.mustRun(g2).images(t, o)) != 1 {
		t.Error("no image after panic")
	}
}

func BenchmarkExecute(b *testing.B) {
	h := newHarness(b, cacheConfig{"none", executor.CachePolicy{Kind: "none"}, false})
	g := newGB("bench")
	i1 := g.node("StubImage", "content", "WHITE", "height", S, "width", S, "batch_size", 1)
	i2 := g.node("StubImage", "content", "BLACK", "height", S, "width", S, "batch_size", 1)
	m := g.node("StubMask", "value", 0.25, "height", S, "width", S, "batch_size", 1)
	mix := g.node("TestLazyMixImages", "image1", out(i1, 0), "image2", out(i2, 0), "mask", out(m, 0))
	avg := g.node("TestVariadicAverage", "input1", out(mix, 0), "input2", out(i1, 0))
	g.node("SaveImage", "images", out(avg, 0))
	b.ReportAllocs()
	for b.Loop() {
		h.mustRun(g)
	}
	_ = context.Background
}
