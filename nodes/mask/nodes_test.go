package mask

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

type testEnv struct{ dir string }

func (e testEnv) InputDir() string                         { return e.dir }
func (e testEnv) OutputDir() string                        { return e.dir }
func (e testEnv) TempDir() string                          { return filepath.Join(e.dir, "temp") }
func (e testEnv) ModelFiles(string) []string               { return nil }
func (e testEnv) ModelPath(string, string) (string, error) { return "", os.ErrNotExist }
func (e testEnv) DisableMetadata() bool                    { return false }

func num(v int) json.Number { return json.Number(itoa(v)) }

func itoa(v int) string { b, _ := json.Marshal(v); return string(b) }

func run(t *testing.T, class string, in node.Inputs) []any {
	t.Helper()
	res, err := runErr(t, class, in)
	if err != nil {
		t.Fatalf("%s: %v", class, err)
	}
	return res.Outputs
}

func runErr(t *testing.T, class string, in node.Inputs) (*node.Result, error) {
	t.Helper()
	def, ok := node.Default.Get(class)
	if !ok {
		t.Fatalf("%s not registered", class)
	}
	return def.New().Run(&node.Context{ClassType: class, Env: testEnv{t.TempDir()}}, in)
}

func mask(h, w int, vals ...float32) *tensor.Tensor {
	m := tensor.New(1, h, w)
	copy(m.Data, vals)
	return m
}

func TestMaskToImageAndBack(t *testing.T) {
	m := mask(1, 2, 0.25, 0.75)
	img := run(t, "MaskToImage", node.Inputs{"mask": m})[0].(*tensor.Tensor)
	if img.Dim(3) != 3 || img.Data[3] != 0.75 || img.Data[5] != 0.75 {
		t.Fatalf("MaskToImage: %v %v", img.Shape, img.Data)
	}
	// A 2-D mask (as some nodes produce) is reshaped to a batch of one.
	img = run(t, "MaskToImage", node.Inputs{"mask": tensor.New(3, 4)})[0].(*tensor.Tensor)
	if img.Dim(0) != 1 || img.Dim(1) != 3 {
		t.Fatalf("2-D mask: %v", img.Shape)
	}
	back := run(t, "ImageToMask", node.Inputs{"image": img, "channel": "green"})[0].(*tensor.Tensor)
	if back.Dims() != 3 {
		t.Fatal(back.Shape)
	}
	if _, err := runErr(t, "ImageToMask", node.Inputs{"image": img, "channel": "alpha"}); err == nil {
		t.Error("alpha of an RGB image must fail (torch IndexError)")
	}
}

func TestImageColorToMask(t *testing.T) {
	img := tensor.New(1, 1, 3, 3)
	// 0x12 = 18 → 18/255; 18.5/255 rounds half to even → 18; 19.5 → 20.
	copy(img.Data, []float32{18.0 / 255, 0x34 / 255.0, 0x56 / 255.0, 18.5 / 255, 0x34 / 255.0, 0x56 / 255.0, 19.5 / 255, 0x34 / 255.0, 0x56 / 255.0})
	m := run(t, "ImageColorToMask", node.Inputs{"image": img, "color": num(0x123456)})[0].(*tensor.Tensor)
	if m.Data[0] != 1 || m.Data[1] != 1 || m.Data[2] != 0 {
		t.Errorf("ImageColorToMask: %v", m.Data)
	}
}

func TestSolidInvertThreshold(t *testing.T) {
	s := run(t, "SolidMask", node.Inputs{"value": api.Float(0.25), "width": num(3), "height": num(2)})[0].(*tensor.Tensor)
	if s.Dim(0) != 1 || s.Dim(1) != 2 || s.Dim(2) != 3 || s.Data[5] != 0.25 {
		t.Fatalf("SolidMask: %v %v", s.Shape, s.Data)
	}
	inv := run(t, "InvertMask", node.Inputs{"mask": s})[0].(*tensor.Tensor)
	if inv.Data[0] != 0.75 || s.Data[0] != 0.25 {
		t.Error("InvertMask")
	}
	th := run(t, "ThresholdMask", node.Inputs{"mask": mask(1, 3, 0.4, 0.5, 0.6), "value": api.Float(0.5)})[0].(*tensor.Tensor)
	if th.Data[0] != 0 || th.Data[1] != 0 || th.Data[2] != 1 {
		t.Errorf("ThresholdMask is strict: %v", th.Data)
	}
}

