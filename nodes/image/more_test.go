package image

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

func TestPreviewAnyText(t *testing.T) {
	obj, _ := api.Decode([]byte(`{"a": [1, 2.5, "x"], "b": null}`))
	cases := []struct {
		in   any
		want string
	}{
		{"hello", "hello"},
		{false, "False"},
		{true, "True"},
		{api.Float(0.1), "0.1"},
		{api.Float(5), "5.0"},
		{api.Int(42), "42"},
		{api.Float(math.NaN()), "nan"},
		{api.Float(math.Inf(-1)), "-inf"},
		{int64(7), "7"},
		{nil, "None"},
		{obj, `{"a": [1, 2.5, "x"], "b": null}`},
		{[]any{"é"}, `["\u00e9"]`},
		{tensor.FromData([]float32{1, 2, 3, 4}, 2, 2), "tensor([[1., 2.],\n        [3., 4.]])"},
		{[]any{tensor.FromData([]float32{0.5}, 1), "q"}, "[tensor([0.5000]), 'q']"},
	}
	for _, c := range cases {
		res := run(t, nil, "PreviewAny", node.Inputs{"source": c.in})
		got := res.UI.Values["text"]
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%#v: got %q want %q", c.in, got, c.want)
		}
	}
}

func TestTorchRepr(t *testing.T) {
	cases := []struct {
		t    *tensor.Tensor
		want string
	}{
		{tensor.FromData([]float32{0.5, 0.25}, 2), "tensor([0.5000, 0.2500])"},
		{tensor.FromData([]float32{0.1, -2.5}, 2), "tensor([ 0.1000, -2.5000])"},
		{tensor.FromData([]float32{0, 0}, 2), "tensor([0., 0.])"},
		{tensor.FromData([]float32{1e-5, 1}, 2), "tensor([1.0000e-05, 1.0000e+00])"},
		{tensor.New(1001), "tensor([0., 0., 0.,  ..., 0., 0., 0.])"},
		{tensor.New(1, 2, 2, 3), "tensor([[[[0., 0., 0.],\n          [0., 0., 0.]],\n\n         [[0., 0., 0.],\n          [0., 0., 0.]]]])"},
	}
	for _, c := range cases {
		if got := TorchRepr(c.t); got != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.t.Shape, got, c.want)
		}
	}
	// Long vectors wrap at 80 columns.
	long := TorchRepr(tensor.Full(0.5, 20))
	if lines := strings.Split(long, "\n"); len(lines) != 3 || strings.Count(lines[0], "0.5000") != 9 || !strings.HasPrefix(lines[1], "        0.5000") {
		t.Fatalf("%q", long)
	}
}

func TestImageStitch(t *testing.T) {
	env := newTestEnv(t)
	a := img(1, 2, 2, 3, func(int) float32 { return 0.25 })
	b := img(2, 4, 1, 3, func(int) float32 { return 0.75 })
	// No matching: b is taller, a is padded centred (1 row top and bottom)
	// with white, batch of a repeated, 2 columns of spacing.
	out := run(t, env, "ImageStitch", node.Inputs{"image1": a, "image2": b, "direction": "left", "match_image_size": false,
		"spacing_width": api.Int(1), "spacing_color": "white"}).Outputs[0].(*tensor.Tensor)
	if s := out.Shape; s[0] != 2 || s[1] != 4 || s[2] != 1+2+2 || s[3] != 3 {
		t.Fatalf("shape %v", s)
	}
	at := func(b, y, x, c int) float32 { return out.At(b, y, x, c) }
	if at(1, 0, 0, 0) != 0.75 || at(1, 0, 1, 0) != 1 || at(1, 0, 3, 0) != 1 || at(1, 1, 3, 0) != 0.25 || at(1, 3, 4, 0) != 1 {
		t.Fatalf("%v", out.Values()[:15])
	}
	// Coloured spacing pads with 0; RGBA + RGB → the RGB side gets alpha 1.
	c4 := img(1, 2, 2, 4, func(int) float32 { return 0.5 })
	out = run(t, env, "ImageStitch", node.Inputs{"image1": c4, "image2": a, "direction": "down", "match_image_size": false,
		"spacing_width": api.Int(2), "spacing_color": "red"}).Outputs[0].(*tensor.Tensor)
	if s := out.Shape; s[1] != 6 || s[2] != 2 || s[3] != 4 {
		t.Fatalf("shape %v", s)
	}
	if px := out.Values()[2*2*4 : 2*2*4+4]; px[0] != 1 || px[1] != 0 || px[2] != 0 || px[3] != 1 {
		t.Fatalf("spacing pixel %v", px)
	}
	if v := out.At(0, 5, 1, 3); v != 1 {
		t.Fatalf("alpha of image2 %v", v)
	}
	// Without image2 image1 passes through.
	if got := run(t, env, "ImageStitch", node.Inputs{"image1": a, "direction": "right", "match_image_size": true,
		"spacing_width": api.Int(0), "spacing_color": "white"}).Outputs[0]; got != a {
		t.Fatal("image1 not passed through")
	}
	// match_image_size: image2 scaled to image1's height, width int(h1*w2/h2).
	out = run(t, env, "ImageStitch", node.Inputs{"image1": img(1, 4, 4, 3, func(int) float32 { return 0 }), "image2": img(1, 2, 3, 3, func(int) float32 { return 1 }),
		"direction": "right", "match_image_size": true, "spacing_width": api.Int(0), "spacing_color": "white"}).Outputs[0].(*tensor.Tensor)
	if s := out.Shape; s[1] != 4 || s[2] != 4+6 {
		t.Fatalf("shape %v", s)
	}
}

