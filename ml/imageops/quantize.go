package imageops

import (
	"fmt"
	"math"
	"sort"

	"github.com/comfyd/comfyd/ml/tensor"
)

// Quantize is ComfyUI's ImageQuantize on an image [B,H,W,C≥3], image by
// image, reproducing Pillow (Quantize.c, Palette.c, Convert.c):
//
//  1. pixels become uint8 by (v·255) truncated;
//  2. the palette is im.quantize(colors): Pillow's median cut over the
//     distinct colours (reduced by a right shift when there are more than
//     65536), splitting the box with the most pixels along the axis with
//     the largest range weighted 77/150/29 (R/G/B) at the pixel-count
//     median; entries are the rounded means of each box's pixels, in tree
//     order;
//  3. pixels are mapped with im.quantize(palette=…, dither): the nearest
//     entry (squared RGB distance, ties to the lowest index) to the colour
//     with its two low bits cleared (Pillow's 64³ palette cache), with
//     Floyd–Steinberg error diffusion (7/3/5/1 sixteenths, integer
//     arithmetic, left to right on every row) for "floyd-steinberg", or
//     after adding ComfyUI's tiled Bayer matrix for "bayer-N";
//  4. the mapped colours /255; channels past the third are kept.
func Quantize(img *tensor.Tensor, colors int, dither string) (*tensor.Tensor, error) {
	if img.Dims() != 4 || img.Dim(3) < 3 {
		return nil, fmt.Errorf("imageops: quantize needs an RGB image, got %v", img.Shape)
	}
	if colors < 1 || colors > 256 {
		return nil, fmt.Errorf("imageops: %d colours", colors)
	}
	order := 0
	switch dither {
	case "none", "floyd-steinberg":
	case "bayer-2":
		order = 2
	case "bayer-4":
		order = 4
	case "bayer-8":
		order = 8
	case "bayer-16":
		order = 16
	default:
		return nil, fmt.Errorf("imageops: unknown dither %q", dither)
	}
	src := img.Contiguous()
	B, H, W, C := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	out := src.Clone()
	tensor.ParallelFor(B, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			px := make([]uint8, H*W*3)
			data := src.Data[b*H*W*C : (b+1)*H*W*C]
			for p := 0; p < H*W; p++ {
				for c := 0; c < 3; c++ {
					px[3*p+c] = truncU8(data[p*C+c] * 255)
				}
			}
			pal := medianCutPalette(px, colors)
			var idx []uint8
			switch {
			case dither == "floyd-steinberg":
				idx = mapFloydSteinberg(px, W, H, pal)
			case order > 0:
				mapped := addBayer(px, W, H, order, len(pal))
				idx = mapNearest(mapped, pal)
			default:
				idx = mapNearest(px, pal)
			}
			o := out.Data[b*H*W*C : (b+1)*H*W*C]
			for p, k := range idx {
				for c := 0; c < 3; c++ {
					o[p*C+c] = float32(pal[k][c]) / 255
				}
			}
		}
	})
	return out, nil
}

// truncU8 is torch's float → uint8 conversion for values in range:
// truncation (out-of-range values are clamped here).
func truncU8(f float32) uint8 {
	if !(f > 0) {
		return 0
	}
	if f >= 255 {
		return 255
	}
	return uint8(f)
}

type qcolor struct {
	v     [3]uint8 // scaled colour
	count uint32
}

type qbox struct {
	colors []int // indices into the distinct colours
	count  uint32
	volume int
	l, r   *qbox
}

func (b *qbox) computeVolume(cs []qcolor) int {
	if b.volume >= 0 {
		return b.volume
	}
	if len(b.colors) == 0 {
		b.volume = 0
		return 0
	}
	v := 1
	for a := 0; a < 3; a++ {
		lo, hi := 255, 0
		for _, i := range b.colors {
			x := int(cs[i].v[a])
			lo, hi = min(lo, x), max(hi, x)
		}
		v *= hi - lo + 1
	}
	b.volume = v
	return v
}

