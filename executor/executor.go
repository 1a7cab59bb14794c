package executor

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/node"
)

// Sink receives what the executor emits; the server's WebSocket hub
// implements it.
type Sink interface {
	// Send delivers a JSON message to the socket of sid, or to every socket when sid == "".
	Send(sid string, msg api.Message)
	// SendBinary delivers a binary frame likewise.
	SendBinary(sid string, frame []byte)
	// SupportsPreviewMetadata reports whether sid negotiated supports_preview_metadata.
	SupportsPreviewMetadata(sid string) bool
}

// Options configure an Executor.
type Options struct {
	Registry      *node.Registry
	Env           node.Env
	Sink          Sink
	Cache         CachePolicy
	PreviewMethod string // none|auto|latent2rgb|taesd
	PreviewSize   int
}

// Outcome is what the worker stores in history.
type Outcome struct {
	Success  bool                // status_str "success"/"error", completed
	Messages []api.StatusMessage // execution_start, execution_cached, then success/error/interrupted
	Outputs  *api.Object         // node id -> UI object (history "outputs")
	Meta     map[string]api.NodeMeta
}

// Executor runs one prompt at a time and keeps the caches between prompts.
//
// Lock order: runMu (held for a whole Execute) before mu (running state,
// taken briefly by Interrupt/Running/Free).
type Executor struct {
	opts  Options
	runMu sync.Mutex
	c     *caches

	mu      sync.Mutex
	cur     *run
	pending struct{ free, unload bool }
}

// New returns an Executor.
func New(opts Options) *Executor {
	if opts.Registry == nil {
		opts.Registry = node.Default
	}
	if opts.Cache.Kind == "" {
		opts.Cache.Kind = "classic"
	}
	if opts.PreviewSize <= 0 {
		opts.PreviewSize = 512
	}
	return &Executor{opts: opts, c: newCaches(opts.Cache)}
}

// Interrupt cancels the running prompt (promptID "" = whatever runs). As in
// ComfyUI, whose flag is cleared when the next prompt starts, an interrupt
// with nothing running is lost.
func (e *Executor) Interrupt(promptID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil && (promptID == "" || promptID == e.cur.promptID) {
		e.cur.cancel()
	}
}

// Free is /free: freeMemory resets every cache; unloadModels drops the node
// instances (which hold loaded models). While a prompt runs the request is
// applied when it ends.
func (e *Executor) Free(unloadModels, freeMemory bool) {
	if !e.runMu.TryLock() {
		e.mu.Lock()
		e.pending.free = e.pending.free || freeMemory
		e.pending.unload = e.pending.unload || unloadModels
		e.mu.Unlock()
		return
	}
	defer e.runMu.Unlock()
	e.free(unloadModels, freeMemory)
}

func (e *Executor) free(unload, mem bool) {
	if mem {
		e.c.reset()
	} else if unload {
		e.c.objects = map[objKey]node.Node{}
	}
}

// Running returns the running prompt's id, client id and executing node's
// display id, for the greeting of a client that reconnects mid-prompt.
func (e *Executor) Running() (promptID, clientID, displayNode string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil {
		return "", "", ""
	}
	e.cur.mu.Lock()
	defer e.cur.mu.Unlock()
	return e.cur.promptID, e.cur.clientID, e.cur.lastDisplay
}

func nowMS() int64 { return time.Now().UnixMilli() }

// Execute runs one queue item to the end (success, error or interrupt),
// emitting the events of spec §4.3/§4.4 through the Sink. It does not write
// history nor send the final executing-null: the worker does that.
func (e *Executor) Execute(ctx context.Context, item api.QueueItem) Outcome {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prompt, _ := api.Clone(item.Prompt).(*api.Object)
	if prompt == nil {
		prompt = api.NewObject()
	}
	r := &run{
		e: e, ctx: rctx, cancel: cancel, promptID: item.PromptID, clientID: item.ClientID(),
		extra: item.ExtraData, dp: graph.NewDynPrompt(prompt), reg: e.opts.Registry,
		fingerprints: map[string]any{}, pendingSub: map[string][]subResult{},
		pendingAsync: map[string]*asyncNode{}, asyncDone: make(chan string, 64),
		progress: newProgress(),
	}
	e.mu.Lock()
	e.cur = r
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.cur = nil
		p := e.pending
		e.pending.free, e.pending.unload = false, false
		e.mu.Unlock()
		// Wait for async calls still running after a failure, so no node
		// outlives its prompt.
		r.asyncWG.Wait()
		e.free(p.unload, p.free)
	}()
	out := r.execute(item.Outputs)
	if e.c.policy.Kind == "none" {
		// --cache-none reuses nothing: release the outputs now (the UI
		// entries stay until the next prompt, like ComfyUI's output nodes').
		e.c.outputs = map[graph.Key][][]any{}
	}
	return out
}

func isNaNValue(v any) bool {
	switch t := v.(type) {
	case api.Float:
		return math.IsNaN(float64(t))
	case float64:
		return math.IsNaN(t)
	case []any:
		for _, x := range t {
			if isNaNValue(x) {
				return true
			}
		}
	}
	return false
}
