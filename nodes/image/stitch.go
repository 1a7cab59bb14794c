package image

import (
	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

// repeatLast pads a batch to n images by repeating its last image.
func repeatLast(t *tensor.Tensor, n int) *tensor.Tensor {
	if t.Shape[0] >= n {
		return t
	}
	parts := []*tensor.Tensor{t}
	last := t.Slice(0, t.Shape[0]-1, t.Shape[0])
	for i := t.Shape[0]; i < n; i++ {
		parts = append(parts, last)
	}
	out, _ := catBatch(parts...)
	return out
}

// padHW pads a [B,H,W,C] image with a constant: top/bottom rows and
// left/right columns (torch.nn.functional.pad, mode constant).
func padHW(t *tensor.Tensor, top, bottom, left, right int, value float32) *tensor.Tensor {
	t = t.Contiguous()
	B, H, W, C := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	oh, ow := H+top+bottom, W+left+right
	out := tensor.Full(value, B, oh, ow, C)
	for b := 0; b < B; b++ {
		for y := 0; y < H; y++ {
			s := t.Offset + ((b*H+y)*W)*C
			d := ((b*oh+y+top)*ow + left) * C
			copy(out.Data[d:d+W*C], t.Data[s:s+W*C])
		}
	}
	return out
}

// padChannels appends channels of ones up to c.
func padChannels(t *tensor.Tensor, c int) *tensor.Tensor {
	t = t.Contiguous()
	B, H, W, C := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	if C >= c {
		return t
	}
	out := tensor.Full(1, B, H, W, c)
	for p := 0; p < B*H*W; p++ {
		copy(out.Data[p*c:p*c+C], t.Data[t.Offset+p*C:t.Offset+(p+1)*C])
	}
	return out
}

// catDim concatenates [B,H,W,C] tensors along dim 1 (H) or 2 (W).
func catDim(dim int, ts ...*tensor.Tensor) (*tensor.Tensor, error) {
	shape := append([]int(nil), ts[0].Shape...)
	shape[dim] = 0
	for _, t := range ts {
		for d := 0; d < 4; d++ {
			if d != dim && t.Shape[d] != ts[0].Shape[d] {
				return nil, node.Errorf("RuntimeError", "Sizes of tensors must match except in dimension %d. Expected size %d but got size %d for tensor number 1 in the list.", dim, ts[0].Shape[d], t.Shape[d])
			}
		}
		shape[dim] += t.Shape[dim]
	}
	out := tensor.New(shape...)
	B := shape[0]
	// Each output "row block" (one b for dim 1, one (b,y) for dim 2) is the
	// concatenation of the inputs' blocks.
	outer := B
	if dim == 2 {
		outer = B * shape[1]
	}
	off := 0
	for o := 0; o < outer; o++ {
		for _, t := range ts {
			c := t.Contiguous()
			n := c.Len() / outer
			copy(out.Data[off:off+n], c.Data[c.Offset+o*n:c.Offset+(o+1)*n])
			off += n
		}
	}
	return out, nil
}

// imageStitch is ImageStitch.stitch: batches padded by repeating the last
// image, image2 resized with lanczos to image1's height (or width) when
// match_image_size, otherwise the smaller side padded centred with the
// spacing colour (0 for the coloured ones); missing channels filled with
// ones; an even spacing strip between the images.
func imageStitch(c *node.Context, in node.Inputs) (*node.Result, error) {
	image1, err := imageArg(in.Get("image1"), "image1")
	if err != nil {
		return nil, err
	}
	if !in.Has("image2") {
		return node.Outputs(image1), nil
	}
	image2, err := imageArg(in.Get("image2"), "image2")
	if err != nil {
		return nil, err
	}
	direction := in.String("direction")
	match := in.Bool("match_image_size")
	spacing := int(in.Int("spacing_width"))
	colorName := in.String("spacing_color")
	horizontal := direction == "left" || direction == "right"

	if n := max(image1.Shape[0], image2.Shape[0]); image1.Shape[0] != image2.Shape[0] {
		image1, image2 = repeatLast(image1, n), repeatLast(image2, n)
	}
	if match {
		h1, w1 := image1.Shape[1], image1.Shape[2]
		h2, w2 := image2.Shape[1], image2.Shape[2]
		aspect := float64(w2) / float64(h2)
		tw, th := int(float64(h1)*aspect), h1
		if !horizontal {
			tw, th = w1, int(float64(w1)/aspect)
		}
		if image2, err = imageops.CommonUpscale(image2, tw, th, imageops.Lanczos, "disabled"); err != nil {
			return nil, err
		}
	}
	colors := map[string][]float32{"white": {1}, "black": {0}, "red": {1, 0, 0}, "green": {0, 1, 0}, "blue": {0, 0, 1}}
	col, ok := colors[colorName]
	if !ok {
		return nil, node.Errorf("KeyError", "'%s'", colorName)
	}
	if !match {
		var pad float32
		if len(col) == 1 {
			pad = col[0]
		}
		h1, w1 := image1.Shape[1], image1.Shape[2]
		h2, w2 := image2.Shape[1], image2.Shape[2]
		if horizontal && h1 != h2 {
			th := max(h1, h2)
			if p := th - h1; p > 0 {
				image1 = padHW(image1, p/2, p-p/2, 0, 0, pad)
			}
			if p := th - h2; p > 0 {
				image2 = padHW(image2, p/2, p-p/2, 0, 0, pad)
			}
		} else if !horizontal && w1 != w2 {
			tw := max(w1, w2)
			if p := tw - w1; p > 0 {
				image1 = padHW(image1, 0, 0, p/2, p-p/2, pad)
			}
			if p := tw - w2; p > 0 {
				image2 = padHW(image2, 0, 0, p/2, p-p/2, pad)
			}
		}
	}
	if c1, c2 := image1.Shape[3], image2.Shape[3]; c1 != c2 {
		image1, image2 = padChannels(image1, max(c1, c2)), padChannels(image2, max(c1, c2))
	}
	parts := []*tensor.Tensor{image1, image2}
	if direction == "left" || direction == "up" {
		parts = []*tensor.Tensor{image2, image1}
	}
	if spacing > 0 {
		spacing += spacing % 2
		C := image1.Shape[3]
		var strip *tensor.Tensor
		if horizontal {
			strip = tensor.New(image1.Shape[0], max(image1.Shape[1], image2.Shape[1]), spacing, C)
		} else {
			strip = tensor.New(image1.Shape[0], spacing, max(image1.Shape[2], image2.Shape[2]), C)
		}
		fill := make([]float32, C)
		if len(col) == 3 {
			copy(fill, col[:min(3, C)])
		} else {
			for i := 0; i < min(3, C); i++ {
				fill[i] = col[0]
			}
		}
		if C == 4 {
			fill[3] = 1
		}
		for p := 0; p < len(strip.Data); p += C {
			copy(strip.Data[p:p+C], fill)
		}
		parts = []*tensor.Tensor{parts[0], strip, parts[1]}
	}
	dim := 1
	if horizontal {
		dim = 2
	}
	out, err := catDim(dim, parts...)
	if err != nil {
		return nil, err
	}
	return node.Outputs(out), nil
}

func init() {
	node.RegisterFunc(node.Spec{Name: "ImageStitch", DisplayName: "Image Stitch", Category: "image/transform",
		PythonModule: "comfy_extras.nodes_images",
		Description:  "\nStitches image2 to image1 in the specified direction.\nIf image2 is not provided, returns image1 unchanged.\nOptional spacing can be added between images.\n",
		Required: []node.Input{
			node.In("image1", node.TypeImage),
			node.Combo("direction", []string{"right", "down", "left", "up"}, "default", "right"),
			node.In("match_image_size", node.TypeBoolean, "default", true),
			node.In("spacing_width", node.TypeInt, "default", 0, "min", 0, "max", 1024, "step", 2),
			node.Combo("spacing_color", []string{"white", "black", "red", "green", "blue"}, "default", "white"),
		},
		Optional: []node.Input{node.In("image2", node.TypeImage)},
		Outputs:  []node.Output{{Type: node.TypeImage}}}, imageStitch)
}