func TestCropMask(t *testing.T) {
	m := mask(3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	c := run(t, "CropMask", node.Inputs{"mask": m, "x": num(1), "y": num(1), "width": num(2), "height": num(5)})[0].(*tensor.Tensor)
	if c.Dim(1) != 2 || c.Dim(2) != 2 || c.Values()[0] != 5 || c.Values()[3] != 10 {
		t.Errorf("CropMask cut at the edge: %v %v", c.Shape, c.Values())
	}
	// Starting past the edge gives an empty mask, as torch slicing does.
	c = run(t, "CropMask", node.Inputs{"mask": m, "x": num(9), "y": num(0), "width": num(2), "height": num(2)})[0].(*tensor.Tensor)
	if c.Dim(2) != 0 {
		t.Errorf("empty crop: %v", c.Shape)
	}
}

func TestMaskComposite(t *testing.T) {
	dst := mask(2, 3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5)
	src := mask(2, 2, 0.7, 0.7, 0.7, 0.7)
	get := func(op string) []float32 {
		return run(t, "MaskComposite", node.Inputs{"destination": dst, "source": src, "x": num(2), "y": num(1), "operation": op})[0].(*tensor.Tensor).Data
	}
	// Only (2,1) overlaps.
	if d := get("add"); d[5] != 1 || d[4] != 0.5 {
		t.Errorf("add (clamped): %v", d)
	}
	if d := get("subtract"); d[5] != 0 {
		t.Errorf("subtract (clamped): %v", d)
	}
	if d := get("multiply"); d[5] != 0.5*float32(0.7) {
		t.Errorf("multiply: %v", d)
	}
	// round(0.5) = 0 (half to even): 0.5 and 0.7 → false and true.
	if d := get("and"); d[5] != 0 {
		t.Errorf("and: %v", d)
	}
	if d := get("or"); d[5] != 1 {
		t.Errorf("or: %v", d)
	}
	if d := get("xor"); d[5] != 1 || d[0] != 0.5 {
		t.Errorf("xor: %v", d)
	}
	if dst.Data[5] != 0.5 {
		t.Error("destination modified")
	}
}

func TestGrowAndFeatherNodes(t *testing.T) {
	m := mask(3, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0)
	g := run(t, "GrowMask", node.Inputs{"mask": m, "expand": num(1), "tapered_corners": true})[0].(*tensor.Tensor)
	if g.Data[0] != 0 || g.Data[1] != 1 {
		t.Errorf("GrowMask tapered: %v", g.Data)
	}
	f := run(t, "FeatherMask", node.Inputs{"mask": tensor.Full(1, 1, 2, 4), "left": num(0), "top": num(0), "right": num(2), "bottom": num(0)})[0].(*tensor.Tensor)
	// right=2: column 0 × 1/2 (the -0 quirk), column 3 × 2/2.
	if f.Data[0] != 0.5 || f.Data[3] != 1 || f.Data[1] != 1 {
		t.Errorf("FeatherMask quirk: %v", f.Data)
	}
}

func TestImageCompositeMaskedBatches(t *testing.T) {
	dst := tensor.New(3, 4, 4, 3)
	src := tensor.Full(1, 2, 2, 2, 4) // RGBA source on an RGB destination
	src.Data[8*0+3] = 0
	out := run(t, "ImageCompositeMasked", node.Inputs{"destination": dst, "source": src, "x": num(1), "y": num(1), "resize_source": false})[0].(*tensor.Tensor)
	if out.Dim(0) != 3 || out.Dim(3) != 3 {
		t.Fatalf("destination batch and channels win: %v", out.Shape)
	}
	if out.Data[((2*4+1)*4+1)*3] != 1 || out.Data[0] != 0 {
		t.Error("placement in the repeated batch")
	}
	// The mask is resized bilinear to the source: a 1×1 mask of 0.5.
	out = run(t, "ImageCompositeMasked", node.Inputs{"destination": dst, "source": src, "x": num(0), "y": num(0), "resize_source": true, "mask": mask(1, 1, 0.5)})[0].(*tensor.Tensor)
	if out.Data[0] != 0.5 || out.Data[(4*4-1)*3] != 0.5 {
		t.Errorf("resize_source + mask: %v", out.Data[:6])
	}
}

func TestAlphaNodes(t *testing.T) {
	img := tensor.Full(0.5, 2, 2, 2, 3)
	joined := run(t, "JoinImageWithAlpha", node.Inputs{"image": img, "alpha": mask(1, 1, 0.25)})[0].(*tensor.Tensor)
	if joined.Dim(0) != 2 || joined.Dim(3) != 4 || joined.Data[3] != 0.75 || joined.Data[4*7+3] != 0.75 {
		t.Fatalf("JoinImageWithAlpha: %v %v", joined.Shape, joined.Data[:8])
	}
	out := run(t, "SplitImageWithAlpha", node.Inputs{"image": joined})
	rgb, m := out[0].(*tensor.Tensor), out[1].(*tensor.Tensor)
	if rgb.Dim(3) != 3 || m.Data[0] != 0.25 {
		t.Errorf("SplitImageWithAlpha: %v %v", rgb.Shape, m.Data[0])
	}
	out = run(t, "SplitImageWithAlpha", node.Inputs{"image": img})
	if out[1].(*tensor.Tensor).Data[0] != 0 {
		t.Error("no alpha → mask 0")
	}
	pd := run(t, "PorterDuffImageComposite", node.Inputs{"source": tensor.Full(1, 1, 2, 2, 3), "source_alpha": mask(1, 1, 0),
		"destination": tensor.New(2, 2, 2, 3), "destination_alpha": tensor.New(2, 2, 2), "mode": "SRC_OVER"})
	pi, pm := pd[0].(*tensor.Tensor), pd[1].(*tensor.Tensor)
	if pi.Dim(0) != 1 || pi.Data[0] != 1 || pm.Data[0] != 0 {
		t.Errorf("PorterDuff: %v %v %v", pi.Shape, pi.Data[0], pm.Data[0])
	}
}

func TestMaskPreviewSavesToTemp(t *testing.T) {
	def, _ := node.Default.Get("MaskPreview")
	env := testEnv{t.TempDir()}
	res, err := def.New().Run(&node.Context{Env: env}, node.Inputs{"mask": tensor.Full(0.5, 2, 3, 4)})
	if err != nil {
		t.Fatal(err)
	}
	items := res.UI.Values["images"]
	if len(items) != 2 {
		t.Fatalf("items %v", items)
	}
	b := api.MustMarshal(items[0])
	if !strings.Contains(string(b), `"type":"temp"`) && !strings.Contains(string(b), `"type": "temp"`) {
		t.Errorf("item %s", b)
	}
	files, _ := filepath.Glob(filepath.Join(env.TempDir(), "ComfyUI_temp_*_0000[12]_.png"))
	if len(files) != 2 {
		t.Errorf("files %v", files)
	}
}
