package graph

import (
	"encoding/json"
	"sort"
	"strconv"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// DynPrompt is ComfyUI's DynamicPrompt: the validated prompt plus the
// ephemeral nodes added by node expansion while it runs, with each
// ephemeral node's parent and display id. It implements node.DynPrompt for
// DYNPROMPT hidden inputs. Not safe for concurrent mutation.
type DynPrompt struct {
	original *api.Object
	nodes    map[string]*Node
	order    []string // prompt order, then ephemeral nodes as added
	parent   map[string]string
	display  map[string]string
}

// Node is one node of a DynPrompt. Inputs are in the prompt's value model
// (links as ["id", n]).
type Node struct {
	ID        string
	ClassType string
	Inputs    *api.Object
	Raw       *api.Object // the prompt's node object (nil for ephemeral nodes)
	Ephemeral bool
}

// NewDynPrompt wraps a validated prompt.
func NewDynPrompt(prompt *api.Object) *DynPrompt {
	d := &DynPrompt{original: prompt, nodes: map[string]*Node{}, parent: map[string]string{}, display: map[string]string{}}
	for _, id := range prompt.Keys() {
		pn, ok := api.PromptNodeOf(prompt, id)
		if !ok {
			continue
		}
		d.nodes[id] = &Node{ID: id, ClassType: pn.ClassType, Inputs: pn.Inputs, Raw: pn.Raw}
		d.order = append(d.order, id)
	}
	return d
}

// Original returns the prompt the DynPrompt was built from.
func (d *DynPrompt) Original() *api.Object { return d.original }

// Get returns node id.
func (d *DynPrompt) Get(id string) (*Node, bool) {
	n, ok := d.nodes[id]
	return n, ok
}

// Has reports whether id exists.
func (d *DynPrompt) Has(id string) bool { _, ok := d.nodes[id]; return ok }

// IDs returns every node id: prompt nodes in prompt order, then ephemeral nodes.
func (d *DynPrompt) IDs() []string { return d.order }

// AddEphemeral adds a node created by expansion of parent. Inputs may hold
// node.Link values (converted to prompt links) and Go values (kept).
func (d *DynPrompt) AddEphemeral(id, classType string, inputs map[string]any, parent, display string) {
	obj := api.NewObject()
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := inputs[k]
		if l, ok := v.(node.Link); ok {
			v = []any{l.Node, api.Int(int64(l.Index))}
		}
		obj.Set(k, v)
	}
	d.nodes[id] = &Node{ID: id, ClassType: classType, Inputs: obj, Ephemeral: true}
	d.order = append(d.order, id)
	d.parent[id] = parent
	d.display[id] = display
}

// RealID returns the top-most original ancestor of id.
func (d *DynPrompt) RealID(id string) string {
	for {
		p, ok := d.parent[id]
		if !ok {
			return id
		}
		id = p
	}
}

// ParentID returns the direct parent of an ephemeral node, or nil.
func (d *DynPrompt) ParentID(id string) *string {
	p, ok := d.parent[id]
	if !ok {
		return nil
	}
	return &p
}

// DisplayID returns the id the UI should highlight for id.
func (d *DynPrompt) DisplayID(id string) string {
	for i := 0; i < 1<<20; i++ {
		p, ok := d.display[id]
		if !ok || p == id {
			return id
		}
		id = p
	}
	return id
}

// NodeInfo implements node.DynPrompt: links come back as node.Link.
func (d *DynPrompt) NodeInfo(id string) (classType string, inputs map[string]any, ok bool) {
	n, ok := d.nodes[id]
	if !ok {
		return "", nil, false
	}
	inputs = make(map[string]any, n.Inputs.Len())
	for _, k := range n.Inputs.Keys() {
		v, _ := n.Inputs.Get(k)
		if l, isLink := AsLink(v); isLink {
			v = node.Link{Node: l.Node, Index: l.Index}
		}
		inputs[k] = v
	}
	return n.ClassType, inputs, true
}

// AsLink is ComfyUI's is_link: a 2-element list of a string and an integer
// (or float) output index.
func AsLink(v any) (api.Link, bool) {
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return api.Link{}, false
	}
	id, ok := a[0].(string)
	if !ok {
		return api.Link{}, false
	}
	switch n := a[1].(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			f, err := n.Float64()
			if err != nil {
				return api.Link{}, false
			}
			i = int64(f)
		}
		return api.Link{Node: id, Index: int(i)}, true
	case api.Float:
		return api.Link{Node: id, Index: int(n)}, true
	case int:
		return api.Link{Node: id, Index: n}, true
	}
	return api.Link{}, false
}
