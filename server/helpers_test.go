package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/config"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/modelpaths"
	"github.com/comfyd/comfyd/node"
	"github.com/comfyd/comfyd/queue"
)

const capturesDir = "../../shared/golden/comfyui-captures/"

// capture is one recorded ComfyUI answer.
type capture struct {
	Request struct {
		Method string `json:"method"`
		Path   string `json:"path"`
		JSON   any    `json:"json"`
		Data   any    `json:"data"`
	} `json:"request"`
	Status     int               `json:"status"`
	Headers    map[string]string `json:"headers"`
	BodyJSON   json.RawMessage   `json:"body_json"`
	BodyText   *string           `json:"body_text"`
	BodyBase64 *string           `json:"body_base64"`
}

func loadCapture(t testing.TB, name string) *capture {
	t.Helper()
	b, err := os.ReadFile(capturesDir + name)
	if err != nil {
		t.Skipf("capture %s not available: %v", name, err)
	}
	var c capture
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// sameShape compares two JSON documents by keys (and their order), types
// and nesting, not by values (ids, timestamps, paths and sizes differ from
// run to run). Arrays compare element-wise when both are non-empty.
func sameShape(got, want any, at string) error {
	switch w := want.(type) {
	case *api.Object:
		g, ok := got.(*api.Object)
		if !ok {
			return fmt.Errorf("%s: got %T, want object", at, got)
		}
		gk, wk := g.Keys(), w.Keys()
		if strings.Join(gk, ",") != strings.Join(wk, ",") {
			return fmt.Errorf("%s: keys %v, want %v", at, gk, wk)
		}
		for _, k := range wk {
			gv, _ := g.Get(k)
			wv, _ := w.Get(k)
			if err := sameShape(gv, wv, at+"."+k); err != nil {
				return err
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want array", at, got)
		}
		if len(g) > 0 && len(w) > 0 {
			for i := 0; i < len(g) && i < len(w); i++ {
				if err := sameShape(g[i], w[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case json.Number:
		if _, ok := got.(json.Number); !ok {
			return fmt.Errorf("%s: got %T (%v), want integer", at, got, got)
		}
	case api.Float:
		if _, ok := got.(api.Float); !ok {
			return fmt.Errorf("%s: got %T (%v), want float", at, got, got)
		}
	case string:
		if _, ok := got.(string); !ok {
			return fmt.Errorf("%s: got %T, want string", at, got)
		}
	case bool:
		if _, ok := got.(bool); !ok {
			return fmt.Errorf("%s: got %T, want bool", at, got)
		}
	case nil:
		if got != nil {
			return fmt.Errorf("%s: got %v, want null", at, got)
		}
	}
	return nil
}

func decode(t testing.TB, b []byte) any {
	t.Helper()
	v, err := api.Decode(b)
	if err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// fakeExec stands in for the executor in tests of the server's own
// behaviour: it emits ComfyUI's event sequence for each output node,
// reporting one saved image per output.
type fakeExec struct {
	mu        sync.Mutex
	sink      Sink
	delay     time.Duration
	running   [3]string
	interrupt chan struct{}
	freed     []bool
}

func newFakeExec() *fakeExec { return &fakeExec{interrupt: make(chan struct{}, 1)} }

func (f *fakeExec) SetSink(s Sink) { f.sink = s }

func (f *fakeExec) Execute(ctx context.Context, item api.QueueItem) Outcome {
	cid := item.ClientID()
	send := func(typ string, data any) {
		if cid != "" {
			f.sink.Send(cid, api.Message{Type: typ, Data: data})
		}
	}
	now := func() int64 { return time.Now().UnixMilli() }
	select {
	case <-f.interrupt:
	default:
	}
	start := api.ExecutionStart{PromptID: item.PromptID, Timestamp: now()}
	send(api.EventExecutionStart, start)
	cached := api.ExecutionCached{Nodes: []string{}, PromptID: item.PromptID, Timestamp: now()}
	send(api.EventExecutionCached, cached)
	msgs := []api.StatusMessage{{Event: api.EventExecutionStart, Data: start}, {Event: api.EventExecutionCached, Data: cached}}
	outputs := api.NewObject()
	meta := map[string]api.NodeMeta{}
	for _, id := range item.Outputs {
		f.mu.Lock()
		f.running = [3]string{item.PromptID, cid, id}
		f.mu.Unlock()
		send(api.EventExecuting, api.Executing{Node: id, DisplayNode: id, PromptID: item.PromptID})
		interrupted := ctx.Err() != nil
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			interrupted = true
		case <-f.interrupt:
			interrupted = true
		}
		if interrupted {
			ev := api.ExecutionInterrupted{PromptID: item.PromptID, NodeID: id, NodeType: "X", Executed: []string{}, Timestamp: now()}
			send(api.EventExecutionInterrupted, ev)
			f.mu.Lock()
			f.running = [3]string{}
			f.mu.Unlock()
			return Outcome{Success: false, Messages: append(msgs, api.StatusMessage{Event: api.EventExecutionInterrupted, Data: ev})}
		}
		ui := api.ObjectOf("images", []any{api.ImageRef{Filename: "out_" + id + ".png", Subfolder: "", Type: "output"}})
		send(api.EventExecuted, api.Executed{Node: id, DisplayNode: id, Output: ui, PromptID: item.PromptID})
		outputs.Set(id, ui)
		meta[id] = api.NodeMeta{NodeID: id, DisplayNode: id, RealNodeID: id}
	}
	f.mu.Lock()
	f.running = [3]string{}
	f.mu.Unlock()
	succ := api.ExecutionSuccess{PromptID: item.PromptID, Timestamp: now()}
	send(api.EventExecutionSuccess, succ)
	return Outcome{Success: true, Messages: append(msgs, api.StatusMessage{Event: api.EventExecutionSuccess, Data: succ}), Outputs: outputs, Meta: meta}
}

func (f *fakeExec) Interrupt(string) {
	select {
	case f.interrupt <- struct{}{}:
	default:
	}
}

func (f *fakeExec) Free(unload, free bool) {
	f.mu.Lock()
	f.freed = append(f.freed, unload, free)
	f.mu.Unlock()
}

func (f *fakeExec) Running() (string, string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running[0], f.running[1], f.running[2]
}

// realExec asks newEnv for the real executor.
type realExec struct{}

func (realExec) Execute(context.Context, api.QueueItem) Outcome { panic("sentinel") }
func (realExec) Interrupt(string)                               {}
func (realExec) Free(bool, bool)                                {}
func (realExec) Running() (string, string, string)              { return "", "", "" }

// testRegistry has an output node and a source node.
func testRegistry() *node.Registry {
	reg := node.NewRegistry()
	reg.Register(&node.Def{Spec: node.Spec{Name: "TestSource", Category: "test",
		Required: []node.Input{node.In("value", node.TypeInt, "default", 1, "min", 0, "max", 10)},
		Outputs:  []node.Output{{Type: node.TypeImage}}},
		New: func() node.Node {
			return node.Func(func(*node.Context, node.Inputs) (*node.Result, error) { return node.Outputs(nil), nil })
		}})
	reg.Register(&node.Def{Spec: node.Spec{Name: "TestSave", Category: "test", OutputNode: true,
		Required: []node.Input{node.In("images", node.TypeImage), node.Combo("mode", []string{"a", "b"})}},
		New: func() node.Node {
			return node.Func(func(*node.Context, node.Inputs) (*node.Result, error) { return &node.Result{}, nil })
		}})
	return reg
}

type testEnv struct {
	t     testing.TB
	base  string
	paths *modelpaths.Paths
	srv   *Server
	http  *httptest.Server
	exec  *fakeExec
	q     *queue.Queue
	cfg   *config.Config
}

// newEnv starts a server on a temporary base directory. args are comfyd
// flags; exec nil means a fakeExec.
func newEnv(t testing.TB, args []string, reg *node.Registry, exec Executor) *testEnv {
	t.Helper()
	base := t.TempDir()
	cfg, err := config.Parse(append([]string{"--base-directory", base}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	in, out, tmp, user := cfg.Dirs()
	paths := modelpaths.New(base, in, out, tmp, user)
	paths.AddOutputModelPaths()
	if err := paths.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open("", queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reg == nil {
		reg = testRegistry()
	}
	var fe *fakeExec
	if _, ok := exec.(realExec); ok {
		exec = nil // the server builds the real executor
	} else if exec == nil {
		fe = newFakeExec()
		exec = fe
	}
	srv, err := New(Options{Config: cfg, Paths: paths, Registry: reg, Queue: q, Executor: exec, Validate: graph.Validate})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	hs := httptest.NewServer(srv.Handler())
	e := &testEnv{t: t, base: base, paths: paths, srv: srv, http: hs, exec: fe, q: q, cfg: cfg}
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
		q.Close()
	})
	return e
}

func (e *testEnv) url(p string) string { return e.http.URL + p }

// do sends a request; body may be nil, []byte, string or a JSON value.
func (e *testEnv) do(method, p string, body any, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		rd = bytes.NewReader(api.MustMarshal(b))
	}
	req, err := http.NewRequest(method, e.url(p), rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *testEnv) writeFile(rel string, data []byte) string {
	e.t.Helper()
	p := filepath.Join(e.base, filepath.FromSlash(rel))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// wsConn is a test WebSocket client.
type wsConn struct {
	t    testing.TB
	c    *websocket.Conn
	ctx  context.Context
	stop context.CancelFunc
}

func (e *testEnv) dial(query string) *wsConn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.http.URL, "http")+"/ws"+query, nil)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	c.SetReadLimit(64 << 20)
	w := &wsConn{t: e.t, c: c, ctx: ctx, stop: cancel}
	e.t.Cleanup(func() { c.CloseNow(); cancel() })
	return w
}

// next reads one message; binary frames come back with type "<binary>".
func (w *wsConn) next() (string, any, []byte) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	defer cancel()
	typ, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("ws read: %v", err)
	}
	if typ == websocket.MessageBinary {
		return "<binary>", nil, b
	}
	v := decode(w.t, b)
	o := v.(*api.Object)
	tv, _ := o.Get("type")
	d, _ := o.Get("data")
	return tv.(string), d, b
}

func (w *wsConn) send(v any) {
	w.t.Helper()
	if err := w.c.Write(w.ctx, websocket.MessageText, api.MustMarshal(v)); err != nil {
		w.t.Fatal(err)
	}
}

// until reads messages until one of type typ (with prompt_id pid if
// given) arrives, returning the types seen on the way (including it).
func (w *wsConn) until(typ, pid string, pred func(d *api.Object) bool) []string {
	w.t.Helper()
	var seen []string
	for {
		tt, d, _ := w.next()
		seen = append(seen, tt)
		if tt != typ {
			continue
		}
		o, _ := d.(*api.Object)
		if pid != "" {
			if p, _ := o.Get("prompt_id"); p != pid {
				continue
			}
		}
		if pred == nil || pred(o) {
			return seen
		}
	}
}

func b64(t testing.TB, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newRequest(method, u string, body []byte) (*http.Request, error) {
	return http.NewRequest(method, u, bytes.NewReader(body))
}
