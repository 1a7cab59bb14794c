package graph

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"math"
	"math/big"
	"sort"
	"strconv"
	"sync/atomic"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// Key is a node's cache key: a digest of ComfyUI's input signature.
type Key [32]byte

// Signer computes ComfyUI's input signatures (CacheKeySetInputSignature,
// spec §7.6) for nodes of a DynPrompt, memoised per node id.
//
// ComfyUI's signature of n is [own(n)] + [own(a) for each ancestor a] with
// links written as ("ANCESTOR", index, output). Here the same information is
// hashed bottom-up: own(n) with each link replaced by the key of its source
// and the output index. Both compare equal exactly when the ancestor graphs
// have the same classes, fingerprints and literal inputs; the one
// difference is that two identical sources feeding one node share a key
// here (ComfyUI tells "same node twice" from "two equal nodes" apart), which
// only lets deterministic work be reused more. Literals compare with Python
// equality (1 == 1.0 == true); NaN, unknown Go values and missing sources
// never match anything, not even themselves in a later prompt.
type Signer struct {
	dp          *DynPrompt
	reg         *node.Registry
	fingerprint func(id string) any
	memo        map[string]Key
}

// NewSigner returns a Signer. fingerprint gives a node's is_changed value
// (nil func: false for every node).
func NewSigner(dp *DynPrompt, reg *node.Registry, fingerprint func(id string) any) *Signer {
	return &Signer{dp: dp, reg: reg, fingerprint: fingerprint, memo: map[string]Key{}}
}

var nonce atomic.Uint64

// IncludesID reports whether a class's signature includes the node id
// (NOT_IDEMPOTENT, or a hidden UNIQUE_ID input).
func IncludesID(d *node.Def) bool {
	if d.Spec.NotIdempotent {
		return true
	}
	for _, h := range d.Spec.Hidden {
		if h.Kind == node.HiddenUniqueID {
			return true
		}
	}
	return false
}

// Key returns the cache key of node id (walking ancestors with an explicit
// stack).
func (s *Signer) Key(id string) Key {
	if k, ok := s.memo[id]; ok {
		return k
	}
	type item struct {
		id       string
		expanded bool
	}
	gray := map[string]bool{}
	stack := []item{{id: id}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		if _, done := s.memo[it.id]; done {
			stack = stack[:len(stack)-1]
			continue
		}
		n, ok := s.dp.Get(it.id)
		if !ok {
			s.memo[it.id] = uniqueKey()
			stack = stack[:len(stack)-1]
			continue
		}
		if !it.expanded {
			stack[len(stack)-1].expanded = true
			gray[it.id] = true
			for _, k := range n.Inputs.Keys() {
				v, _ := n.Inputs.Get(k)
				if l, isLink := AsLink(v); isLink {
					if _, done := s.memo[l.Node]; !done && !gray[l.Node] {
						stack = append(stack, item{id: l.Node})
					}
				}
			}
			continue
		}
		stack = stack[:len(stack)-1]
		delete(gray, it.id)
		s.memo[it.id] = s.own(n, gray)
	}
	return s.memo[id]
}

func uniqueKey() Key {
	var k Key
	binary.LittleEndian.PutUint64(k[:], nonce.Add(1))
	k[31] = 0xff
	return k
}

func (s *Signer) own(n *Node, gray map[string]bool) Key {
	h := sha256.New()
	writeStr(h, n.ClassType)
	var fp any = false
	if s.fingerprint != nil {
		fp = s.fingerprint(n.ID)
	}
	encodeValue(h, fp)
	if d, ok := s.reg.Get(n.ClassType); ok && IncludesID(d) {
		h.Write([]byte{'#'})
		writeStr(h, n.ID)
	}
	keys := append([]string(nil), n.Inputs.Keys()...)
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := n.Inputs.Get(k)
		writeStr(h, k)
		if l, isLink := AsLink(v); isLink {
			h.Write([]byte{'A'})
			var src Key
			if gray[l.Node] {
				src = uniqueKey() // a cycle: never equal
			} else {
				src = s.memo[l.Node]
			}
			h.Write(src[:])
			writeInt(h, int64(l.Index))
			continue
		}
		encodeValue(h, v)
	}
	var k Key
	h.Sum(k[:0])
	return k
}

func writeStr(h hash.Hash, s string) {
	writeInt(h, int64(len(s)))
	h.Write([]byte(s))
}

func writeInt(h hash.Hash, i int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h.Write(b[:])
}

func writeNumber(h hash.Hash, f float64) {
	if math.IsNaN(f) {
		k := uniqueKey()
		h.Write([]byte{'u'})
		h.Write(k[:])
		return
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		if math.Abs(f) < 1<<62 {
			writeIntLiteral(h, strconv.FormatInt(int64(f), 10))
			return
		}
		bi, _ := big.NewFloat(f).Int(nil)
		writeIntLiteral(h, bi.String())
		return
	}
	h.Write([]byte{'f'})
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
	h.Write(b[:])
}

func writeIntLiteral(h hash.Hash, dec string) {
	h.Write([]byte{'i'})
	writeStr(h, dec)
}

// encodeValue writes a literal so that Python-equal values encode equally.
func encodeValue(h hash.Hash, v any) {
	switch t := v.(type) {
	case nil:
		h.Write([]byte{'n'})
	case bool:
		if t {
			writeIntLiteral(h, "1")
		} else {
			writeIntLiteral(h, "0")
		}
	case json.Number:
		if api.IsInt(t) {
			writeIntLiteral(h, api.PyIntStr(t))
			return
		}
		f, _ := t.Float64()
		writeNumber(h, f)
	case api.Float:
		writeNumber(h, float64(t))
	case float64:
		writeNumber(h, t)
	case float32:
		writeNumber(h, float64(t))
	case int:
		writeIntLiteral(h, strconv.FormatInt(int64(t), 10))
	case int64:
		writeIntLiteral(h, strconv.FormatInt(t, 10))
	case int32:
		writeIntLiteral(h, strconv.FormatInt(int64(t), 10))
	case uint64:
		writeIntLiteral(h, strconv.FormatUint(t, 10))
	case string:
		h.Write([]byte{'s'})
		writeStr(h, t)
	case []any:
		h.Write([]byte{'l'})
		writeInt(h, int64(len(t)))
		for _, x := range t {
			encodeValue(h, x)
		}
	case *api.Object:
		keys := append([]string(nil), t.Keys()...)
		sort.Strings(keys)
		h.Write([]byte{'d'})
		writeInt(h, int64(len(keys)))
		for _, k := range keys {
			writeStr(h, k)
			x, _ := t.Get(k)
			encodeValue(h, x)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h.Write([]byte{'d'})
		writeInt(h, int64(len(keys)))
		for _, k := range keys {
			writeStr(h, k)
			encodeValue(h, t[k])
		}
	default:
		// ComfyUI's Unhashable: never equal to anything.
		k := uniqueKey()
		h.Write([]byte{'u'})
		h.Write(k[:])
	}
}
