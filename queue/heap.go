package queue

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"

	"github.com/comfyd/comfyd/api"
)

// pitem is a pending item. raw is its encoded 5-tuple (what the store holds),
// kept so that Get can move it to the running set without re-encoding.
type pitem struct {
	seq  uint64
	item api.QueueItem
	raw  []byte
}

// less orders pending items as ComfyUI's heap does, by the tuple (number,
// prompt_id, ...). Python would go on to compare the prompt dicts and raise
// TypeError for two items with equal number and prompt_id; we break that tie
// by insertion order instead.
func less(a, b *pitem) bool {
	if c := compareNumbers(a.item.Number, b.item.Number); c != 0 {
		return c < 0
	}
	if a.item.PromptID != b.item.PromptID {
		return a.item.PromptID < b.item.PromptID // byte order of UTF-8 = Python's code point order
	}
	return a.seq < b.seq
}

// The heap functions below follow Python's heapq step for step (including
// heappop's "sift to a leaf, then back up" and heapify's bottom-up order), so
// that the raw array GET /queue shows is the one ComfyUI would show for the
// same sequence of operations.

// heapPush is heapq.heappush.
func heapPush(h []*pitem, it *pitem) []*pitem {
	h = append(h, it)
	siftDown(h, 0, len(h)-1)
	return h
}

// heapPop is heapq.heappop; h must not be empty.
func heapPop(h []*pitem) ([]*pitem, *pitem) {
	last := h[len(h)-1]
	h[len(h)-1] = nil
	h = h[:len(h)-1]
	if len(h) == 0 {
		return h, last
	}
	top := h[0]
	h[0] = last
	siftUp(h, 0)
	return h, top
}

// heapify is heapq.heapify.
func heapify(h []*pitem) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftUp(h, i)
	}
}

// siftDown is heapq._siftdown: move h[pos] up towards start while it is
// smaller than its parent.
func siftDown(h []*pitem, start, pos int) {
	it := h[pos]
	for pos > start {
		parent := (pos - 1) >> 1
		if !less(it, h[parent]) {
			break
		}
		h[pos] = h[parent]
		pos = parent
	}
	h[pos] = it
}

// siftUp is heapq._siftup: move the smaller child up until h[pos]'s item
// reaches a leaf, then sift it back towards pos.
func siftUp(h []*pitem, pos int) {
	end, start, it := len(h), pos, h[pos]
	child := 2*pos + 1
	for child < end {
		if right := child + 1; right < end && !less(h[child], h[right]) {
			child = right
		}
		h[pos] = h[child]
		pos = child
		child = 2*pos + 1
	}
	h[pos] = it
	siftDown(h, start, pos)
}

// compareNumbers compares two queue numbers numerically, as Python compares
// an int with a float (exactly, whatever their sizes). Numbers are
// json.Number integers (the server's counter) or api.Float (client-chosen);
// other Go numeric types are accepted for convenience. NaN, and anything
// that is not a number, sorts before every number (Python's NaN comparisons
// are all false, which leaves heap order undefined; a fixed rule is kinder).
func compareNumbers(a, b any) int {
	ia, aInt := asInt64(a)
	ib, bInt := asInt64(b)
	if aInt && bInt {
		switch {
		case ia < ib:
			return -1
		case ia > ib:
			return 1
		}
		return 0
	}
	fa, aok := asBig(a)
	fb, bok := asBig(b)
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return -1
	case !bok:
		return 1
	}
	return fa.Cmp(fb)
}

func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if api.IsInt(n) {
			i, err := strconv.ParseInt(string(n), 10, 64)
			return i, err == nil
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// asBig returns v as an exact big.Float (big integers and float64 values are
// both represented exactly at precision 0 → automatic).
func asBig(v any) (*big.Float, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		if api.IsInt(n) {
			bi, ok := api.BigInt(n)
			if !ok {
				return nil, false
			}
			return new(big.Float).SetInt(bi), true
		}
		x, err := n.Float64()
		if err != nil {
			return nil, false
		}
		f = x
	case api.Float:
		f = float64(n)
	case float64:
		f = n
	case int:
		return new(big.Float).SetInt64(int64(n)), true
	case int64:
		return new(big.Float).SetInt64(n), true
	default:
		return nil, false
	}
	if math.IsNaN(f) {
		return nil, false
	}
	return new(big.Float).SetFloat64(f), true
}
