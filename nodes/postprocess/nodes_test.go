package postprocess

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/ml/rng"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

func num(v int) json.Number { return json.Number(strconv.Itoa(v)) }

func run(t *testing.T, class string, in node.Inputs) ([]any, error) {
	t.Helper()
	def, ok := node.Default.Get(class)
	if !ok {
		t.Fatalf("%s not registered", class)
	}
	res, err := def.New().Run(&node.Context{ClassType: class}, in)
	if err != nil {
		return nil, err
	}
	return res.Outputs, nil
}

func TestImageAddNoise(t *testing.T) {
	img := tensor.Full(0.5, 2, 3, 5, 3)
	out, err := run(t, "ImageAddNoise", node.Inputs{"image": img, "seed": json.Number("18446744073709551615"), "strength": api.Float(0.1)})
	if err != nil {
		t.Fatal(err)
	}
	got := out[0].(*tensor.Tensor)
	// torch.manual_seed(seed) with the full shape [B,H,W,C]: the batch items
	// get different noise; seeds above 2^32 use their low 32 bits.
	n := rng.NewTorch(math.MaxUint64).Randn(2, 3, 5, 3)
	for i, v := range got.Data {
		want := min(max(0.5+float32(0.1)*n.Data[i], 0), 1)
		if v != want {
			t.Fatalf("[%d] = %v, want %v", i, v, want)
		}
	}
	if got.Data[0] == got.Data[45] {
		t.Error("batch items share noise")
	}
}

func TestImagePadForOutpaint(t *testing.T) {
	img := tensor.Full(1, 2, 3, 4, 3)
	out, err := run(t, "ImagePadForOutpaint", node.Inputs{"image": img, "left": num(1), "top": num(2), "right": num(0), "bottom": num(1), "feathering": num(0)})
	if err != nil {
		t.Fatal(err)
	}
	im, m := out[0].(*tensor.Tensor), out[1].(*tensor.Tensor)
	if im.Dim(0) != 2 || im.Dim(1) != 6 || im.Dim(2) != 5 || m.Dim(0) != 1 || m.Dim(1) != 6 || m.Dim(2) != 5 {
		t.Fatalf("shapes %v %v", im.Shape, m.Shape)
	}
	if im.Data[0] != 0.5 || im.Data[((1*6+2)*5+1)*3] != 1 || m.Data[0] != 1 || m.Data[2*5+1] != 0 {
		t.Error("padding/placement")
	}
}

func TestImageBlendResizesAndBlendsAlpha(t *testing.T) {
	a := tensor.Full(0.4, 1, 4, 4, 4)
	b := tensor.Full(1, 2, 2, 2, 3) // other size, batch 2, no alpha
	out, err := run(t, "ImageBlend", node.Inputs{"image1": a, "image2": b, "blend_factor": api.Float(0.5), "blend_mode": "multiply"})
	if err != nil {
		t.Fatal(err)
	}
	o := out[0].(*tensor.Tensor)
	if o.Dim(0) != 2 || o.Dim(1) != 4 || o.Dim(3) != 4 {
		t.Fatalf("shape %v", o.Shape)
	}
	// image2 gets an opaque alpha; multiply at 0.5: 0.4·0.5 + 0.4·1·0.5.
	if math.Abs(float64(o.Data[0]-0.4)) > 1e-6 || math.Abs(float64(o.Data[3]-0.4)) > 1e-6 {
		t.Errorf("blend %v", o.Data[:4])
	}
	if _, err := run(t, "ImageBlend", node.Inputs{"image1": tensor.New(2, 2, 2, 3), "image2": tensor.New(3, 2, 2, 3), "blend_factor": api.Float(0.5), "blend_mode": "normal"}); err == nil {
		t.Error("batches 2 and 3 cannot broadcast")
	}
}

func TestBlurSharpenNodes(t *testing.T) {
	img := tensor.Full(0.3, 1, 8, 8, 3)
	for _, c := range []struct {
		class string
		in    node.Inputs
	}{
		{"ImageBlur", node.Inputs{"blur_radius": num(3), "sigma": api.Float(1)}},
		{"ImageSharpen", node.Inputs{"sharpen_radius": num(2), "sigma": api.Float(1), "alpha": api.Float(1)}},
	} {
		c.in["image"] = img
		out, err := run(t, c.class, c.in)
		if err != nil {
			t.Fatal(err)
		}
		if v := out[0].(*tensor.Tensor).Data[0]; math.Abs(float64(v-0.3)) > 1e-5 {
			t.Errorf("%s of a constant: %v", c.class, v)
		}
	}
	// ComfyUI's reflect padding fails when the radius reaches the size.
	if _, err := run(t, "ImageBlur", node.Inputs{"image": tensor.New(1, 3, 3, 3), "blur_radius": num(3), "sigma": api.Float(1)}); err == nil {
		t.Error("blur radius 3 on a 3×3 image must fail")
	}
}

func TestImageQuantizeNode(t *testing.T) {
	img := tensor.New(1, 2, 2, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%3) * 0.5
	}
	out, err := run(t, "ImageQuantize", node.Inputs{"image": img, "colors": num(256), "dither": "none"})
	if err != nil {
		t.Fatal(err)
	}
	// One distinct colour (0, 127, 255 after truncation): kept as it is.
	o := out[0].(*tensor.Tensor)
	if o.Data[0] != 0 || o.Data[1] != 127.0/255 || o.Data[2] != 1 {
		t.Errorf("quantize %v", o.Data[:3])
	}
}
