package imageops

import (
	"fmt"
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

// BlendModes lists ImageBlend's modes in ComfyUI's order.
var BlendModes = []string{"normal", "multiply", "screen", "overlay", "soft_light", "difference"}

// BlendPixel is one channel of ComfyUI's ImageBlend.blend_mode:
// normal b; multiply a·b; screen 1−(1−a)(1−b); overlay a ≤ .5 ? 2ab :
// 1−2(1−a)(1−b); soft_light b ≤ .5 ? a−(1−2b)·a·(1−a) : a+(2b−1)(g(a)−a)
// with g(a) = a ≤ .25 ? ((16a−12)a+4)a : √a; difference a−b (signed: the
// quirk ComfyUI keeps, the clamp afterwards cuts the negative part).
func BlendPixel(mode string, a, b float32) float32 {
	switch mode {
	case "normal":
		return b
	case "multiply":
		return a * b
	case "screen":
		return 1 - (1-a)*(1-b)
	case "overlay":
		if a <= 0.5 {
			return 2 * a * b
		}
		return 1 - 2*(1-a)*(1-b)
	case "soft_light":
		if b <= 0.5 {
			return a - (1-2*b)*a*(1-a)
		}
		var g float32
		if a <= 0.25 {
			g = ((16*a-12)*a + 4) * a
		} else {
			g = float32(math.Sqrt(float64(a)))
		}
		return a + (2*b-1)*(g-a)
	case "difference":
		return a - b
	}
	return float32(math.NaN())
}

// Blend mixes two images of the same shape:
// out = clamp(a·(1−f) + mode(a, b)·f, 0, 1) per channel.
func Blend(a, b *tensor.Tensor, factor float64, mode string) (*tensor.Tensor, error) {
	if !tensor.SameShape(a, b) {
		return nil, fmt.Errorf("imageops: blend of %v and %v", a.Shape, b.Shape)
	}
	known := false
	for _, m := range BlendModes {
		known = known || m == mode
	}
	if !known {
		return nil, fmt.Errorf("Unsupported blend mode: %s", mode)
	}
	a, b = a.Contiguous(), b.Contiguous()
	out := tensor.New(a.Shape...)
	f := float32(factor)
	inv := float32(1 - factor)
	tensor.ParallelFor(len(out.Data), 1<<15, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x := a.Data[i]
			out.Data[i] = clamp01(x*inv + BlendPixel(mode, x, b.Data[i])*f)
		}
	})
	return out, nil
}
