package executor

import (
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/node"
)

// execList is ComfyUI's ExecutionList (comfy_execution/graph.py): pending
// nodes in insertion order, each with the number of distinct pending nodes
// it waits for, dissolved topologically.
type execList struct {
	dp       *graph.DynPrompt
	reg      *node.Registry
	isCached func(id string) bool

	pending    []*lnode // insertion order, with popped nodes until compaction
	nodes      map[string]*lnode
	dead       int
	blockCount map[string]int
	// blocking[from] lists the nodes from blocks, in insertion order, with
	// the sockets involved.
	blocking       map[string]*blockSet
	externalBlocks int
	staged         string
	// linked[to][from]: to may read from's outputs (ComfyUI's per-node
	// execution_cache). Non-lazy links are registered when to is added,
	// lazy ones only when check_lazy_status asks for them, so an unrequested
	// lazy input reads as missing even when its source is cached.
	linked map[string]map[string]bool
}

// lnode is a pending node; count mirrors blockCount[id] for fast scans.
type lnode struct {
	id    string
	alive bool
}

type blockSet struct {
	order   []string
	sockets map[string]map[int]bool
}

func newExecList(dp *graph.DynPrompt, reg *node.Registry, isCached func(string) bool) *execList {
	return &execList{dp: dp, reg: reg, isCached: isCached, nodes: map[string]*lnode{},
		blockCount: map[string]int{}, blocking: map[string]*blockSet{}, linked: map[string]map[string]bool{}}
}

func (l *execList) def(id string) *node.Def {
	n, ok := l.dp.Get(id)
	if !ok {
		return nil
	}
	d, _ := l.reg.Get(n.ClassType)
	return d
}

func (l *execList) isLazy(id, input string) bool {
	d := l.def(id)
	if d == nil {
		return false
	}
	in, ok := d.Spec.Input(input)
	return ok && in.Opts.Bool("lazy")
}

// addNode adds id and, transitively, the uncached sources of its non-lazy
// links (explicit stack).
func (l *execList) addNode(id string, includeLazy bool) {
	type link struct {
		from   string
		socket int
		to     string
	}
	var links []link
	stack := []string{id}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if ln := l.nodes[u]; ln != nil && ln.alive {
			continue
		}
		ln := &lnode{id: u, alive: true}
		l.nodes[u] = ln
		l.pending = append(l.pending, ln)
		l.blockCount[u] = 0
		l.blocking[u] = &blockSet{sockets: map[string]map[int]bool{}}
		n, ok := l.dp.Get(u)
		if !ok {
			continue
		}
		for _, name := range n.Inputs.Keys() {
			v, _ := n.Inputs.Get(name)
			lk, isLink := graph.AsLink(v)
			if !isLink {
				continue
			}
			if includeLazy || !l.isLazy(u, name) {
				if !l.isCached(lk.Node) {
					stack = append(stack, lk.Node)
				}
				links = append(links, link{lk.Node, lk.Index, u})
			}
		}
	}
	for _, lk := range links {
		l.addStrongLink(lk.from, lk.socket, lk.to)
	}
}

func (l *execList) addStrongLink(from string, socket int, to string) {
	m := l.linked[to]
	if m == nil {
		m = map[string]bool{}
		l.linked[to] = m
	}
	m[from] = true
	if l.isCached(from) {
		return
	}
	l.addNode(from, false)
	b := l.blocking[from]
	if b == nil {
		return
	}
	if _, ok := b.sockets[to]; !ok {
		b.sockets[to] = map[int]bool{}
		b.order = append(b.order, to)
		l.blockCount[to]++
	}
	b.sockets[to][socket] = true
}

// isLinked reports whether to may read from's outputs.
func (l *execList) isLinked(from, to string) bool { return l.linked[to][from] }

func (l *execList) addExternalBlock(id string) {
	l.externalBlocks++
	l.blockCount[id]++
}

func (l *execList) releaseExternalBlock(id string) {
	l.externalBlocks--
	l.blockCount[id]--
}

func (l *execList) empty() bool { return len(l.pending)-l.dead == 0 }

func (l *execList) ready() []string {
	var out []string
	for _, n := range l.pending {
		if n.alive && l.blockCount[n.id] == 0 {
			out = append(out, n.id)
		}
	}
	return out
}

func (l *execList) popNode(id string) {
	if n := l.nodes[id]; n != nil {
		n.alive = false
		delete(l.nodes, id)
	}
	l.dead++
	if b := l.blocking[id]; b != nil {
		for _, to := range b.order {
			l.blockCount[to]--
		}
	}
	delete(l.blocking, id)
	if l.dead > 64 && l.dead > len(l.pending)/2 {
		live := l.pending[:0]
		for _, x := range l.pending {
			if x.alive {
				live = append(live, x)
			}
		}
		l.pending = live
		l.dead = 0
	}
}

func (l *execList) isOutput(id string) bool {
	d := l.def(id)
	return d != nil && d.Spec.OutputNode
}

func (l *execList) isAsync(id string) bool {
	d := l.def(id)
	return d != nil && d.Spec.Async
}

// pick is ux_friendly_pick_node (§7.3).
func (l *execList) pick(avail []string) string {
	for _, id := range avail {
		if l.isOutput(id) || l.isAsync(id) {
			return id
		}
	}
	for _, id := range avail {
		for _, b := range l.blocking[id].order {
			if l.isOutput(b) {
				return id
			}
		}
	}
	for _, id := range avail {
		for _, b := range l.blocking[id].order {
			if bb := l.blocking[b]; bb != nil {
				for _, b1 := range bb.order {
					if l.isOutput(b1) {
						return id
					}
				}
			}
		}
	}
	return avail[0]
}

// nodesInCycle dissolves the pending graph in reverse to leave only nodes
// that sit in (or behind) a cycle.
func (l *execList) nodesInCycle() []string {
	blockedBy := map[string]map[string]bool{}
	var order []string
	for _, n := range l.pending {
		if n.alive {
			blockedBy[n.id] = map[string]bool{}
			order = append(order, n.id)
		}
	}
	for from, b := range l.blocking {
		for _, to := range b.order {
			if m, ok := blockedBy[to]; ok {
				m[from] = true
			}
		}
	}
	for {
		var remove []string
		for _, id := range order {
			if m, ok := blockedBy[id]; ok && len(m) == 0 {
				remove = append(remove, id)
			}
		}
		if len(remove) == 0 {
			break
		}
		for _, id := range remove {
			for _, m := range blockedBy {
				delete(m, id)
			}
			delete(blockedBy, id)
		}
	}
	var out []string
	for _, id := range order {
		if _, ok := blockedBy[id]; ok {
			out = append(out, id)
		}
	}
	return out
}
