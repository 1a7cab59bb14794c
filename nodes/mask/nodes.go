package mask

import (
	"math"

	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

func init() {
	composite := v1("ImageCompositeMasked", "image", []node.Input{
		node.In("destination", node.TypeImage), node.In("source", node.TypeImage),
		node.In("x", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("y", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("resize_source", node.TypeBoolean, "default", false),
	}, node.TypeImage)
	composite.Optional = []node.Input{node.In("mask", node.TypeMask)}
	node.RegisterFunc(composite, imageCompositeMasked)

	toImage := v1("MaskToImage", "mask", []node.Input{node.In("mask", node.TypeMask)}, node.TypeImage)
	toImage.DisplayName = "Convert Mask to Image"
	node.RegisterFunc(toImage, maskToImage)

	toMask := v1("ImageToMask", "mask", []node.Input{
		node.In("image", node.TypeImage),
		node.Combo("channel", []string{"red", "green", "blue", "alpha"}),
	}, node.TypeMask)
	toMask.DisplayName = "Convert Image to Mask"
	node.RegisterFunc(toMask, imageToMask)

	node.RegisterFunc(v1("ImageColorToMask", "mask", []node.Input{
		node.In("image", node.TypeImage),
		node.In("color", node.TypeInt, "default", 0, "min", 0, "max", 0xFFFFFF, "step", 1, "display", "color"),
	}, node.TypeMask), imageColorToMask)

	node.RegisterFunc(v1("SolidMask", "mask", []node.Input{
		node.In("value", node.TypeFloat, "default", 1.0, "min", 0.0, "max", 1.0, "step", 0.01),
		node.In("width", node.TypeInt, "default", 512, "min", 1, "max", maxRes, "step", 1),
		node.In("height", node.TypeInt, "default", 512, "min", 1, "max", maxRes, "step", 1),
	}, node.TypeMask), solidMask)

	node.RegisterFunc(v1("InvertMask", "mask", []node.Input{node.In("mask", node.TypeMask)}, node.TypeMask), invertMask)

	node.RegisterFunc(v1("CropMask", "mask", []node.Input{
		node.In("mask", node.TypeMask),
		node.In("x", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("y", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("width", node.TypeInt, "default", 512, "min", 1, "max", maxRes, "step", 1),
		node.In("height", node.TypeInt, "default", 512, "min", 1, "max", maxRes, "step", 1),
	}, node.TypeMask), cropMask)

	node.RegisterFunc(v1("MaskComposite", "mask", []node.Input{
		node.In("destination", node.TypeMask), node.In("source", node.TypeMask),
		node.In("x", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("y", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.Combo("operation", []string{"multiply", "add", "subtract", "and", "or", "xor"}),
	}, node.TypeMask), maskComposite)

	node.RegisterFunc(v1("FeatherMask", "mask", []node.Input{
		node.In("mask", node.TypeMask),
		node.In("left", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("top", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("right", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
		node.In("bottom", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 1),
	}, node.TypeMask), featherMask)

	node.RegisterFunc(v1("GrowMask", "mask", []node.Input{
		node.In("mask", node.TypeMask),
		node.In("expand", node.TypeInt, "default", 0, "min", -maxRes, "max", maxRes, "step", 1),
		node.In("tapered_corners", node.TypeBoolean, "default", true),
	}, node.TypeMask), growMask)

	node.RegisterFunc(v1("ThresholdMask", "mask", []node.Input{
		node.In("mask", node.TypeMask),
		node.In("value", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 1.0, "step", 0.01),
	}, node.TypeMask), thresholdMask)

	preview := v1("MaskPreview", "mask", []node.Input{node.In("mask", node.TypeMask)})
	preview.OutputNode = true
	preview.Description = "Saves the input images to your ComfyUI output directory."
	preview.Hidden = []node.Hidden{{Name: "prompt", Kind: node.HiddenPrompt}, {Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo}}
	node.Register(&node.Def{Spec: preview, New: newMaskPreview})
}

// imageCompositeMasked: image_alpha_fix, then composite with multiplier 1.
func imageCompositeMasked(c *node.Context, in node.Inputs) (*node.Result, error) {
	dst, err := imageIn(in, "destination")
	if err != nil {
		return nil, err
	}
	src, err := imageIn(in, "source")
	if err != nil {
		return nil, err
	}
	var m *tensor.Tensor
	if in.Has("mask") {
		if m, err = maskIn(in, "mask"); err != nil {
			return nil, err
		}
	}
	dst, src = imageops.AlphaFix(dst, src)
	out, err := imageops.Composite(dst, src, int(in.Int("x")), int(in.Int("y")), m, in.Bool("resize_source"))
	if err != nil {
		return nil, node.Errorf("RuntimeError", "%v", err)
	}
	return node.Outputs(out), nil
}

// maskToImage: the mask repeated into three channels.
func maskToImage(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := maskIn(in, "mask")
	if err != nil {
		return nil, err
	}
	m = m.Contiguous()
	out := tensor.New(m.Shape[0], m.Shape[1], m.Shape[2], 3)
	for i, v := range m.Data[:m.Len()] {
		out.Data[3*i], out.Data[3*i+1], out.Data[3*i+2] = v, v, v
	}
	return node.Outputs(out), nil
}

// imageToMask picks one channel (red=0 … alpha=3) without inverting it.
// An image without the channel fails as torch's indexing does.
func imageToMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	ch := map[string]int{"red": 0, "green": 1, "blue": 2, "alpha": 3}[in.String("channel")]
	if ch >= img.Dim(3) {
		return nil, node.Errorf("IndexError", "index %d is out of bounds for dimension 3 with size %d", ch, img.Dim(3))
	}
	return node.Outputs(img.Select(3, ch).Clone()), nil
}

// imageColorToMask: 1 where round(clamp(v,0,1)·255) of R, G, B (torch.round:
// half to even) packed as 0xRRGGBB equals color.
func imageColorToMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	if img.Dim(3) < 3 {
		return nil, node.Errorf("IndexError", "index 2 is out of bounds for dimension 3 with size %d", img.Dim(3))
	}
	img = img.Contiguous()
	color := in.Int("color")
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	out := tensor.New(B, H, W)
	q := func(v float32) int64 {
		return int64(math.RoundToEven(float64(min(max(v, 0), 1) * 255)))
	}
	for p := range out.Data {
		px := img.Data[p*C:]
		if q(px[0])<<16+q(px[1])<<8+q(px[2]) == color {
			out.Data[p] = 1
		}
	}
	return node.Outputs(out), nil
}

// solidMask: [1, height, width] filled with value.
func solidMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	w, h := int(in.Int("width")), int(in.Int("height"))
	if w < 0 || h < 0 {
		return nil, node.Errorf("RuntimeError", "Trying to create tensor with negative dimension")
	}
	return node.Outputs(tensor.Full(float32(in.Float("value")), 1, h, w)), nil
}

func invertMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := tensorIn(in, "mask")
	if err != nil {
		return nil, err
	}
	out := m.Clone()
	for i, v := range out.Data {
		out.Data[i] = 1 - v
	}
	return node.Outputs(out), nil
}

// pySlice is Python's a[lo:lo+n] on a dimension of size size (lo ≥ 0):
// the part inside the dimension, possibly empty.
func pySlice(lo, n, size int) (int, int) {
	a := min(lo, size)
	b := min(lo+n, size)
	if b < a {
		b = a
	}
	return a, b
}

// cropMask slices mask[:, y:y+height, x:x+width]; like torch, a crop that
// starts past the edge is empty (0 rows or columns), not an error.
func cropMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := maskIn(in, "mask")
	if err != nil {
		return nil, err
	}
	y0, y1 := pySlice(int(in.Int("y")), int(in.Int("height")), m.Shape[1])
	x0, x1 := pySlice(int(in.Int("x")), int(in.Int("width")), m.Shape[2])
	return node.Outputs(m.Slice(1, y0, y1).Slice(2, x0, x1).Clone()), nil
}

// maskComposite combines source placed at (x, y) with destination inside
// the overlap; and/or/xor work on round()ed values (torch.round: half to
// even, so 0.5 counts as 0); the whole result is clamped to [0, 1]. The
// batch dimensions broadcast as torch's do (equal, or one of them 1 —
// the output keeps the destination's batch).
func maskComposite(c *node.Context, in node.Inputs) (*node.Result, error) {
	dst, err := maskIn(in, "destination")
	if err != nil {
		return nil, err
	}
	src, err := maskIn(in, "source")
	if err != nil {
		return nil, err
	}
	src = src.Contiguous()
	out := dst.Clone()
	B, H, W := out.Shape[0], out.Shape[1], out.Shape[2]
	sb, sh, sw := src.Shape[0], src.Shape[1], src.Shape[2]
	if sb != B && sb != 1 {
		return nil, node.Errorf("RuntimeError", "The size of tensor a (%d) must match the size of tensor b (%d) at non-singleton dimension 0", B, sb)
	}
	left, top := int(in.Int("x")), int(in.Int("y"))
	right, bottom := min(left+sw, W), min(top+sh, H)
	op := in.String("operation")
	round := func(v float32) bool { return math.RoundToEven(float64(v)) != 0 }
	b2f := func(b bool) float32 {
		if b {
			return 1
		}
		return 0
	}
	for b := 0; b < B; b++ {
		bs := b
		if sb == 1 {
			bs = 0
		}
		for y := top; y < bottom; y++ {
			for x := left; x < right; x++ {
				d := &out.Data[(b*H+y)*W+x]
				s := src.Data[(bs*sh+y-top)*sw+x-left]
				switch op {
				case "multiply":
					*d *= s
				case "add":
					*d += s
				case "subtract":
					*d -= s
				case "and":
					*d = b2f(round(*d) && round(s))
				case "or":
					*d = b2f(round(*d) || round(s))
				case "xor":
					*d = b2f(round(*d) != round(s))
				}
			}
		}
	}
	for i, v := range out.Data {
		out.Data[i] = min(max(v, 0), 1)
	}
	return node.Outputs(out), nil
}

func featherMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := maskIn(in, "mask")
	if err != nil {
		return nil, err
	}
	return node.Outputs(imageops.Feather(m, int(in.Int("left")), int(in.Int("top")), int(in.Int("right")), int(in.Int("bottom")))), nil
}

func growMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := maskIn(in, "mask")
	if err != nil {
		return nil, err
	}
	return node.Outputs(imageops.Grow(m, int(in.Int("expand")), in.Bool("tapered_corners"))), nil
}

// thresholdMask: (mask > value) as float, strictly greater; value is a
// Python float compared with float32 elements (torch compares in float32).
func thresholdMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := tensorIn(in, "mask")
	if err != nil {
		return nil, err
	}
	v := float32(in.Float("value"))
	out := m.Clone()
	for i, x := range out.Data {
		if x > v {
			out.Data[i] = 1
		} else {
			out.Data[i] = 0
		}
	}
	return node.Outputs(out), nil
}
