package image

import (
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

// centerCrop returns the crop window comfy.utils.common_upscale takes with
// crop="center" before resizing (Python's round: half to even).
func centerCrop(oldW, oldH, width, height int) (x, y, w, h int) {
	oldAspect := float64(oldW) / float64(oldH)
	newAspect := float64(width) / float64(height)
	if oldAspect > newAspect {
		x = int(math.RoundToEven((float64(oldW) - float64(oldW)*(newAspect/oldAspect)) / 2))
	} else if oldAspect < newAspect {
		y = int(math.RoundToEven((float64(oldH) - float64(oldH)*(oldAspect/newAspect)) / 2))
	}
	return x, y, oldW - 2*x, oldH - 2*y
}

// CommonUpscaleBilinear resizes a [B,H,W,C] image to width×height as
// common_upscale(..., "bilinear", crop) does: optional center crop, then
// torch.nn.functional.interpolate(mode="bilinear", align_corners=False,
// no antialias), computed in float32 like torch's CPU kernel.
func CommonUpscaleBilinear(img *tensor.Tensor, width, height int, center bool) *tensor.Tensor {
	img = img.Contiguous()
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	x0, y0, cw, ch := 0, 0, W, H
	if center {
		x0, y0, cw, ch = centerCrop(W, H, width, height)
	}
	out := tensor.New(B, height, width, C)
	ys := linearTaps(ch, height)
	xs := linearTaps(cw, width)
	src := img.Data[img.Offset:]
	for b := 0; b < B; b++ {
		for oy, ty := range ys {
			r0 := (b*H + y0 + ty.i0) * W
			r1 := (b*H + y0 + ty.i1) * W
			for ox, tx := range xs {
				d := ((b*height+oy)*width + ox) * C
				p00 := (r0 + x0 + tx.i0) * C
				p01 := (r0 + x0 + tx.i1) * C
				p10 := (r1 + x0 + tx.i0) * C
				p11 := (r1 + x0 + tx.i1) * C
				for c := 0; c < C; c++ {
					top := tx.w0*src[p00+c] + tx.w1*src[p01+c]
					bot := tx.w0*src[p10+c] + tx.w1*src[p11+c]
					out.Data[d+c] = ty.w0*top + ty.w1*bot
				}
			}
		}
	}
	return out
}

type tap struct {
	i0, i1 int
	w0, w1 float32
}

// linearTaps are torch's source indices and weights for one axis
// (align_corners=False): src = max(scale*(dst+0.5)-0.5, 0) in float32.
func linearTaps(in, out int) []tap {
	scale := float32(in) / float32(out)
	taps := make([]tap, out)
	for d := range taps {
		r := scale*(float32(d)+0.5) - 0.5
		if r < 0 {
			r = 0
		}
		i := int(r)
		step := 0
		if i < in-1 {
			step = 1
		}
		l1 := r - float32(i)
		taps[d] = tap{i0: i, i1: i + step, w0: 1 - l1, w1: l1}
	}
	return taps
}
