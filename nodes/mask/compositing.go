package mask

import (
	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

func v3(name, category string, req []node.Input, out ...string) node.Spec {
	s := node.Spec{Name: name, Category: category, PythonModule: modCompos, Required: req, V3: true}
	for _, o := range out {
		s.Outputs = append(s.Outputs, node.Output{Type: o})
	}
	return s
}

func init() {
	pd := v3("PorterDuffImageComposite", "mask/compositing", []node.Input{
		node.In("source", node.TypeImage), node.In("source_alpha", node.TypeMask),
		node.In("destination", node.TypeImage), node.In("destination_alpha", node.TypeMask),
		node.In("mode", node.TypeCombo, "default", "DST", "multiselect", false, "options", imageops.PorterDuffModes),
	}, node.TypeImage, node.TypeMask)
	pd.DisplayName = "Porter-Duff Image Composite"
	node.RegisterFunc(pd, porterDuff)

	split := v3("SplitImageWithAlpha", "mask/compositing", []node.Input{node.In("image", node.TypeImage)}, node.TypeImage, node.TypeMask)
	split.DisplayName = "Split Image with Alpha"
	node.RegisterFunc(split, splitImageWithAlpha)

	join := v3("JoinImageWithAlpha", "mask/compositing", []node.Input{node.In("image", node.TypeImage), node.In("alpha", node.TypeMask)}, node.TypeImage)
	join.DisplayName = "Join Image with Alpha"
	node.RegisterFunc(join, joinImageWithAlpha)
}

// joinImageWithAlpha: image and mask repeated to the larger batch; the mask
// resized bilinear to the image size; RGB plus alpha = 1 − mask.
func joinImageWithAlpha(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	m, err := maskIn(in, "alpha")
	if err != nil {
		return nil, err
	}
	if img.Dim(3) < 3 {
		return nil, node.Errorf("RuntimeError", "image has %d channels, want at least 3", img.Dim(3))
	}
	n := max(img.Dim(0), m.Dim(0))
	img = imageops.RepeatToBatch(img, n).Contiguous()
	m = imageops.RepeatToBatch(m, n)
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	if m, err = imageops.Resize(m, W, H, imageops.Bilinear); err != nil {
		return nil, node.Errorf("RuntimeError", "%v", err)
	}
	out := tensor.New(B, H, W, 4)
	for p := 0; p < B*H*W; p++ {
		copy(out.Data[4*p:4*p+3], img.Data[p*C:p*C+3])
		out.Data[4*p+3] = 1 - m.Data[p]
	}
	return node.Outputs(out), nil
}

// splitImageWithAlpha: RGB, and mask = 1 − alpha (0 without alpha).
func splitImageWithAlpha(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	img = img.Contiguous()
	B, H, W, C := img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	rgb := img.Slice(3, 0, min(3, C)).Clone()
	m := tensor.New(B, H, W)
	if C > 3 {
		for p := range m.Data {
			m.Data[p] = 1 - img.Data[p*C+3]
		}
	}
	return node.Outputs(rgb, m), nil
}

// porterDuff runs per batch item up to the smallest of the four batches:
// the destination alpha, then the source and its alpha, are resized bicubic
// (centre crop) to the destination when their sizes differ.
func porterDuff(c *node.Context, in node.Inputs) (*node.Result, error) {
	src, err := imageIn(in, "source")
	if err != nil {
		return nil, err
	}
	dst, err := imageIn(in, "destination")
	if err != nil {
		return nil, err
	}
	sa, err := maskIn(in, "source_alpha")
	if err != nil {
		return nil, err
	}
	da, err := maskIn(in, "destination_alpha")
	if err != nil {
		return nil, err
	}
	mode := in.String("mode")
	n := min(src.Dim(0), dst.Dim(0), sa.Dim(0), da.Dim(0))
	H, W, C := dst.Dim(1), dst.Dim(2), dst.Dim(3)
	if src.Dim(3) != C {
		return nil, node.Errorf("AssertionError", "")
	}
	outImg := tensor.New(n, H, W, C)
	outMask := tensor.New(n, H, W)
	fit := func(t *tensor.Tensor, h, w int) (*tensor.Tensor, error) {
		if t.Dim(1) == h && t.Dim(2) == w {
			return t.Contiguous(), nil
		}
		return imageops.CommonUpscale(t, w, h, imageops.Bicubic, "center")
	}
	for i := 0; i < n; i++ {
		d := dst.Slice(0, i, i+1).Contiguous()
		dm, err := fit(da.Slice(0, i, i+1), H, W)
		if err != nil {
			return nil, node.Errorf("RuntimeError", "%v", err)
		}
		s, err := fit(src.Slice(0, i, i+1), H, W)
		if err != nil {
			return nil, node.Errorf("RuntimeError", "%v", err)
		}
		sm, err := fit(sa.Slice(0, i, i+1), dm.Dim(1), dm.Dim(2))
		if err != nil {
			return nil, node.Errorf("RuntimeError", "%v", err)
		}
		for p := 0; p < H*W; p++ {
			o := outImg.Data[(i*H*W+p)*C : (i*H*W+p+1)*C]
			mv, err := imageops.PorterDuff(mode, o, s.Data[p*C:(p+1)*C], d.Data[p*C:(p+1)*C], sm.Data[p], dm.Data[p])
			if err != nil {
				return nil, node.Errorf("KeyError", "%q", mode)
			}
			outMask.Data[i*H*W+p] = mv
		}
	}
	return node.Outputs(outImg, outMask), nil
}