// medianCutPalette is Pillow's quantize(colors, method=MEDIANCUT) palette.
func medianCutPalette(px []uint8, colors int) [][3]uint8 {
	n := len(px) / 3
	// Distinct colours, with Pillow's scale: drop low bits until at most
	// 65536 distinct keys remain.
	scale := uint(0)
	var keys map[uint32]int
	for {
		keys = make(map[uint32]int)
		for p := 0; p < n; p++ {
			k := uint32(px[3*p]>>scale)<<16 | uint32(px[3*p+1]>>scale)<<8 | uint32(px[3*p+2]>>scale)
			keys[k]++
			if len(keys) > 65536 {
				break
			}
		}
		if len(keys) <= 65536 {
			break
		}
		scale++
	}
	cs := make([]qcolor, 0, len(keys))
	for k, c := range keys {
		cs = append(cs, qcolor{v: [3]uint8{uint8(k >> 16), uint8(k >> 8), uint8(k)}, count: uint32(c)})
	}
	// Deterministic order (the partition does not depend on it).
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i].v, cs[j].v
		return uint32(a[0])<<16|uint32(a[1])<<8|uint32(a[2]) > uint32(b[0])<<16|uint32(b[1])<<8|uint32(b[2])
	})
	root := &qbox{colors: make([]int, len(cs)), count: uint32(n), volume: -1}
	for i := range cs {
		root.colors[i] = i
	}
	// Pillow's 1-indexed max-heap on pixel count (QuantHeap.c), with its
	// sift rules, so that ties pop in the same order.
	heap := []*qbox{nil, root}
	cmp := func(a, b *qbox) int { return int(int32(a.count) - int32(b.count)) }
	pop := func() *qbox {
		if len(heap) == 1 {
			return nil
		}
		r := heap[1]
		v := heap[len(heap)-1]
		heap = heap[:len(heap)-1]
		cnt := len(heap) - 1
		k := 1
		for k*2 <= cnt {
			l := k * 2
			if l < cnt && cmp(heap[l], heap[l+1]) < 0 {
				l++
			}
			if cmp(v, heap[l]) > 0 {
				break
			}
			heap[k] = heap[l]
			k = l
		}
		if cnt > 0 {
			heap[k] = v
		}
		return r
	}
	push := func(v *qbox) {
		heap = append(heap, nil)
		k := len(heap) - 1
		for k != 1 {
			if cmp(v, heap[k/2]) <= 0 {
				break
			}
			heap[k] = heap[k/2]
			k >>= 1
		}
		heap[k] = v
	}
	for left := colors - 1; left > 0; left-- {
		var b *qbox
		for {
			b = pop()
			if b == nil || b.computeVolume(cs) != 1 {
				break
			}
		}
		if b == nil {
			break
		}
		splitBox(b, cs)
		push(b.l)
		push(b.r)
	}
	// Leaves in tree order (left = high values first) give the entries.
	var leaves []*qbox
	var walk func(b *qbox)
	walk = func(b *qbox) {
		if b.l != nil && b.r != nil {
			walk(b.l)
			walk(b.r)
			return
		}
		if len(b.colors) > 0 {
			leaves = append(leaves, b)
		}
	}
	walk(root)
	entry := make(map[uint32]int, len(cs))
	for e, b := range leaves {
		for _, i := range b.colors {
			v := cs[i].v
			entry[uint32(v[0])<<16|uint32(v[1])<<8|uint32(v[2])] = e
		}
	}
	sum := make([][3]uint64, len(leaves))
	cnt := make([]uint64, len(leaves))
	for p := 0; p < n; p++ {
		k := uint32(px[3*p]>>scale)<<16 | uint32(px[3*p+1]>>scale)<<8 | uint32(px[3*p+2]>>scale)
		e := entry[k]
		for c := 0; c < 3; c++ {
			sum[e][c] += uint64(px[3*p+c])
		}
		cnt[e]++
	}
	pal := make([][3]uint8, len(leaves))
	for e := range pal {
		for c := 0; c < 3; c++ {
			pal[e][c] = uint8(int(0.5 + float64(sum[e][c])/float64(cnt[e])))
		}
	}
	return pal
}

// splitBox is Pillow's split + splitlists.
func splitBox(b *qbox, cs []qcolor) {
	var f [3]int
	weights := [3]int{77, 150, 29}
	for a := 0; a < 3; a++ {
		lo, hi := 255, 0
		for _, i := range b.colors {
			x := int(cs[i].v[a])
			lo, hi = min(lo, x), max(hi, x)
		}
		f[a] = (hi - lo) * weights[a]
	}
	axis, best := 0, f[0]
	for a := 1; a < 3; a++ {
		if best < f[a] {
			best, axis = f[a], a
		}
	}
	list := append([]int(nil), b.colors...)
	sort.SliceStable(list, func(i, j int) bool { return cs[list[i]].v[axis] > cs[list[j]].v[axis] })
	var left uint32
	k := 0
	for k < len(list) {
		left += cs[list[k]].count
		k++
		if uint64(left)*2 > uint64(b.count) {
			break
		}
	}
	if k < len(list) {
		split := cs[list[k-1]].v[axis]
		for k < len(list) && cs[list[k]].v[axis] == split {
			k++
		}
	}
	if k == len(list) {
		// Nothing on the right: move the run of the smallest value there.
		last := cs[list[len(list)-1]].v[axis]
		for k > 0 && cs[list[k-1]].v[axis] == last {
			k--
		}
	}
	b.l = &qbox{colors: list[:k], volume: -1}
	b.r = &qbox{colors: list[k:], volume: -1}
	for _, i := range b.l.colors {
		b.l.count += cs[i].count
	}
	b.r.count = b.count - b.l.count
}

