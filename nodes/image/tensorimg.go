package image

import (
	"fmt"

	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/ml/tensor"
)

// imageArg returns an IMAGE input, checking it is [B,H,W,C].
func imageArg(v any, name string) (*tensor.Tensor, error) {
	t, ok := v.(*tensor.Tensor)
	if !ok || t == nil {
		return nil, fmt.Errorf("input %s: %T is not an IMAGE", name, v)
	}
	if t.Dims() != 4 {
		return nil, fmt.Errorf("input %s: IMAGE must have 4 dimensions [B,H,W,C], got %v", name, t.Shape)
	}
	return t.Contiguous(), nil
}

// frame8 converts image i of a contiguous [B,H,W,C] tensor to 8 bits as
// ComfyUI's savers do (see imageio.FromFloat).
func frame8(t *tensor.Tensor, i int) (*imageio.Image8, error) {
	h, w, c := t.Shape[1], t.Shape[2], t.Shape[3]
	n := h * w * c
	return imageio.FromFloat(t.Data[t.Offset+i*n:t.Offset+(i+1)*n], w, h, c)
}

// stack builds a [B,H,W,C] tensor from same-sized frames (8-bit → v/255).
func stack(frames []*imageio.Image8) *tensor.Tensor {
	f0 := frames[0]
	out := tensor.New(len(frames), f0.Height, f0.Width, f0.Channels)
	n := len(f0.Pix)
	for i, f := range frames {
		for j, b := range f.Pix {
			out.Data[i*n+j] = float32(b) / 255
		}
	}
	return out
}
