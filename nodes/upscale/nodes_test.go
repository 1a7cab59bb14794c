package upscale

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

func num(v int) json.Number { return json.Number(strconv.Itoa(v)) }

func scale(t *testing.T, class string, in node.Inputs) (*tensor.Tensor, error) {
	t.Helper()
	def, _ := node.Default.Get(class)
	res, err := def.New().Run(&node.Context{}, in)
	if err != nil {
		return nil, err
	}
	return res.Outputs[0].(*tensor.Tensor), nil
}

func TestImageScaleSizes(t *testing.T) {
	img := tensor.New(2, 29, 37, 3)
	for _, c := range []struct {
		w, h, ww, wh int
		crop         string
	}{
		{0, 0, 37, 29, "disabled"},  // pass-through
		{17, 0, 17, 13, "center"},   // round(29·17/37) = round(13.32)
		{0, 10, 13, 10, "disabled"}, // round(37·10/29) = round(12.76)
		{50, 7, 50, 7, "center"},
		{1, 0, 1, 1, "disabled"}, // max(1, round(0.78))
	} {
		o, err := scale(t, "ImageScale", node.Inputs{"image": img, "upscale_method": "bilinear", "width": num(c.w), "height": num(c.h), "crop": c.crop})
		if err != nil {
			t.Fatal(err)
		}
		if o.Dim(0) != 2 || o.Dim(2) != c.ww || o.Dim(1) != c.wh {
			t.Errorf("%d×%d: got %v, want %d×%d", c.w, c.h, o.Shape, c.ww, c.wh)
		}
	}
}

func TestImageScaleByAndTotalPixels(t *testing.T) {
	img := tensor.New(1, 29, 37, 3)
	o, err := scale(t, "ImageScaleBy", node.Inputs{"image": img, "upscale_method": "nearest-exact", "scale_by": api.Float(1.37)})
	if err != nil || o.Dim(2) != 51 || o.Dim(1) != 40 {
		t.Fatalf("ScaleBy: %v %v", o, err)
	}
	// round(2·0.25) = round(0.5) = 0 → torch fails on a zero size.
	if _, err := scale(t, "ImageScaleBy", node.Inputs{"image": tensor.New(1, 2, 2, 3), "upscale_method": "area", "scale_by": api.Float(0.25)}); err == nil {
		t.Error("zero-size scale must fail")
	}
	o, err = scale(t, "ImageScaleToTotalPixels", node.Inputs{"image": img, "upscale_method": "bicubic", "megapixels": api.Float(0.03)})
	if err != nil || o.Dim(2) != 200 || o.Dim(1) != 157 {
		t.Fatalf("TotalPixels: %v %v", o.Shape, err)
	}
}