// paletteCache is Pillow's 64³ colour cache: the nearest entry to the
// colour with its two low bits cleared.
type paletteCache struct {
	pal   [][3]uint8
	cache []int16
}

func newPaletteCache(pal [][3]uint8) *paletteCache {
	c := &paletteCache{pal: pal, cache: make([]int16, 64*64*64)}
	for i := range c.cache {
		c.cache[i] = -1
	}
	return c
}

func (c *paletteCache) lookup(r, g, b int) int {
	slot := (r >> 2) + (g>>2)*64 + (b>>2)*64*64
	if v := c.cache[slot]; v >= 0 {
		return int(v)
	}
	r, g, b = r&^3, g&^3, b&^3
	best, bestD := 0, math.MaxInt
	for i, p := range c.pal {
		dr, dg, db := r-int(p[0]), g-int(p[1]), b-int(p[2])
		if d := dr*dr + dg*dg + db*db; d < bestD {
			best, bestD = i, d
		}
	}
	c.cache[slot] = int16(best)
	return best
}

func mapNearest(px []uint8, pal [][3]uint8) []uint8 {
	c := newPaletteCache(pal)
	out := make([]uint8, len(px)/3)
	for p := range out {
		out[p] = uint8(c.lookup(int(px[3*p]), int(px[3*p+1]), int(px[3*p+2])))
	}
	return out
}

func clip8i(v int) int {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}

// mapFloydSteinberg is Convert.c's topalette with dithering. errs holds
// the next row's accumulated errors, shifted by one column.
func mapFloydSteinberg(px []uint8, W, H int, pal [][3]uint8) []uint8 {
	c := newPaletteCache(pal)
	out := make([]uint8, W*H)
	errs := make([]int, 3*(W+1))
	for y := 0; y < H; y++ {
		var cur, e0, e1 [3]int // carried error, and the two pending ones
		e := 0
		for x := 0; x < W; x++ {
			in := px[3*(y*W+x):]
			var v [3]int
			for ch := 0; ch < 3; ch++ {
				v[ch] = clip8i(int(in[ch]) + (cur[ch]+errs[e+3+ch])/16)
			}
			k := c.lookup(v[0], v[1], v[2])
			out[y*W+x] = uint8(k)
			for ch := 0; ch < 3; ch++ {
				d := v[ch] - int(pal[k][ch])
				d2 := d + d
				r := d + d2 // 3d
				errs[e+ch] = r + e0[ch]
				r += d2 // 5d
				e0[ch] = r + e1[ch]
				e1[ch] = d
				r += d2 // 7d
				cur[ch] = r
			}
			e += 3
		}
		for ch := 0; ch < 3; ch++ {
			errs[e+ch] = e0[ch]
		}
	}
	return out
}

// addBayer is ComfyUI's Quantize.bayer before its final quantize: the
// normalised Bayer matrix of the order, times spread = 2·256/colours,
// plus 0.5, tiled and added to the pixels, clamped to [0, 255] and
// truncated to uint8.
func addBayer(px []uint8, W, H, order, ncolors int) []uint8 {
	var bayer func(n int) [][]float64
	bayer = func(n int) [][]float64 {
		if n == 0 {
			return [][]float64{{0}}
		}
		q := math.Pow(4, float64(n))
		m := bayer(n - 1)
		s := len(m)
		out := make([][]float64, 2*s)
		for i := range out {
			out[i] = make([]float64, 2*s)
		}
		for i := 0; i < s; i++ {
			for j := 0; j < s; j++ {
				v := q * m[i][j]
				out[i][j] = (v - 1.5) / q
				out[i][j+s] = (v + 0.5) / q
				out[i+s][j] = (v + 1.5) / q
				out[i+s][j+s] = (v - 0.5) / q
			}
		}
		return out
	}
	n := int(math.Log2(float64(order)))
	m := bayer(n)
	spread := 2 * 256 / float64(ncolors)
	out := make([]uint8, len(px))
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			add := spread*m[y%len(m)][x%len(m)] + 0.5
			for c := 0; c < 3; c++ {
				v := float32(float64(float32(px[3*(y*W+x)+c])) + add)
				out[3*(y*W+x)+c] = truncU8(min(max(v, 0), 255))
			}
		}
	}
	return out
}
