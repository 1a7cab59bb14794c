package mask

import (
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
	"github.com/comfyd/comfyd/nodes/image"
)

// maskPreview is MaskPreview, a SaveImage subclass writing to the temp
// folder: the mask repeated into grey RGB is saved as
// ComfyUI_temp_<5 letters>_NNNNN_.png (zlib level 4, ComfyUI's
// compress_level for this node) with the prompt metadata, and reported
// under "images" with type "temp". The letters are drawn once per instance,
// as ComfyUI draws them in __init__.
type maskPreview struct{ suffix string }

func newMaskPreview() node.Node { return &maskPreview{suffix: image.NewPreviewSuffix()} }

func (p *maskPreview) Run(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := maskIn(in, "mask")
	if err != nil {
		return nil, err
	}
	if c == nil || c.Env == nil {
		return nil, node.Errorf("RuntimeError", "MaskPreview needs the server's folders")
	}
	m = m.Contiguous()
	rgb := tensor.New(m.Shape[0], m.Shape[1], m.Shape[2], 3)
	for i, v := range m.Data[:m.Len()] {
		rgb.Data[3*i], rgb.Data[3*i+1], rgb.Data[3*i+2] = v, v, v
	}
	return image.SaveResult(c, in, rgb, image.SaveOptions{Dir: c.Env.TempDir(), Type: "temp", Prefix: "ComfyUI" + p.suffix, Level: 4})
}
