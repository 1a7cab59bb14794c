// Package upscale registers ComfyUI's image scaling nodes (nodes.py's
// ImageScale and ImageScaleBy, comfy_extras.nodes_post_processing's
// ImageScaleToTotalPixels) into node.Default. The resampling itself is
// ml/imageops.CommonUpscale (comfy.utils.common_upscale).
//
// It imports node, ml/tensor and ml/imageops; it must not import the
// executor or the server.
package upscale

import (
	"math"

	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

const maxRes = 16384

func init() {
	node.RegisterFunc(node.Spec{Name: "ImageScale", DisplayName: "Upscale Image", Category: "image/upscaling",
		Required: []node.Input{
			node.In("image", node.TypeImage),
			node.Combo("upscale_method", imageops.Methods),
			node.In("width", node.TypeInt, "default", 512, "min", 0, "max", maxRes, "step", 1),
			node.In("height", node.TypeInt, "default", 512, "min", 0, "max", maxRes, "step", 1),
			node.Combo("crop", []string{"disabled", "center"}),
		},
		Outputs: []node.Output{{Type: node.TypeImage}}}, imageScale)

	node.RegisterFunc(node.Spec{Name: "ImageScaleBy", DisplayName: "Upscale Image By", Category: "image/upscaling",
		Required: []node.Input{
			node.In("image", node.TypeImage),
			node.Combo("upscale_method", imageops.Methods),
			node.In("scale_by", node.TypeFloat, "default", 1.0, "min", 0.01, "max", 8.0, "step", 0.01),
		},
		Outputs: []node.Output{{Type: node.TypeImage}}}, imageScaleBy)

	node.RegisterFunc(node.Spec{Name: "ImageScaleToTotalPixels", Category: "image/upscaling", V3: true,
		PythonModule: "comfy_extras.nodes_post_processing",
		Required: []node.Input{
			node.In("image", node.TypeImage),
			node.In("upscale_method", node.TypeCombo, "multiselect", false, "options", imageops.Methods),
			node.In("megapixels", node.TypeFloat, "default", 1.0, "min", 0.01, "max", 16.0, "step", 0.01),
		},
		Outputs: []node.Output{{Type: node.TypeImage}}}, imageScaleToTotalPixels)
}

func imageIn(in node.Inputs) (*tensor.Tensor, error) {
	t, ok := in.Get("image").(*tensor.Tensor)
	if !ok || t == nil || t.Dims() != 4 {
		return nil, node.Errorf("TypeError", "input image: %v is not an IMAGE", in.Get("image"))
	}
	return t, nil
}

// pyRound is Python's round() of a float: half to even.
func pyRound(v float64) int { return int(math.RoundToEven(v)) }

func upscale(img *tensor.Tensor, w, h int, method, crop string) (*node.Result, error) {
	out, err := imageops.CommonUpscale(img, w, h, method, crop)
	if err != nil {
		// torch: "Input and output sizes should be greater than 0".
		return nil, node.Errorf("RuntimeError", "%v", err)
	}
	return node.Outputs(out), nil
}

// imageScale: width = height = 0 passes the image through; one side 0
// keeps the aspect ratio (max(1, round(...))).
func imageScale(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in)
	if err != nil {
		return nil, err
	}
	w, h := int(in.Int("width")), int(in.Int("height"))
	if w == 0 && h == 0 {
		return node.Outputs(img), nil
	}
	H, W := img.Dim(1), img.Dim(2)
	if w == 0 {
		w = max(1, pyRound(float64(W)*float64(h)/float64(H)))
	} else if h == 0 {
		h = max(1, pyRound(float64(H)*float64(w)/float64(W)))
	}
	return upscale(img, w, h, in.String("upscale_method"), in.String("crop"))
}

// imageScaleBy: each side round(side · scale_by), no crop. A side that
// rounds to 0 fails as torch does.
func imageScaleBy(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in)
	if err != nil {
		return nil, err
	}
	s := in.Float("scale_by")
	w := pyRound(float64(img.Dim(2)) * s)
	h := pyRound(float64(img.Dim(1)) * s)
	return upscale(img, w, h, in.String("upscale_method"), "disabled")
}

// imageScaleToTotalPixels (0.3.64): total = int(megapixels·1024·1024),
// scale = sqrt(total/(w·h)), sides round(side·scale).
func imageScaleToTotalPixels(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in)
	if err != nil {
		return nil, err
	}
	total := math.Trunc(in.Float("megapixels") * 1024 * 1024)
	H, W := img.Dim(1), img.Dim(2)
	scale := math.Sqrt(total / float64(W*H))
	return upscale(img, pyRound(float64(W)*scale), pyRound(float64(H)*scale), in.String("upscale_method"), "disabled")
}
