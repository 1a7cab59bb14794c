package postprocess

import (
	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/node"
)

// imageQuantize: per image, a palette of `colors` colours from Pillow's
// median cut over the 8-bit RGB pixels, then mapping to it with the chosen
// dither; alpha, if any, is appended unchanged.
func imageQuantize(c *node.Context, in node.Inputs) (*node.Result, error) {
	img, err := imageIn(in, "image")
	if err != nil {
		return nil, err
	}
	out, err := imageops.Quantize(img, int(in.Int("colors")), in.String("dither"))
	if err != nil {
		return nil, node.Errorf("ValueError", "%v", err)
	}
	return node.Outputs(out), nil
}
