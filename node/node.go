package node

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
)

// Env is what a node sees of the server's configuration: its folders and
// model lists. modelpaths implements it; tests use a temporary folder.
type Env interface {
	InputDir() string
	OutputDir() string
	TempDir() string
	// ModelFiles lists the files of a model folder ("checkpoints", ...)
	// as ComfyUI does: relative paths, sorted.
	ModelFiles(folder string) []string
	// ModelPath resolves a listed file name to an absolute path, or fails.
	ModelPath(folder, name string) (string, error)
	// DisableMetadata is --disable-metadata.
	DisableMetadata() bool
}

// Reporter receives what a running node reports. The executor implements
// it and turns the calls into WebSocket events.
type Reporter interface {
	// Progress reports value out of max for the running node.
	Progress(c *Context, value, max float64)
	// Preview sends a preview image of the running node (sampler previews).
	Preview(c *Context, img image.Image)
	// Text sends a progress text (binary frame type 3).
	Text(c *Context, text string)
}

// Context is what a node call gets besides its inputs. Its context.Context
// is cancelled when the prompt is interrupted: long loops must watch it
// (Interrupted returns its error).
type Context struct {
	context.Context
	PromptID string
	// UniqueID is the node's id (for expanded nodes "12.0.0.3"),
	// DisplayID the id the UI highlights, RealID the top-level prompt node.
	UniqueID  string
	DisplayID string
	RealID    string
	ParentID  *string
	ClassType string
	Env       Env
	Reporter  Reporter
	// CallIndex is the index of this call when the executor maps a node
	// over list inputs (expansion ids use it, like GraphBuilder's prefix).
	CallIndex int
}

// DynPrompt is the running prompt as a DYNPROMPT hidden input sees it:
// prompt nodes plus nodes added by expansion. Links come back as Link.
type DynPrompt interface {
	NodeInfo(id string) (classType string, inputs map[string]any, ok bool)
}

// Interrupted returns a non-nil error once the prompt was interrupted.
func (c *Context) Interrupted() error {
	if c.Context == nil {
		return nil
	}
	if err := c.Context.Err(); err != nil {
		return ErrInterrupted
	}
	return nil
}

// Progress reports progress (and checks for interrupt, as ComfyUI's hook does).
func (c *Context) Progress(value, max float64) error {
	if c.Reporter != nil {
		c.Reporter.Progress(c, value, max)
	}
	return c.Interrupted()
}

// Preview sends a preview image.
func (c *Context) Preview(img image.Image) {
	if c.Reporter != nil {
		c.Reporter.Preview(c, img)
	}
}

// Text sends a progress text frame.
func (c *Context) Text(text string) {
	if c.Reporter != nil {
		c.Reporter.Text(c, text)
	}
}

// ErrInterrupted is what an interrupted node returns.
var ErrInterrupted = errors.New("Processing interrupted")

