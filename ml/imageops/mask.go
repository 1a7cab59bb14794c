package imageops

import (
	"github.com/comfyd/comfyd/ml/tensor"
)

// Grow is ComfyUI's GrowMask on a mask [B,H,W]: |expand| rounds of
// scipy.ndimage.grey_dilation (expand > 0) or grey_erosion (expand < 0)
// with a 3×3 footprint — a cross when tapered, the full square otherwise.
// scipy's default border mode 'reflect' repeats the edge pixel, so for a
// 3×3 footprint the outside neighbours never change a max or a min: they
// are simply skipped.
func Grow(mask *tensor.Tensor, expand int, tapered bool) *tensor.Tensor {
	m := mask.Contiguous()
	B, H, W := m.Shape[0], m.Shape[1], m.Shape[2]
	out := m.Clone()
	if expand == 0 || H == 0 || W == 0 {
		return out
	}
	n := expand
	dilate := n > 0
	if n < 0 {
		n = -n
	}
	tensor.ParallelFor(B, 1, func(lo, hi int) {
		tmp := make([]float32, H*W)
		for b := lo; b < hi; b++ {
			cur := out.Data[b*H*W : (b+1)*H*W]
			for it := 0; it < n; it++ {
				copy(tmp, cur)
				changed := false
				for y := 0; y < H; y++ {
					for x := 0; x < W; x++ {
						v := tmp[y*W+x]
						for dy := -1; dy <= 1; dy++ {
							yy := y + dy
							if yy < 0 || yy >= H {
								continue
							}
							for dx := -1; dx <= 1; dx++ {
								xx := x + dx
								if xx < 0 || xx >= W || (tapered && dx != 0 && dy != 0) {
									continue
								}
								u := tmp[yy*W+xx]
								if dilate && u > v || !dilate && u < v {
									v = u
								}
							}
						}
						if v != cur[y*W+x] {
							cur[y*W+x] = v
							changed = true
						}
					}
				}
				if !changed { // a fixed point: further rounds change nothing
					break
				}
			}
		}
	})
	return out
}

// Feather is ComfyUI 0.3.64's FeatherMask on a mask [B,H,W]. The sides are
// clamped to the mask size; column x < left is multiplied by (x+1)/left,
// row y < top by (y+1)/top. For the right and bottom sides ComfyUI indexes
// output[..., -x] for x = 0..n−1, a quirk kept here: x = 0 hits column
// (row) 0, which gets an extra factor 1/n, and column W−x gets (x+1)/n, so
// the last column is multiplied by 2/n rather than 1/n. Factors are
// float32 multiplications applied in ComfyUI's loop order.
func Feather(mask *tensor.Tensor, left, top, right, bottom int) *tensor.Tensor {
	out := mask.Clone()
	B, H, W := out.Shape[0], out.Shape[1], out.Shape[2]
	left, right = min(left, W), min(right, W)
	top, bottom = min(top, H), min(bottom, H)
	col := func(x int, f float32) {
		for b := 0; b < B; b++ {
			for y := 0; y < H; y++ {
				out.Data[(b*H+y)*W+x] *= f
			}
		}
	}
	row := func(y int, f float32) {
		for b := 0; b < B; b++ {
			r := out.Data[(b*H+y)*W : (b*H+y+1)*W]
			for i := range r {
				r[i] *= f
			}
		}
	}
	neg := func(i, n int) int { // Python's a[-i]
		if i == 0 {
			return 0
		}
		return n - i
	}
	for x := 0; x < left; x++ {
		col(x, float32((float64(x)+1)/float64(left)))
	}
	for x := 0; x < right; x++ {
		col(neg(x, W), float32(float64(x+1)/float64(right)))
	}
	for y := 0; y < top; y++ {
		row(y, float32(float64(y+1)/float64(top)))
	}
	for y := 0; y < bottom; y++ {
		row(neg(y, H), float32(float64(y+1)/float64(bottom)))
	}
	return out
}

// OutpaintMask is the mask of ComfyUI's ImagePadForOutpaint for an image of
// h×w padded by left/top/right/bottom: 1 in the padding; inside, 0 unless
// feathering > 0 and 2·feathering < h and < w, when a pixel at distance d
// from the nearest padded side (sides without padding count as far away:
// h or w) gets ((f−d)/f)² for d < f. Returns [1, h+top+bottom, w+left+right].
func OutpaintMask(h, w, left, top, right, bottom, feathering int) *tensor.Tensor {
	H, W := h+top+bottom, w+left+right
	m := tensor.Full(1, 1, H, W)
	feather := feathering > 0 && feathering*2 < h && feathering*2 < w
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			var v float32
			if feather {
				dt, db, dl, dr := h, h, w, w
				if top != 0 {
					dt = i
				}
				if bottom != 0 {
					db = h - i
				}
				if left != 0 {
					dl = j
				}
				if right != 0 {
					dr = w - j
				}
				d := min(dt, db, dl, dr)
				if d < feathering {
					f := float64(feathering-d) / float64(feathering)
					v = float32(f * f)
				}
			}
			m.Data[(i+top)*W+j+left] = v
		}
	}
	return m
}
