package tensor

import "fmt"

// Pad2d returns x [..., H, W] padded with value: left/right columns and
// top/bottom rows, as torch.nn.functional.pad(x, (left, right, top, bottom),
// mode="constant", value=value) — e.g. the SD VAE encoder's Downsample pads
// (0, 1, 0, 1) before its stride-2 convolution. Negative amounts crop, as
// in torch.
func Pad2d(x *Tensor, left, right, top, bottom int, value float32) *Tensor {
	mustF32("Pad2d", x)
	if x.Dims() < 2 {
		panic(fmt.Sprintf("tensor: Pad2d needs [..., H, W], got %v", x.Shape))
	}
	r := x.Dims()
	h, w := x.Shape[r-2], x.Shape[r-1]
	oh, ow := h+top+bottom, w+left+right
	if oh < 0 || ow < 0 {
		panic(fmt.Sprintf("tensor: Pad2d (%d, %d, %d, %d) of %v leaves nothing", left, right, top, bottom, x.Shape))
	}
	sh := append(append([]int(nil), x.Shape[:r-2]...), oh, ow)
	out := Full(value, sh...)
	// The part of x that survives, and where it lands.
	y0, y1 := max(0, -top), min(h, h+bottom)
	x0, x1 := max(0, -left), min(w, w+right)
	if y1 <= y0 || x1 <= x0 {
		return out
	}
	dst := out.Slice(r-2, y0+top, y1+top).Slice(r-1, x0+left, x1+left)
	CopyTo(dst, x.Slice(r-2, y0, y1).Slice(r-1, x0, x1))
	return out
}
