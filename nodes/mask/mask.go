// Package mask registers ComfyUI's mask nodes (comfy_extras.nodes_mask:
// ImageToMask, MaskToImage, ImageColorToMask, SolidMask, InvertMask,
// CropMask, MaskComposite, FeatherMask, GrowMask, ThresholdMask,
// MaskPreview, ImageCompositeMasked) and the alpha compositing nodes of
// comfy_extras.nodes_compositing (JoinImageWithAlpha, SplitImageWithAlpha,
// PorterDuffImageComposite) into node.Default.
//
// MASK values are *tensor.Tensor [B,H,W]; IMAGE values [B,H,W,C]. The pixel
// maths lives in ml/imageops; this package only adapts inputs and keeps
// ComfyUI's quirks. It imports node, ml/tensor, ml/imageops and nodes/image
// (SaveImages, shared with PreviewImage, for MaskPreview); it
// must not import the executor or the server.
package mask

import (
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

const (
	maxRes    = 16384
	modMask   = "comfy_extras.nodes_mask"
	modCompos = "comfy_extras.nodes_compositing"
)

// tensorIn returns a tensor input or a node error naming it.
func tensorIn(in node.Inputs, name string, dims ...int) (*tensor.Tensor, error) {
	t, ok := in.Get(name).(*tensor.Tensor)
	if !ok || t == nil {
		return nil, node.Errorf("TypeError", "input %s: %T is not a tensor", name, in.Get(name))
	}
	for _, d := range dims {
		if t.Dims() == d {
			return t, nil
		}
	}
	if len(dims) > 0 {
		return nil, node.Errorf("RuntimeError", "input %s: unexpected shape %v", name, t.Shape)
	}
	return t, nil
}

// maskIn returns a MASK as [B,H,W] (ComfyUI's mask.reshape((-1, H, W))).
func maskIn(in node.Inputs, name string) (*tensor.Tensor, error) {
	t, err := tensorIn(in, name, 2, 3)
	if err != nil {
		return nil, err
	}
	if t.Dims() == 2 {
		return t.Contiguous().Reshape(1, t.Shape[0], t.Shape[1]), nil
	}
	return t, nil
}

func imageIn(in node.Inputs, name string) (*tensor.Tensor, error) {
	return tensorIn(in, name, 4)
}

func v1(name, category string, req []node.Input, out ...string) node.Spec {
	s := node.Spec{Name: name, Category: category, PythonModule: modMask, Required: req}
	for _, o := range out {
		s.Outputs = append(s.Outputs, node.Output{Type: o})
	}
	return s
}
