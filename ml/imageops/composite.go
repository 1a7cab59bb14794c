package imageops

import (
	"fmt"

	"github.com/comfyd/comfyd/ml/tensor"
)

// RepeatToBatch is comfy.utils.repeat_to_batch_size along dim 0: the first
// n items when there are more, the batch repeated (then cut) when fewer.
func RepeatToBatch(t *tensor.Tensor, n int) *tensor.Tensor {
	b := t.Shape[0]
	if b == n {
		return t
	}
	if b > n {
		return t.Slice(0, 0, n)
	}
	t = t.Contiguous()
	per := t.Len() / max(b, 1)
	shape := append([]int{n}, t.Shape[1:]...)
	out := tensor.New(shape...)
	for i := 0; i < n; i++ {
		copy(out.Data[i*per:(i+1)*per], t.Data[(i%b)*per:(i%b+1)*per])
	}
	return out
}

// AlphaFix is node_helpers.image_alpha_fix as the later ComfyUI defines it:
// a source with more channels than the destination loses the extra ones; a
// source with fewer gets an opaque alpha channel. (ComfyUI 0.3.64 pads the
// destination instead, which then fails on mismatched channel counts; the
// fixed behaviour is kept as the sensible one.)
func AlphaFix(dst, src *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	dc, sc := dst.Dim(-1), src.Dim(-1)
	switch {
	case dc < sc:
		src = src.Slice(3, 0, dc).Contiguous()
	case dc > sc:
		s := src.Contiguous()
		shape := append([]int(nil), s.Shape...)
		shape[3]++
		out := tensor.New(shape...)
		for p := 0; p < s.Len()/sc; p++ {
			copy(out.Data[p*(sc+1):], s.Data[p*sc:(p+1)*sc])
			out.Data[p*(sc+1)+sc] = 1
		}
		src = out
	}
	return dst, src
}

// Composite is comfy_extras.nodes_mask.composite with multiplier 1 on
// images [B,H,W,C]: the source (resized bilinear to the destination size
// when resizeSource, then repeated to the destination batch) is placed with
// its top-left corner at (x, y), clamped to [−src size, dst size], and cut
// at the destination edge; the mask (nil = ones) is resized bilinear to the
// source size and repeated to the batch; out = m·src + (1−m)·dst inside the
// placed region, dst elsewhere.
func Composite(dst, src *tensor.Tensor, x, y int, mask *tensor.Tensor, resizeSource bool) (*tensor.Tensor, error) {
	B, H, W, C := dst.Shape[0], dst.Shape[1], dst.Shape[2], dst.Shape[3]
	if src.Dim(3) != C {
		return nil, fmt.Errorf("imageops: composite of %d-channel source onto %d-channel destination", src.Dim(3), C)
	}
	var err error
	if resizeSource {
		if src, err = Resize(src, W, H, Bilinear); err != nil {
			return nil, err
		}
	}
	src = RepeatToBatch(src, B).Contiguous()
	sh, sw := src.Shape[1], src.Shape[2]
	x = max(-sw, min(x, W))
	y = max(-sh, min(y, H))
	left, top := floorDiv(x, 1), floorDiv(y, 1)
	var m *tensor.Tensor
	if mask != nil {
		mk := mask.Contiguous()
		if mk.Dims() == 2 {
			mk = mk.Reshape(1, mk.Shape[0], mk.Shape[1])
		}
		if m, err = Resize(mk, sw, sh, Bilinear); err != nil {
			return nil, err
		}
		m = RepeatToBatch(m, B).Contiguous()
	}
	out := dst.Clone()
	// Visible part of the source: rows/cols from max(0,−top) .. while the
	// destination lasts. (ComfyUI slices source[:visible] and dst[top:bottom];
	// negative offsets only arise from clamping and wrap in Python, but the
	// inputs' min is 0.)
	visW := min(sw, W-left)
	visH := min(sh, H-top)
	if left < 0 || top < 0 {
		return nil, fmt.Errorf("imageops: negative composite offset (%d, %d)", x, y)
	}
	tensor.ParallelFor(B*max(visH, 0), 8, func(lo, hi int) {
		for job := lo; job < hi; job++ {
			b, yy := job/visH, job%visH
			for xx := 0; xx < visW; xx++ {
				var mv float32 = 1
				if m != nil {
					mv = m.Data[(b*sh+yy)*sw+xx]
				}
				inv := 1 - mv
				so := ((b*sh+yy)*sw + xx) * C
				do := ((b*H+top+yy)*W + left + xx) * C
				for c := 0; c < C; c++ {
					out.Data[do+c] = mv*src.Data[so+c] + inv*out.Data[do+c]
				}
			}
		}
	})
	return out, nil
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
