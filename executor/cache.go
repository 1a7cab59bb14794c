package executor

import (
	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/node"
)

// CachePolicy selects the output cache: "classic" (ComfyUI's default: keep
// only entries some node of the current prompt can use), "lru" (keep up to
// LRUSize entries across prompts, least recently used generations go
// first) or "none" (nothing survives a prompt).
type CachePolicy struct {
	Kind    string
	LRUSize int
}

type uiEntry struct {
	output *api.Object
	meta   api.NodeMeta
}

type objKey struct{ id, class string }

// caches holds the three caches of spec §7.6. Outputs and UI are keyed by
// signature, so identical nodes share entries (even within one prompt);
// objects by (node id, class). Only the executing goroutine touches them.
//
// ComfyUI nests a sub-cache per expanding node; here nodes created by
// expansion share the flat maps (their signatures already differ by their
// inputs), so under the classic policy their entries live until the next
// prompt starts rather than as long as the parent node exists.
type caches struct {
	policy  CachePolicy
	outputs map[graph.Key][][]any
	ui      map[graph.Key]*uiEntry
	objects map[objKey]node.Node

	gen           int
	minGenOutputs int
	minGenUI      int
	used          map[graph.Key]int
}

func newCaches(p CachePolicy) *caches {
	c := &caches{policy: p}
	c.reset()
	return c
}

func (c *caches) reset() {
	c.outputs = map[graph.Key][][]any{}
	c.ui = map[graph.Key]*uiEntry{}
	c.objects = map[objKey]node.Node{}
	c.used = map[graph.Key]int{}
	c.gen, c.minGenOutputs, c.minGenUI = 0, 0, 0
}

// startPrompt applies the policy at prompt start, given the keys of every
// node of the new prompt and its (id, class) pairs.
func (c *caches) startPrompt(keys map[graph.Key]bool, objs map[objKey]bool) {
	for k := range c.objects {
		if !objs[k] {
			delete(c.objects, k)
		}
	}
	switch c.policy.Kind {
	case "none":
		c.outputs = map[graph.Key][][]any{}
		c.ui = map[graph.Key]*uiEntry{}
	case "lru":
		c.gen++
		for k := range keys {
			c.used[k] = c.gen
		}
		n := c.policy.LRUSize
		for len(c.outputs) > n && c.minGenOutputs < c.gen {
			c.minGenOutputs++
			for k := range c.outputs {
				if c.used[k] < c.minGenOutputs {
					delete(c.outputs, k)
				}
			}
		}
		for len(c.ui) > n && c.minGenUI < c.gen {
			c.minGenUI++
			for k := range c.ui {
				if c.used[k] < c.minGenUI {
					delete(c.ui, k)
				}
			}
		}
		for k, g := range c.used {
			if _, o := c.outputs[k]; !o {
				if _, u := c.ui[k]; !u && g < c.gen {
					delete(c.used, k)
				}
			}
		}
	default: // classic
		for k := range c.outputs {
			if !keys[k] {
				delete(c.outputs, k)
			}
		}
		for k := range c.ui {
			if !keys[k] {
				delete(c.ui, k)
			}
		}
	}
}

func (c *caches) touch(k graph.Key) {
	if c.policy.Kind == "lru" {
		c.used[k] = c.gen
	}
}

// getOutputs returns the cached outputs of k; ok is false on a miss (an
// output node's entry is an empty, non-nil list).
func (c *caches) getOutputs(k graph.Key) ([][]any, bool) {
	c.touch(k)
	v, ok := c.outputs[k]
	return v, ok
}

func (c *caches) setOutputs(k graph.Key, v [][]any) {
	c.touch(k)
	if v == nil {
		v = [][]any{}
	}
	c.outputs[k] = v
}

func (c *caches) getUI(k graph.Key) *uiEntry {
	c.touch(k)
	return c.ui[k]
}

func (c *caches) setUI(k graph.Key, v *uiEntry) {
	c.touch(k)
	c.ui[k] = v
}
