package image

import (
	"fmt"
	"strings"

	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

const maxResolution = 16384

// emptyImage is EmptyImage.generate: each channel is torch.full of
// ((color >> shift) & 0xFF) / 0xFF, a float64 quotient stored as float32.
func emptyImage(c *node.Context, in node.Inputs) (*node.Result, error) {
	w, h, b := int(in.Int("width")), int(in.Int("height")), int(in.Int("batch_size"))
	color := in.Int("color")
	if w <= 0 || h <= 0 || b <= 0 {
		return nil, node.Errorf("RuntimeError", "invalid size %dx%d batch %d", w, h, b)
	}
	rgb := [3]float32{
		float32(float64((color>>16)&0xff) / 255),
		float32(float64((color>>8)&0xff) / 255),
		float32(float64(color&0xff) / 255),
	}
	out := tensor.New(b, h, w, 3)
	for i := 0; i < len(out.Data); i += 3 {
		out.Data[i], out.Data[i+1], out.Data[i+2] = rgb[0], rgb[1], rgb[2]
	}
	return node.Outputs(out), nil
}

// imageInvert is 1 − x on every channel (alpha included).
func imageInvert(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	out := tensor.New(img.Shape...)
	src := img.Data[img.Offset : img.Offset+img.Len()]
	for i, v := range src {
		out.Data[i] = 1 - v
	}
	return node.Outputs(out), nil
}

// catBatch concatenates tensors along dim 0 (torch.cat(dim=0)).
func catBatch(ts ...*tensor.Tensor) (*tensor.Tensor, error) {
	shape := append([]int(nil), ts[0].Shape...)
	shape[0] = 0
	for _, t := range ts {
		for d := 1; d < len(shape); d++ {
			if t.Shape[d] != ts[0].Shape[d] {
				return nil, node.Errorf("RuntimeError", "Sizes of tensors must match except in dimension 0. Expected size %d but got size %d for tensor number 1 in the list.", ts[0].Shape[d], t.Shape[d])
			}
		}
		shape[0] += t.Shape[0]
	}
	out := tensor.New(shape...)
	off := 0
	for _, t := range ts {
		c := t.Contiguous()
		n := c.Len()
		copy(out.Data[off:off+n], c.Data[c.Offset:c.Offset+n])
		off += n
	}
	return out, nil
}

// imageBatch is ImageBatch.batch (0.3.64): image2 of another [H,W,C] is
// resized to image1's size with bilinear + center crop; channel counts are
// not reconciled, so RGB + RGBA fails as in ComfyUI.
func imageBatch(c *node.Context, in node.Inputs) (*node.Result, error) {
	a, err := imageArg(in.Get("image1"), "image1")
	if err != nil {
		return nil, err
	}
	b, err := imageArg(in.Get("image2"), "image2")
	if err != nil {
		return nil, err
	}
	if a.Shape[1] != b.Shape[1] || a.Shape[2] != b.Shape[2] || a.Shape[3] != b.Shape[3] {
		if b, err = imageops.CommonUpscale(b, a.Shape[2], a.Shape[1], imageops.Bilinear, "center"); err != nil {
			return nil, err
		}
	}
	out, err := catBatch(a, b)
	if err != nil {
		return nil, err
	}
	return node.Outputs(out), nil
}

// repeatImageBatch is image.repeat((amount,1,1,1)).
func repeatImageBatch(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	amount := int(in.Int("amount"))
	if amount < 0 {
		return nil, node.Errorf("RuntimeError", "Trying to create tensor with negative dimension %d", amount)
	}
	parts := make([]*tensor.Tensor, amount)
	for i := range parts {
		parts[i] = img
	}
	if amount == 0 {
		shape := append([]int{0}, img.Shape[1:]...)
		return node.Outputs(tensor.New(shape...)), nil
	}
	out, err := catBatch(parts...)
	if err != nil {
		return nil, err
	}
	return node.Outputs(out), nil
}

// imageFromBatch clamps batch_index to the last image and length to what
// is left.
func imageFromBatch(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	n := img.Shape[0]
	idx := min(int(in.Int("batch_index")), n-1)
	length := min(n-idx, int(in.Int("length")))
	if idx < 0 || length <= 0 {
		return nil, node.Errorf("RuntimeError", "empty batch")
	}
	return node.Outputs(img.Slice(0, idx, idx+length).Clone()), nil
}

// imageFlip: "x-axis" flips rows (vertically), "y-axis" columns.
func imageFlip(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	method := in.String("flip_method")
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	out := tensor.New(B, H, W, C)
	src := img.Data[img.Offset:]
	for b := 0; b < B; b++ {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				sy, sx := y, x
				switch {
				case strings.HasPrefix(method, "x"):
					sy = H - 1 - y
				case strings.HasPrefix(method, "y"):
					sx = W - 1 - x
				}
				d := ((b*H+y)*W + x) * C
				s := ((b*H+sy)*W + sx) * C
				copy(out.Data[d:d+C], src[s:s+C])
			}
		}
	}
	return node.Outputs(out), nil
}

// imageRotate is torch.rot90(image, k, dims=[2, 1]): "90 degrees" turns
// the image clockwise.
func imageRotate(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	rot := in.String("rotation")
	k := 0
	switch {
	case strings.HasPrefix(rot, "90"):
		k = 1
	case strings.HasPrefix(rot, "180"):
		k = 2
	case strings.HasPrefix(rot, "270"):
		k = 3
	}
	if k == 0 {
		return node.Outputs(img), nil
	}
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	oh, ow := H, W
	if k != 2 {
		oh, ow = W, H
	}
	out := tensor.New(B, oh, ow, C)
	src := img.Data[img.Offset:]
	for b := 0; b < B; b++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				var sy, sx int
				switch k {
				case 1:
					sy, sx = H-1-x, y
				case 2:
					sy, sx = H-1-y, W-1-x
				case 3:
					sy, sx = x, W-1-y
				}
				d := ((b*oh+y)*ow + x) * C
				s := ((b*H+sy)*W + sx) * C
				copy(out.Data[d:d+C], src[s:s+C])
			}
		}
	}
	return node.Outputs(out), nil
}

