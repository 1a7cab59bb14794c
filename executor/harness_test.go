package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/executor"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/internal/testnodes"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

type rec struct {
	sid    string
	msg    api.Message
	binary []byte
}

// recSink records everything the executor emits.
type recSink struct {
	mu       sync.Mutex
	recs     []rec
	metaSids map[string]bool
	onSend   func(r rec)
}

func (s *recSink) Send(sid string, msg api.Message) {
	s.mu.Lock()
	r := rec{sid: sid, msg: msg}
	s.recs = append(s.recs, r)
	f := s.onSend
	s.mu.Unlock()
	if f != nil {
		f(r)
	}
}

func (s *recSink) SendBinary(sid string, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, rec{sid: sid, binary: frame})
}

func (s *recSink) SupportsPreviewMetadata(sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metaSids[sid]
}

func (s *recSink) take() []rec {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recs
	s.recs = nil
	return r
}

// cacheConfig is one of the server configurations ComfyUI's execution
// tests are parametrised over.
type cacheConfig struct {
	name        string
	policy      executor.CachePolicy
	shouldCache bool
}

var cacheConfigs = []cacheConfig{
	{"classic", executor.CachePolicy{Kind: "classic"}, true},
	{"lru0", executor.CachePolicy{Kind: "lru", LRUSize: 0}, true},
	{"lru100", executor.CachePolicy{Kind: "lru", LRUSize: 100}, true},
	{"none", executor.CachePolicy{Kind: "none"}, false},
}

type harness struct {
	t    testing.TB
	reg  *node.Registry
	ex   *executor.Executor
	sink *recSink
	n    int
}

func newHarness(t testing.TB, cfg cacheConfig) *harness {
	return newHarnessReg(t, cfg, testnodes.Registry())
}

func newHarnessReg(t testing.TB, cfg cacheConfig, reg *node.Registry) *harness {
	s := &recSink{metaSids: map[string]bool{}}
	return &harness{t: t, reg: reg, sink: s,
		ex: executor.New(executor.Options{Registry: reg, Sink: s, Cache: cfg.policy, PreviewMethod: "auto", PreviewSize: 16})}
}

// result is what ComfyUI's test client gathers for one prompt.
type result struct {
	promptID   string
	validation *api.Error
	nodeErrors map[string]*api.NodeError
	outcome    executor.Outcome
	recs       []rec
	ran        map[string]bool
	cached     map[string]bool
	errData    *api.ExecutionError
}

func (r *result) didRun(id string) bool      { return r.ran[id] }
func (r *result) wasExecuted(id string) bool { return r.ran[id] || r.cached[id] }

// gb builds API prompts like ComfyUI's GraphBuilder in the tests.
type gb struct {
	prefix string
	nodes  *api.Object
	n      int
}

func newGB(prefix string) *gb { return &gb{prefix: prefix, nodes: api.NewObject()} }

func (g *gb) node(class string, kv ...any) string {
	g.n++
	id := fmt.Sprintf("%s%d", g.prefix, g.n)
	g.nodeID(id, class, kv...)
	return id
}

func (g *gb) nodeID(id, class string, kv ...any) string {
	in := api.NewObject()
	for i := 0; i+1 < len(kv); i += 2 {
		in.Set(kv[i].(string), lit(kv[i+1]))
	}
	if class == "SaveImage" {
		// ComfyUI's test client sets this on every SaveImage.
		in.Set("filename_prefix", "execution["+g.prefix+"]")
	}
	g.nodes.Set(id, api.ObjectOf("class_type", class, "inputs", in))
	return id
}

func (g *gb) set(id, input string, v any) {
	n, _ := api.PromptNodeOf(g.nodes, id)
	n.Inputs.Set(input, lit(v))
}

func (g *gb) remove(id string) { g.nodes.Delete(id) }

type link struct {
	id  string
	out int
}

func out(id string, i int) link { return link{id, i} }

func lit(v any) any {
	switch t := v.(type) {
	case link:
		return []any{t.id, api.Int(int64(t.out))}
	case int:
		return api.Int(int64(t))
	case float64:
		return api.Float(t)
	}
	return v
}