func TestSaveAnimatedPNG(t *testing.T) {
	env := newTestEnv(t)
	prompt, _ := api.Decode([]byte(`{"1": {"class_type": "X"}}`))
	extra, _ := api.Decode([]byte(`{"workflow": {"a": 1}}`))
	images := img(3, 2, 2, 3, func(i int) float32 { return float32(i/12) / 2 })
	res := run(t, env, "SaveAnimatedPNG", node.Inputs{"images": images, "filename_prefix": "anim/x", "fps": api.Float(6),
		"compress_level": api.Int(4), "prompt": prompt, "extra_pnginfo": extra})
	if got := string(api.MustMarshal(res.UI.Values)); got != `{"animated":[true],"images":[{"filename":"x_00001_.png","subfolder":"anim","type":"output"}]}` {
		t.Fatal(got)
	}
	data, err := os.ReadFile(filepath.Join(env.OutputDir(), "anim", "x_00001_.png"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := imageio.ReadChunks(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var comf []string
	frames := -1
	for _, c := range chunks {
		switch c.Type {
		case "comf":
			comf = append(comf, string(c.Data))
		case "acTL":
			frames = int(binary.BigEndian.Uint32(c.Data))
		case "fcTL":
			if d := binary.BigEndian.Uint16(c.Data[20:]); d != 166 {
				t.Fatalf("delay %d", d)
			}
		}
	}
	if frames != 3 || len(comf) != 2 || comf[0] != "prompt\x00{\"1\": {\"class_type\": \"X\"}}" || comf[1] != "workflow\x00{\"a\": 1}" {
		t.Fatalf("frames %d comf %q", frames, comf)
	}
}

func TestSaveAnimatedWEBP(t *testing.T) {
	env := newTestEnv(t)
	prompt, _ := api.Decode([]byte(`{"1": {"class_type": "X"}}`))
	extra, _ := api.Decode([]byte(`{"workflow": {"a": 1}, "k": 2}`))
	images := img(2, 3, 4, 3, func(i int) float32 { return float32(i%5) / 4 })
	res := run(t, env, "SaveAnimatedWEBP", node.Inputs{"images": images, "filename_prefix": "w", "fps": api.Float(3),
		"lossless": true, "quality": api.Int(80), "method": "fastest", "prompt": prompt, "extra_pnginfo": extra})
	if got := string(api.MustMarshal(res.UI.Values)); got != `{"animated":[true],"images":[{"filename":"w_00001_.webp","subfolder":"","type":"output"}]}` {
		t.Fatal(got)
	}
	data, _ := os.ReadFile(filepath.Join(env.OutputDir(), "w_00001_.webp"))
	chunks, err := imageio.WebPChunks(data)
	if err != nil {
		t.Fatal(err)
	}
	var exif map[uint16]string
	anmf := 0
	for _, c := range chunks {
		switch c.Type {
		case "EXIF":
			exif = imageio.ReadExifASCII(c.Data)
		case "ANMF":
			anmf++
			if d := int(c.Data[12]) | int(c.Data[13])<<8; d != 333 {
				t.Fatalf("duration %d", d)
			}
		}
	}
	if anmf != 2 || exif[0x0110] != `prompt:{"1": {"class_type": "X"}}` || exif[0x010f] != `workflow:{"a": 1}` || exif[0x010e] != "k:2" {
		t.Fatalf("frames %d exif %v", anmf, exif)
	}
	d, err := imageio.Decode(data)
	if err != nil || len(d.Frames) != 2 {
		t.Fatal(err)
	}
	want, _ := frame8(images, 1)
	if !bytes.Equal(d.Frames[1].RGBA.DropAlpha().Pix, want.Pix) {
		t.Fatal("lossless frame differs")
	}
}
