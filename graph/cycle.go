package graph

import (
	"strings"

	"github.com/comfyd/comfyd/api"
)

// linkSources returns the ids of the prompt nodes that n's declared inputs
// link to (the edges validate_inputs follows), in declared input order.
func (v *validator) linkSources(n *pnode) []string {
	var out []string
	visit := func(name string) {
		val, ok := n.inputs.Get(name)
		if !ok {
			return
		}
		arr, ok := val.([]any)
		if !ok || len(arr) != 2 {
			return
		}
		id, ok := arr[0].(string)
		if !ok || v.nodes[id] == nil {
			return
		}
		out = append(out, id)
	}
	for _, in := range n.def.Spec.Required {
		visit(in.Name)
	}
	for _, in := range n.def.Spec.Optional {
		visit(in.Name)
	}
	return out
}

// findCycles finds static dependency cycles among the nodes reachable from
// the outputs (Tarjan's algorithm with an explicit stack) and records a
// dependency_cycle error on every node of every cycle, as newer ComfyUI does.
// The memo entries also keep the main validation walk from looping.
func (v *validator) findCycles(outs []string) {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var sstack []string
	next := 0
	type item struct {
		id    string
		succ  []string
		child int
	}
	var sccs [][]string
	for _, root := range outs {
		if _, seen := index[root]; seen {
			continue
		}
		work := []*item{{id: root, succ: v.linkSources(v.nodes[root])}}
		index[root], low[root] = next, next
		next++
		sstack = append(sstack, root)
		onStack[root] = true
		for len(work) > 0 {
			it := work[len(work)-1]
			if it.child < len(it.succ) {
				w := it.succ[it.child]
				it.child++
				if _, seen := index[w]; !seen {
					index[w], low[w] = next, next
					next++
					sstack = append(sstack, w)
					onStack[w] = true
					work = append(work, &item{id: w, succ: v.linkSources(v.nodes[w])})
				} else if onStack[w] && index[w] < low[it.id] {
					low[it.id] = index[w]
				}
				continue
			}
			work = work[:len(work)-1]
			if len(work) > 0 {
				p := work[len(work)-1].id
				if low[it.id] < low[p] {
					low[p] = low[it.id]
				}
			}
			if low[it.id] == index[it.id] {
				var comp []string
				for {
					w := sstack[len(sstack)-1]
					sstack = sstack[:len(sstack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == it.id {
						break
					}
				}
				if len(comp) > 1 || selfLoop(v, comp[0]) {
					sccs = append(sccs, comp)
				}
			}
		}
	}
	for _, comp := range sccs {
		in := map[string]bool{}
		for _, id := range comp {
			in[id] = true
		}
		// Report in prompt order for stable output.
		for _, id := range v.prompt.Keys() {
			if !in[id] {
				continue
			}
			path := v.cycleFrom(id, in)
			var parts []string
			for _, p := range path {
				parts = append(parts, p+" ("+v.nodes[p].def.Spec.Name+")")
			}
			parts = append(parts, path[0]+" ("+v.nodes[path[0]].def.Spec.Name+")")
			cyc := append([]string{}, path...)
			e := api.NewError(api.ErrDependencyCycle, api.MsgDependencyCycle, strings.Join(parts, " -> "),
				api.ObjectOf("node_id", id, "cycle_nodes", cyc))
			v.setMemo(id, &vresult{reasons: []api.Error{e}})
		}
	}
}

func selfLoop(v *validator, id string) bool {
	for _, s := range v.linkSources(v.nodes[id]) {
		if s == id {
			return true
		}
	}
	return false
}

// cycleFrom returns a shortest cycle start -> ... -> (back to start) inside
// the component, following links from a node to its sources.
func (v *validator) cycleFrom(start string, comp map[string]bool) []string {
	prev := map[string]string{}
	queue := []string{start}
	seen := map[string]bool{start: true}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, s := range v.linkSources(v.nodes[cur]) {
			if !comp[s] {
				continue
			}
			if s == start {
				var path []string
				for x := cur; ; x = prev[x] {
					path = append(path, x)
					if x == start {
						break
					}
				}
				for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return path
			}
			if !seen[s] {
				seen[s] = true
				prev[s] = cur
				queue = append(queue, s)
			}
		}
	}
	return []string{start}
}