// Error is a node failure with a ComfyUI-style exception type
// ("RuntimeError", "ValueError", ...), reported in execution_error.
type Error struct {
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// ExceptionType returns the type reported as exception_type.
func (e *Error) ExceptionType() string { return e.Type }

// Errorf returns a *Error of the given exception type.
func Errorf(typ, format string, args ...any) error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Link is an output of a node in an expansion or in a Result: a reference
// to output Index of node Node.
type Link struct {
	Node  string
	Index int
}

// Blocker is ComfyUI's ExecutionBlocker: an output value that makes every
// consumer skip its call. A nil Message blocks silently.
type Blocker struct {
	Message *string
}

// ExpandNode is one node of a dynamic subgraph.
type ExpandNode struct {
	ID                string
	ClassType         string
	Inputs            map[string]any // literals, or Link values
	OverrideDisplayID string
}

// Result is what one call of a node returns.
type Result struct {
	// Outputs has one value per output slot; for an IsList output the value
	// is a []any whose elements are concatenated across calls. With Expand,
	// values may be Links into the expansion. A *Blocker value blocks.
	Outputs []any
	// UI is the node's UI dict: key -> list of items (ordered keys).
	UI *UI
	// Expand adds nodes to the running prompt (node expansion).
	Expand []ExpandNode
}

// UI is an ordered UI dict {key: [items...]}.
type UI struct {
	Keys   []string
	Values map[string][]any
}

// Add appends items under key.
func (u *UI) Add(key string, items ...any) {
	if u.Values == nil {
		u.Values = map[string][]any{}
	}
	if _, ok := u.Values[key]; !ok {
		u.Keys = append(u.Keys, key)
	}
	u.Values[key] = append(u.Values[key], items...)
}

// Outputs is a convenience constructor for a Result with only outputs.
func Outputs(vals ...any) *Result { return &Result{Outputs: vals} }

// Node is an instance of a node class. Instances are cached per
// (node id, class) across prompts, as ComfyUI caches its node objects.
type Node interface {
	// Run computes the node's outputs. in holds one value per input for
	// ordinary nodes and a []any per input for InputIsList nodes.
	Run(c *Context, in Inputs) (*Result, error)
}

// Func adapts a function to Node, for stateless nodes.
type Func func(c *Context, in Inputs) (*Result, error)

// Run calls f.
func (f Func) Run(c *Context, in Inputs) (*Result, error) { return f(c, in) }

// Fingerprinter is IS_CHANGED / fingerprint_inputs. It is called once per
// prompt with the node's literal inputs only (links are nil). Its result
// joins the cache key; a NaN (or an error) means "always changed". Without
// it the fingerprint is false.
type Fingerprinter interface {
	Fingerprint(env Env, in Inputs) (any, error)
}

// Validator is VALIDATE_INPUTS. Inputs names the inputs it takes (they are
// exempt from min/max/combo checks); All means **kwargs (every input
// exempt, all passed); InputTypes means it receives the linked inputs'
// types (and link type checks are skipped). Validate returns ok, or a
// message ("" means ComfyUI's bare False).
type Validator interface {
	ValidateSpec() ValidateSpec
	Validate(env Env, in Inputs, inputTypes map[string]string) (ok bool, msg string)
}

// ValidateSpec says which inputs a Validator takes.
type ValidateSpec struct {
	Inputs     []string
	All        bool
	InputTypes bool
}

// LazyChecker is check_lazy_status: given the current inputs (lazy links
// not yet computed are nil), it returns the names of inputs it still needs.
type LazyChecker interface {
	CheckLazy(c *Context, in Inputs) ([]string, error)
}

// Def is a registered node class.
type Def struct {
	Spec Spec
	// New returns a fresh instance.
	New func() Node
	// Static optional behaviour that does not need an instance (IS_CHANGED
	// and VALIDATE_INPUTS are classmethods in ComfyUI).
	Fingerprinter Fingerprinter
	Validator     Validator
}

// Registry holds node classes in registration order (the order of
// /object_info).
type Registry struct {
	mu    sync.RWMutex
	order []string
	defs  map[string]*Def
}

// NewRegistry returns an empty registry (tests use their own).
func NewRegistry() *Registry { return &Registry{defs: map[string]*Def{}} }

// Register adds a node class; it panics on an empty or duplicate name.
func (r *Registry) Register(d *Def) {
	d.Spec.check()
	if d.New == nil {
		panic("node " + d.Spec.Name + ": nil constructor")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.defs[d.Spec.Name]; dup {
		panic("node: duplicate class " + d.Spec.Name)
	}
	r.defs[d.Spec.Name] = d
	r.order = append(r.order, d.Spec.Name)
}

// Get returns the class named name.
func (r *Registry) Get(name string) (*Def, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.defs[name]
	return d, ok
}

// Names returns the class names in registration order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// Default is the registry that node packages register into from init.
var Default = NewRegistry()

// Register adds a node class to Default.
func Register(d *Def) { Default.Register(d) }

// RegisterFunc registers a stateless node class with a plain function.
func RegisterFunc(spec Spec, f Func) {
	Register(&Def{Spec: spec, New: func() Node { return f }})
}

// Reorder moves the named classes to the front of the registration order,
// in the order given; names that are not registered are skipped, and
// classes not named keep their relative order after them. /object_info
// lists classes in this order (ComfyUI lists nodes.py's first, then the
// extras in load order, whatever Go's package initialisation did).
func (r *Registry) Reorder(names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	order := make([]string, 0, len(r.order))
	placed := map[string]bool{}
	for _, n := range names {
		if _, ok := r.defs[n]; ok && !placed[n] {
			order = append(order, n)
			placed[n] = true
		}
	}
	for _, n := range r.order {
		if !placed[n] {
			order = append(order, n)
		}
	}
	r.order = order
}