// imageCrop clamps x, y to the last column/row and cuts the crop at the
// image edge (Python slicing), so the result may be smaller than asked.
func imageCrop(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	H, W := img.Shape[1], img.Shape[2]
	w, h := int(in.Int("width")), int(in.Int("height"))
	x := min(int(in.Int("x")), W-1)
	y := min(int(in.Int("y")), H-1)
	out := img.Slice(1, pySliceStart(y, H), pySliceEnd(y+h, H)).Slice(2, pySliceStart(x, W), pySliceEnd(x+w, W))
	return node.Outputs(out.Clone()), nil
}

// pySliceStart/End clamp slice bounds as Python does for non-negative
// starts (negative values count from the end).
func pySliceStart(s, n int) int {
	if s < 0 {
		s += n
	}
	return max(0, min(s, n))
}

func pySliceEnd(e, n int) int {
	if e < 0 {
		e += n
	}
	return max(0, min(e, n))
}

// getImageSize returns width, height and batch size and shows them on the
// node as a progress text.
func getImageSize(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageArg(in.Get("image"), "image")
	if err != nil {
		return nil, err
	}
	h, w, b := img.Shape[1], img.Shape[2], img.Shape[0]
	if uid, _ := in.Get("unique_id").(string); uid != "" {
		c.Text(fmt.Sprintf("width: %d, height: %d\n batch size: %d", w, h, b))
	}
	return node.Outputs(int64(w), int64(h), int64(b)), nil
}

func init() {
	img := func(name string) node.Input { return node.In(name, node.TypeImage) }
	outImage := []node.Output{{Type: node.TypeImage}}
	const extras = "comfy_extras.nodes_images"
	node.RegisterFunc(node.Spec{Name: "ImageInvert", DisplayName: "Invert Image", Category: "image",
		Required: []node.Input{img("image")}, Outputs: outImage}, imageInvert)
	node.RegisterFunc(node.Spec{Name: "ImageBatch", DisplayName: "Batch Images", Category: "image",
		Required: []node.Input{img("image1"), img("image2")}, Outputs: outImage}, imageBatch)
	node.RegisterFunc(node.Spec{Name: "EmptyImage", Category: "image",
		Required: []node.Input{
			node.In("width", node.TypeInt, "default", 512, "min", 1, "max", maxResolution, "step", 1),
			node.In("height", node.TypeInt, "default", 512, "min", 1, "max", maxResolution, "step", 1),
			node.In("batch_size", node.TypeInt, "default", 1, "min", 1, "max", 4096),
			node.In("color", node.TypeInt, "default", 0, "min", 0, "max", 16777215, "step", 1, "display", "color"),
		}, Outputs: outImage}, emptyImage)
	node.RegisterFunc(node.Spec{Name: "ImageCrop", DisplayName: "Image Crop", Category: "image/transform", PythonModule: extras,
		Required: []node.Input{img("image"),
			node.In("width", node.TypeInt, "default", 512, "min", 1, "max", maxResolution, "step", 1),
			node.In("height", node.TypeInt, "default", 512, "min", 1, "max", maxResolution, "step", 1),
			node.In("x", node.TypeInt, "default", 0, "min", 0, "max", maxResolution, "step", 1),
			node.In("y", node.TypeInt, "default", 0, "min", 0, "max", maxResolution, "step", 1),
		}, Outputs: outImage}, imageCrop)
	node.RegisterFunc(node.Spec{Name: "RepeatImageBatch", Category: "image/batch", PythonModule: extras,
		Required: []node.Input{img("image"), node.In("amount", node.TypeInt, "default", 1, "min", 1, "max", 4096)},
		Outputs:  outImage}, repeatImageBatch)
	node.RegisterFunc(node.Spec{Name: "ImageFromBatch", Category: "image/batch", PythonModule: extras,
		Required: []node.Input{img("image"),
			node.In("batch_index", node.TypeInt, "default", 0, "min", 0, "max", 4095),
			node.In("length", node.TypeInt, "default", 1, "min", 1, "max", 4096)},
		Outputs: outImage}, imageFromBatch)
	node.RegisterFunc(node.Spec{Name: "GetImageSize", DisplayName: "Get Image Size", Category: "image", PythonModule: extras,
		Description: "Returns width and height of the image, and passes it through unchanged.",
		Required:    []node.Input{img("image")},
		Hidden:      []node.Hidden{{Name: "unique_id", Kind: node.HiddenUniqueID}},
		Outputs:     []node.Output{{Type: node.TypeInt, Name: "width"}, {Type: node.TypeInt, Name: "height"}, {Type: node.TypeInt, Name: "batch_size"}}}, getImageSize)
	node.RegisterFunc(node.Spec{Name: "ImageRotate", Category: "image/transform", PythonModule: extras,
		Required: []node.Input{img("image"), node.Combo("rotation", []string{"none", "90 degrees", "180 degrees", "270 degrees"})},
		Outputs:  outImage}, imageRotate)
	node.RegisterFunc(node.Spec{Name: "ImageFlip", Category: "image/transform", PythonModule: extras,
		Required: []node.Input{img("image"), node.Combo("flip_method", []string{"x-axis: vertically", "y-axis: horizontally"})},
		Outputs:  outImage}, imageFlip)
}
