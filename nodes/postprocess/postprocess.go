// Package postprocess registers ComfyUI's image filter nodes into
// node.Default: ImageBlend, ImageBlur, ImageSharpen and ImageQuantize
// (comfy_extras.nodes_post_processing), ImageAddNoise
// (comfy_extras.nodes_images) and ImagePadForOutpaint (nodes.py).
//
// It imports node, ml/tensor, ml/imageops and ml/rng; it must not import
// the executor or the server.
package postprocess

import (
	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/rng"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

const (
	maxRes = 16384
	modPP  = "comfy_extras.nodes_post_processing"
)

func v3(name string, req []node.Input) node.Spec {
	return node.Spec{Name: name, Category: "image/postprocessing", PythonModule: modPP, V3: true,
		Required: req, Outputs: []node.Output{{Type: node.TypeImage}}}
}

func init() {
	node.RegisterFunc(v3("ImageBlend", []node.Input{
		node.In("image1", node.TypeImage), node.In("image2", node.TypeImage),
		node.In("blend_factor", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 1.0, "step", 0.01),
		node.In("blend_mode", node.TypeCombo, "multiselect", false, "options", imageops.BlendModes),
	}), imageBlend)
	node.RegisterFunc(v3("ImageBlur", []node.Input{
		node.In("image", node.TypeImage),
		node.In("blur_radius", node.TypeInt, "default", 1, "min", 1, "max", 31, "step", 1),
		node.In("sigma", node.TypeFloat, "default", 1.0, "min", 0.1, "max", 10.0, "step", 0.1),
	}), imageBlur)
	node.RegisterFunc(v3("ImageQuantize", []node.Input{
		node.In("image", node.TypeImage),
		node.In("colors", node.TypeInt, "default", 256, "min", 1, "max", 256, "step", 1),
		node.In("dither", node.TypeCombo, "multiselect", false, "options", []string{"none", "floyd-steinberg", "bayer-2", "bayer-4", "bayer-8", "bayer-16"}),
	}), imageQuantize)
	node.RegisterFunc(v3("ImageSharpen", []node.Input{
		node.In("image", node.TypeImage),
		node.In("sharpen_radius", node.TypeInt, "default", 1, "min", 1, "max", 31, "step", 1),
		node.In("sigma", node.TypeFloat, "default", 1.0, "min", 0.1, "max", 10.0, "step", 0.01),
		node.In("alpha", node.TypeFloat, "default", 1.0, "min", 0.0, "max", 5.0, "step", 0.01),
	}), imageSharpen)

	node.RegisterFunc(node.Spec{Name: "ImagePadForOutpaint", DisplayName: "Pad Image for Outpainting", Category: "image",
		Required: []node.Input{
			node.In("image", node.TypeImage),
			node.In("left", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 8),
			node.In("top", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 8),
			node.In("right", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 8),
			node.In("bottom", node.TypeInt, "default", 0, "min", 0, "max", maxRes, "step", 8),
			node.In("feathering", node.TypeInt, "default", 40, "min", 0, "max", maxRes, "step", 1),
		},
		Outputs: []node.Output{{Type: node.TypeImage}, {Type: node.TypeMask}}}, imagePadForOutpaint)

	node.RegisterFunc(node.Spec{Name: "ImageAddNoise", Category: "image", PythonModule: "comfy_extras.nodes_images",
		Required: []node.Input{
			node.In("image", node.TypeImage),
			node.In("seed", node.TypeInt, "default", 0, "min", 0, "max", node.MaxUint64, "control_after_generate", true, "tooltip", "The random seed used for creating the noise."),
			node.In("strength", node.TypeFloat, "default", 0.5, "min", 0.0, "max", 1.0, "step", 0.01),
		},
		Outputs: []node.Output{{Type: node.TypeImage}}}, imageAddNoise)
}

func imageIn(in node.Inputs, name string) (*tensor.Tensor, error) {
	t, ok := in.Get(name).(*tensor.Tensor)
	if !ok || t == nil || t.Dims() != 4 {
		return nil, node.Errorf("TypeError", "input %s: %v is not an IMAGE", name, in.Get(name))
	}
	return t, nil
}

// imageBlend: image_alpha_fix; image2 of another shape is resized bicubic
// with centre crop to image1's size; blend; clamp. A batch of 1 broadcasts
// against the other batch as torch does. Alpha is blended like a colour
// channel, as in 0.3.64 (later ComfyUI keeps image1's alpha).
func imageBlend(c *node.Context, in node.Inputs) (*node.Result, error) {
	a, err := imageIn(in, "image1")
	if err != nil {
		return nil, err
	}
	b, err := imageIn(in, "image2")
	if err != nil {
		return nil, err
	}
	a, b = imageops.AlphaFix(a, b)
	if a.Dim(1) != b.Dim(1) || a.Dim(2) != b.Dim(2) {
		if b, err = imageops.CommonUpscale(b, a.Dim(2), a.Dim(1), imageops.Bicubic, "center"); err != nil {
			return nil, node.Errorf("RuntimeError", "%v", err)
		}
	}
	n := max(a.Dim(0), b.Dim(0))
	if (a.Dim(0) != n && a.Dim(0) != 1) || (b.Dim(0) != n && b.Dim(0) != 1) {
		return nil, node.Errorf("RuntimeError", "The size of tensor a (%d) must match the size of tensor b (%d) at non-singleton dimension 0", a.Dim(0), b.Dim(0))
	}
	a, b = imageops.RepeatToBatch(a, n).Contiguous(), imageops.RepeatToBatch(b, n).Contiguous()
	out, err := imageops.Blend(a, b, in.Float("blend_factor"), in.String("blend_mode"))
	if err != nil {
		return nil, node.Errorf("ValueError", "%v", err)
	}
	return node.Outputs(out), nil
}

func imageBlur(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	r := int(in.Int("blur_radius"))
	if r == 0 {
		return node.Outputs(img), nil
	}
	out, err := imageops.Blur(img, r, in.Float("sigma"))
	if err != nil {
		return nil, node.Errorf("RuntimeError", "%v", err)
	}
	return node.Outputs(out), nil
}

func imageSharpen(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	r := int(in.Int("sharpen_radius"))
	if r == 0 {
		return node.Outputs(img), nil
	}
	out, err := imageops.Sharpen(img, r, in.Float("sigma"), in.Float("alpha"))
	if err != nil {
		return nil, node.Errorf("RuntimeError", "%v", err)
	}
	return node.Outputs(out), nil
}

// imagePadForOutpaint: the image placed on a 0.5 grey canvas grown by the
// four sides, and imageops.OutpaintMask ([1,H,W], not batched).
func imagePadForOutpaint(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	img = img.Contiguous()
	l, t, r, b := int(in.Int("left")), int(in.Int("top")), int(in.Int("right")), int(in.Int("bottom"))
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	NH, NW := H+t+b, W+l+r
	out := tensor.Full(0.5, B, NH, NW, C)
	for bi := 0; bi < B; bi++ {
		for y := 0; y < H; y++ {
			copy(out.Data[((bi*NH+y+t)*NW+l)*C:((bi*NH+y+t)*NW+l+W)*C], img.Data[(bi*H+y)*W*C:(bi*H+y+1)*W*C])
		}
	}
	return node.Outputs(out, imageops.OutpaintMask(H, W, l, t, r, b, int(in.Int("feathering")))), nil
}

// imageAddNoise: torch.manual_seed(seed); clip(image + strength ·
// torch.randn(image.shape), 0, 1). The noise has the image's own shape
// [B,H,W,C], so a batch gets different noise per item.
func imageAddNoise(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	img = img.Contiguous()
	noise := rng.NewTorch(in.Uint64("seed")).Randn(img.Shape...)
	s := float32(in.Float("strength"))
	for i, v := range img.Data[:img.Len()] {
		noise.Data[i] = min(max(v+s*noise.Data[i], 0), 1)
	}
	return node.Outputs(noise), nil
}