func (h *harness) run(g *gb, targets ...string) *result {
	return h.runOpts(g, "c1", targets, targets != nil)
}

// runOpts validates and executes a prompt the way POST /prompt and the
// worker do (on a JSON round trip of the built prompt).
func (h *harness) runOpts(g *gb, client string, targets []string, partial bool) *result {
	h.t.Helper()
	v, err := api.Decode(api.MustMarshal(g.nodes))
	if err != nil {
		h.t.Fatal(err)
	}
	prompt := v.(*api.Object)
	if !partial {
		targets = nil
	} else if targets == nil {
		targets = []string{}
	}
	h.n++
	r := &result{promptID: fmt.Sprintf("p%d", h.n), ran: map[string]bool{}, cached: map[string]bool{}}
	outs, ne, verr := graph.Validate(h.reg, nil, prompt, targets)
	r.nodeErrors = ne
	if verr != nil {
		r.validation = verr
		return r
	}
	extra := api.NewObject()
	if client != "" {
		extra.Set("client_id", client)
	}
	h.sink.take()
	r.outcome = h.ex.Execute(context.Background(), api.QueueItem{Number: api.Int(int64(h.n)), PromptID: r.promptID, Prompt: prompt, ExtraData: extra, Outputs: outs})
	r.recs = h.sink.take()
	for _, rc := range r.recs {
		switch d := rc.msg.Data.(type) {
		case api.Executing:
			r.ran[d.Node] = true
		case api.ExecutionCached:
			for _, id := range d.Nodes {
				r.cached[id] = true
			}
		case api.ExecutionError:
			dd := d
			r.errData = &dd
		}
	}
	return r
}

func (h *harness) mustRun(g *gb, targets ...string) *result {
	h.t.Helper()
	r := h.run(g, targets...)
	if r.validation != nil {
		h.t.Fatalf("validation failed: %s %s", api.MustMarshal(r.validation), api.MustMarshal(r.nodeErrors))
	}
	if r.errData != nil {
		h.t.Fatalf("execution error: %s", api.MustMarshal(r.errData))
	}
	if !r.outcome.Success {
		h.t.Fatalf("prompt failed: %s", api.MustMarshal(r.outcome.Messages))
	}
	return r
}

// images returns the images an output node saved (history → /view).
func (r *result) images(t testing.TB, id string) []*tensor.Tensor {
	t.Helper()
	v, ok := r.outcome.Outputs.Get(id)
	if !ok {
		return nil
	}
	o := v.(*api.Object)
	items, _ := o.Get("images")
	var out []*tensor.Tensor
	for _, it := range items.([]any) {
		ref := it.(api.ImageRef)
		img, ok := testnodes.Image(ref.Filename)
		if !ok {
			t.Fatalf("image %s not saved", ref.Filename)
		}
		out = append(out, img)
	}
	return out
}

// pixelRange is numpy.array(PIL image).min()/max(): 255*v clipped, truncated.
func pixelRange(img *tensor.Tensor) (lo, hi int) {
	lo, hi = 256, -1
	for _, v := range img.Values() {
		p := int(min(max(255*v, 0), 255))
		lo = min(lo, p)
		hi = max(hi, p)
	}
	return
}

func assertGrey(t testing.TB, img *tensor.Tensor, want int) {
	t.Helper()
	lo, hi := pixelRange(img)
	if lo != want || hi != want {
		t.Errorf("image range %d..%d, want %d", lo, hi, want)
	}
}

func forEachConfig(t *testing.T, f func(t *testing.T, h *harness, cfg cacheConfig)) {
	for _, cfg := range cacheConfigs {
		t.Run(cfg.name, func(t *testing.T) { f(t, newHarness(t, cfg), cfg) })
	}
}

func eventTypes(recs []rec) string {
	var b []string
	for _, r := range recs {
		if r.binary != nil {
			b = append(b, fmt.Sprintf("binary%d", r.binary[3]))
			continue
		}
		b = append(b, r.msg.Type)
	}
	return strings.Join(b, ",")
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
