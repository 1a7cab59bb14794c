package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

type textRecorder struct{ texts []string }

func (r *textRecorder) Progress(*node.Context, float64, float64) {}
func (r *textRecorder) Preview(*node.Context, image.Image)       {}
func (r *textRecorder) Text(_ *node.Context, s string)           { r.texts = append(r.texts, s) }

func runNode(t *testing.T, env node.Env, n node.Node, in node.Inputs) *node.Result {
	t.Helper()
	res, err := n.Run(&node.Context{Env: env, UniqueID: "1"}, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func newNode(t *testing.T, class string) node.Node {
	def, ok := node.Default.Get(class)
	if !ok {
		t.Fatalf("%s not registered", class)
	}
	return def.New()
}

func run(t *testing.T, env node.Env, class string, in node.Inputs) *node.Result {
	t.Helper()
	return runNode(t, env, newNode(t, class), in)
}

func img(b, h, w, c int, f func(i int) float32) *tensor.Tensor {
	t := tensor.New(b, h, w, c)
	for i := range t.Data {
		t.Data[i] = f(i)
	}
	return t
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func uiItems(t *testing.T, res *node.Result) []*api.Object {
	var out []*api.Object
	for _, it := range res.UI.Values["images"] {
		out = append(out, it.(*api.Object))
	}
	return out
}

func str(o *api.Object, k string) string { v, _ := o.Get(k); s, _ := v.(string); return s }

// EmptyImage stores c/255 as float32; SaveImage multiplies by 255 in float32
// and truncates, so some colours come back one level lower (ComfyUI does the
// same: the golden emptyimage case pins it).
func TestEmptyImageAndTruncation(t *testing.T) {
	env := newTestEnv(t)
	res := run(t, env, "EmptyImage", node.Inputs{"width": api.Int(3), "height": api.Int(2), "batch_size": api.Int(2), "color": api.Int(0x12c8ff)})
	out := res.Outputs[0].(*tensor.Tensor)
	if got := out.Shape; got[0] != 2 || got[1] != 2 || got[2] != 3 || got[3] != 3 {
		t.Fatalf("shape %v", got)
	}
	if out.Data[0] != float32(float64(0x12)/255) || out.Data[1] != float32(200.0/255) || out.Data[2] != 1 {
		t.Fatalf("values %v", out.Data[:3])
	}
	save := run(t, env, "SaveImage", node.Inputs{"images": out, "filename_prefix": "e"})
	items := uiItems(t, save)
	m := readPNG(t, filepath.Join(env.OutputDir(), str(items[0], "filename"))).(*image.RGBA)
	want := []byte{byte(float32(float64(0x12)/255) * 255), byte(float32(200.0/255) * 255), 255}
	if !bytes.Equal(m.Pix[:3], want) {
		t.Fatalf("saved %v want %v", m.Pix[:3], want)
	}
}

func TestSaveImageNaming(t *testing.T) {
	env := newTestEnv(t)
	out := env.OutputDir()
	for _, f := range []string{"ComfyUI_00007_.png", "ComfyUI_abc_.png", "Other_00099_.png", "ComfyUI_00003_.webp", "comfyui_00050_.png"} {
		os.WriteFile(filepath.Join(out, f), nil, 0o644)
	}
	images := img(2, 2, 3, 3, func(i int) float32 { return 0.5 })
	items := uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images, "filename_prefix": "ComfyUI"}))
	if len(items) != 2 || str(items[0], "filename") != "ComfyUI_00008_.png" || str(items[1], "filename") != "ComfyUI_00009_.png" {
		t.Fatalf("names %v", api.MustMarshal(items))
	}
	if str(items[0], "subfolder") != "" || str(items[0], "type") != "output" {
		t.Fatal(api.MustMarshal(items[0]))
	}
	// Key order of a UI item is ComfyUI's.
	if got := string(api.MustMarshal(items[0])); got != `{"filename":"ComfyUI_00008_.png","subfolder":"","type":"output"}` {
		t.Fatal(got)
	}
	// Subfolders come from the prefix and are created.
	items = uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images, "filename_prefix": "foo/bar/baz"}))
	if str(items[0], "subfolder") != "foo/bar" || str(items[0], "filename") != "baz_00001_.png" {
		t.Fatal(api.MustMarshal(items))
	}
	if _, err := os.Stat(filepath.Join(out, "foo/bar/baz_00002_.png")); err != nil {
		t.Fatal(err)
	}
	// Server-side variables and %batch_num%.
	items = uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images, "filename_prefix": "s%width%x%height%_%batch_num%"}))
	if str(items[0], "filename") != "s3x2_0_00001_.png" || str(items[1], "filename") != "s3x2_1_00002_.png" {
		t.Fatal(api.MustMarshal(items))
	}
	if ok, _ := regexp.MatchString(`^d\d{4}-\d\d_00001_\.png$`, str(uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images.Slice(0, 0, 1), "filename_prefix": "d%year%-%month%"}))[0], "filename")); !ok {
		t.Fatal("date variables")
	}
	// Outside the output folder: ComfyUI's message.
	_, err := newNode(t, "SaveImage").Run(&node.Context{Env: env}, node.Inputs{"images": images, "filename_prefix": "../escape"})
	if err == nil || !strings.HasPrefix(err.Error(), "**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: "+env.base+"\n         output_dir: "+out+"\n         commonpath: "+env.base) {
		t.Fatalf("%v", err)
	}
	// "a/../b" stays inside.
	items = uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images.Slice(0, 0, 1), "filename_prefix": "a/../b"}))
	if str(items[0], "subfolder") != "" || str(items[0], "filename") != "b_00001_.png" {
		t.Fatal(api.MustMarshal(items))
	}
}

func TestSaveImageMetadata(t *testing.T) {
	env := newTestEnv(t)
	prompt, _ := api.Decode([]byte(`{"1": {"inputs": {"text": "café", "cfg": 8.0}, "class_type": "X"}}`))
	extra, _ := api.Decode([]byte(`{"workflow": {"nodes": [], "v": 0.4}, "other": 1}`))
	images := img(1, 1, 1, 3, func(int) float32 { return 0 })
	items := uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images, "filename_prefix": "m", "prompt": prompt, "extra_pnginfo": extra}))
	f, _ := os.Open(filepath.Join(env.OutputDir(), str(items[0], "filename")))
	texts, err := imageio.ReadPNGText(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := []imageio.Text{
		{Key: "prompt", Value: `{"1": {"inputs": {"text": "caf\u00e9", "cfg": 8.0}, "class_type": "X"}}`},
		{Key: "workflow", Value: `{"nodes": [], "v": 0.4}`},
		{Key: "other", Value: `1`},
	}
	if len(texts) != 3 || texts[0] != want[0] || texts[1] != want[1] || texts[2] != want[2] {
		t.Fatalf("%q", texts)
	}
	env.noMetadata = true
	items = uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images, "filename_prefix": "m", "prompt": prompt, "extra_pnginfo": extra}))
	f, _ = os.Open(filepath.Join(env.OutputDir(), str(items[0], "filename")))
	texts, _ = imageio.ReadPNGText(f)
	f.Close()
	if len(texts) != 0 {
		t.Fatalf("--disable-metadata still wrote %q", texts)
	}
}

func TestPreviewImage(t *testing.T) {
	env := newTestEnv(t)
	n := newNode(t, "PreviewImage")
	images := img(2, 3, 4, 4, func(i int) float32 { return float32(i%7) / 6 })
	re := regexp.MustCompile(`^ComfyUI_temp_([abcdefghijklmnopqrstupvxyz]{5})_(\d{5})_\.png$`)
	items := uiItems(t, runNode(t, env, n, node.Inputs{"images": images}))
	m0 := re.FindStringSubmatch(str(items[0], "filename"))
	if m0 == nil || m0[2] != "00001" || str(items[0], "type") != "temp" {
		t.Fatal(api.MustMarshal(items))
	}
	// Same instance → same suffix, counter continues.
	items = uiItems(t, runNode(t, env, n, node.Inputs{"images": images}))
	m1 := re.FindStringSubmatch(str(items[1], "filename"))
	if m1 == nil || m1[1] != m0[1] || m1[2] != "00004" {
		t.Fatal(api.MustMarshal(items))
	}
	got := readPNG(t, filepath.Join(env.TempDir(), str(items[1], "filename"))).(*image.NRGBA)
	if got.Bounds().Dx() != 4 || got.Bounds().Dy() != 3 || got.Pix[3] != imageio.FromFloatByte(images.Data[51]) {
		t.Fatalf("pixels %v", got.Pix[:4])
	}
}

func writePNG(t *testing.T, path string, m image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadImage(t *testing.T) {
	env := newTestEnv(t)
	rgba := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range rgba.Pix {
		rgba.Pix[i] = byte(i * 13)
	}
	data := writePNG(t, filepath.Join(env.InputDir(), "a.png"), rgba)
	rgb := image.NewRGBA(image.Rect(0, 0, 7, 2))
	for i := range rgb.Pix {
		rgb.Pix[i] = 255
	}
	writePNG(t, filepath.Join(env.OutputDir(), "b.png"), rgb)

	res := run(t, env, "LoadImage", node.Inputs{"image": "a.png"})
	im, mask := res.Outputs[0].(*tensor.Tensor), res.Outputs[1].(*tensor.Tensor)
	if im.Shape[0] != 1 || im.Shape[1] != 3 || im.Shape[2] != 5 || im.Shape[3] != 3 {
		t.Fatalf("image %v", im.Shape)
	}
	if mask.Shape[1] != 3 || mask.Shape[2] != 5 {
		t.Fatalf("mask %v", mask.Shape)
	}
	// pixel 1: RGBA bytes 4..7; mask = 1 - a/255.
	if im.Data[3] != float32(rgba.Pix[4])/255 || mask.Data[1] != 1-float32(rgba.Pix[7])/255 {
		t.Fatalf("values %v %v", im.Data[3], mask.Data[1])
	}
	// No alpha: the 64×64 zero-mask quirk; annotated names pick the folder.
	res = run(t, env, "LoadImage", node.Inputs{"image": "b.png [output]"})
	mask = res.Outputs[1].(*tensor.Tensor)
	if mask.Shape[1] != 64 || mask.Shape[2] != 64 || mask.Data[100] != 0 {
		t.Fatalf("mask %v", mask.Shape)
	}
	def, _ := node.Default.Get("LoadImage")
	fp, err := def.Fingerprinter.Fingerprint(env, node.Inputs{"image": "a.png"})
	sum := sha256.Sum256(data)
	if err != nil || fp != hex.EncodeToString(sum[:]) {
		t.Fatalf("fingerprint %v %v", fp, err)
	}
	if ok, msg := def.Validator.Validate(env, node.Inputs{"image": "missing.png"}, nil); ok || msg != "Invalid image file: missing.png" {
		t.Fatalf("%v %q", ok, msg)
	}
	if ok, _ := def.Validator.Validate(env, node.Inputs{"image": "b.png [output]"}, nil); !ok {
		t.Fatal("annotated output file rejected")
	}
	if ok, _ := def.Validator.Validate(env, node.Inputs{"image": "../output/b.png"}, nil); ok {
		t.Fatal("path traversal accepted")
	}
	if got := InputImages(env.InputDir()); len(got) != 1 || got[0] != "a.png" {
		t.Fatal(got)
	}
}

func TestLoadImagePaletteAndLA(t *testing.T) {
	env := newTestEnv(t)
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.NRGBA{1, 2, 3, 255}, color.NRGBA{9, 8, 7, 51}})
	pal.SetColorIndex(1, 0, 1)
	writePNG(t, filepath.Join(env.InputDir(), "p.png"), pal)
	res := run(t, env, "LoadImage", node.Inputs{"image": "p.png"})
	mask := res.Outputs[1].(*tensor.Tensor)
	if mask.Shape[1] != 1 || mask.Shape[2] != 2 || mask.Data[0] != 0 || mask.Data[1] != 1-float32(51)/255 {
		t.Fatalf("palette mask %v %v", mask.Shape, mask.Data)
	}
	// LA written by imageio (2 channels).
	la := &imageio.Image8{Width: 2, Height: 1, Channels: 2, Pix: []byte{10, 255, 20, 0}}
	var buf bytes.Buffer
	imageio.EncodePNG(&buf, la, imageio.PNGOptions{Level: 1})
	os.WriteFile(filepath.Join(env.InputDir(), "la.png"), buf.Bytes(), 0o644)
	res = run(t, env, "LoadImage", node.Inputs{"image": "la.png"})
	im, mask := res.Outputs[0].(*tensor.Tensor), res.Outputs[1].(*tensor.Tensor)
	if im.Data[3] != float32(20)/255 || im.Data[5] != float32(20)/255 || mask.Data[0] != 0 || mask.Data[1] != 1 {
		t.Fatalf("LA %v %v", im.Data, mask.Data)
	}
	// LoadImageMask: colour channels as-is, alpha inverted, image-sized.
	res = run(t, env, "LoadImageMask", node.Inputs{"image": "la.png", "channel": "green"})
	m := res.Outputs[0].(*tensor.Tensor)
	if m.Shape[0] != 1 || m.Shape[1] != 1 || m.Shape[2] != 2 || m.Data[1] != float32(20)/255 {
		t.Fatalf("%v %v", m.Shape, m.Data)
	}
	res = run(t, env, "LoadImageMask", node.Inputs{"image": "la.png", "channel": "alpha"})
	if m := res.Outputs[0].(*tensor.Tensor); m.Data[0] != 0 || m.Data[1] != 1 {
		t.Fatal(m.Data)
	}
}

func TestTransforms(t *testing.T) {
	env := newTestEnv(t)
	// 1×2×3×1 image with values 0..5 (row-major).
	src := img(1, 2, 3, 1, func(i int) float32 { return float32(i) })
	get := func(class string, in node.Inputs) *tensor.Tensor {
		in["image"] = src
		return run(t, env, class, in).Outputs[0].(*tensor.Tensor)
	}
	eq := func(name string, got *tensor.Tensor, shape []int, vals ...float32) {
		t.Helper()
		for i, d := range shape {
			if got.Shape[i] != d {
				t.Fatalf("%s: shape %v want %v", name, got.Shape, shape)
			}
		}
		for i, v := range vals {
			if got.Data[got.Offset+i] != v {
				t.Fatalf("%s: %v want %v", name, got.Values(), vals)
			}
		}
	}
	eq("flip x", get("ImageFlip", node.Inputs{"flip_method": "x-axis: vertically"}), []int{1, 2, 3, 1}, 3, 4, 5, 0, 1, 2)
	eq("flip y", get("ImageFlip", node.Inputs{"flip_method": "y-axis: horizontally"}), []int{1, 2, 3, 1}, 2, 1, 0, 5, 4, 3)
	eq("rot 90", get("ImageRotate", node.Inputs{"rotation": "90 degrees"}), []int{1, 3, 2, 1}, 3, 0, 4, 1, 5, 2)
	eq("rot 180", get("ImageRotate", node.Inputs{"rotation": "180 degrees"}), []int{1, 2, 3, 1}, 5, 4, 3, 2, 1, 0)
	eq("rot 270", get("ImageRotate", node.Inputs{"rotation": "270 degrees"}), []int{1, 3, 2, 1}, 2, 5, 1, 4, 0, 3)
	eq("invert", get("ImageInvert", node.Inputs{}), []int{1, 2, 3, 1}, 1, 0, -1, -2, -3, -4)
	// Crop: x clamped to W-1, the window cut at the edge.
	eq("crop", get("ImageCrop", node.Inputs{"width": api.Int(5), "height": api.Int(1), "x": api.Int(9), "y": api.Int(1)}), []int{1, 1, 1, 1}, 5)
	eq("crop inside", get("ImageCrop", node.Inputs{"width": api.Int(2), "height": api.Int(2), "x": api.Int(1), "y": api.Int(0)}), []int{1, 2, 2, 1}, 1, 2, 4, 5)
	eq("repeat", get("RepeatImageBatch", node.Inputs{"amount": api.Int(2)}), []int{2, 2, 3, 1}, 0, 1, 2, 3, 4, 5, 0, 1)
	batch := run(t, env, "ImageBatch", node.Inputs{"image1": src, "image2": src}).Outputs[0].(*tensor.Tensor)
	eq("batch", batch, []int{2, 2, 3, 1}, 0, 1, 2, 3, 4, 5, 0)
	// ImageFromBatch clamps the index to the last image and the length.
	fb := run(t, env, "ImageFromBatch", node.Inputs{"image": batch, "batch_index": api.Int(7), "length": api.Int(3)}).Outputs[0].(*tensor.Tensor)
	eq("from batch", fb, []int{1, 2, 3, 1}, 0, 1, 2)

	rec := &textRecorder{}
	res, err := newNode(t, "GetImageSize").Run(&node.Context{Env: env, Reporter: rec}, node.Inputs{"image": batch, "unique_id": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs[0] != int64(3) || res.Outputs[1] != int64(2) || res.Outputs[2] != int64(2) {
		t.Fatal(res.Outputs)
	}
	if len(rec.texts) != 1 || rec.texts[0] != "width: 3, height: 2\n batch size: 2" {
		t.Fatalf("%q", rec.texts)
	}
}

// ImageBatch resizes image2 (bilinear, center crop) to image1's size.
func TestImageBatchResize(t *testing.T) {
	env := newTestEnv(t)
	a := img(1, 2, 2, 1, func(int) float32 { return 0 })
	// 4 wide, 2 high → center crop to 2×2 (x offset 1), then identity resize.
	b := img(1, 2, 4, 1, func(i int) float32 { return float32(i) })
	out := run(t, env, "ImageBatch", node.Inputs{"image1": a, "image2": b}).Outputs[0].(*tensor.Tensor)
	if v := out.Values()[4:]; v[0] != 1 || v[1] != 2 || v[2] != 5 || v[3] != 6 {
		t.Fatalf("%v", v)
	}
	// Upscale 2 → 4 of [0, 1]: torch gives 0, .25, .75, 1.
	c := img(1, 1, 2, 1, func(i int) float32 { return float32(i) })
	d := img(1, 1, 4, 1, func(int) float32 { return 0 })
	out = run(t, env, "ImageBatch", node.Inputs{"image1": d, "image2": c}).Outputs[0].(*tensor.Tensor)
	if v := out.Values()[4:]; v[0] != 0 || v[1] != 0.25 || v[2] != 0.75 || v[3] != 1 {
		t.Fatalf("%v", v)
	}
	// RGB + RGBA of the same size fails as in ComfyUI 0.3.64.
	e := img(1, 1, 4, 4, func(int) float32 { return 0 })
	if _, err := newNode(t, "ImageBatch").Run(&node.Context{Env: env}, node.Inputs{"image1": d, "image2": e}); err == nil {
		t.Fatal("channel mismatch accepted")
	}
}

// Multi-frame files load as a batch (one mask per frame).
func TestLoadImageFramesBatch(t *testing.T) {
	env := newTestEnv(t)
	a := &imageio.Image8{Width: 2, Height: 1, Channels: 4, Pix: []byte{10, 20, 30, 255, 40, 50, 60, 0}}
	b := &imageio.Image8{Width: 2, Height: 1, Channels: 4, Pix: []byte{1, 2, 3, 255, 4, 5, 6, 255}}
	var buf bytes.Buffer
	if err := imageio.EncodeAPNG(&buf, []*imageio.Image8{a, b}, imageio.APNGOptions{DurationMs: 100}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(env.InputDir(), "anim.png"), buf.Bytes(), 0o644)
	res := run(t, env, "LoadImage", node.Inputs{"image": "anim.png"})
	im, mask := res.Outputs[0].(*tensor.Tensor), res.Outputs[1].(*tensor.Tensor)
	if im.Shape[0] != 2 || mask.Shape[0] != 2 || mask.Shape[2] != 2 {
		t.Fatalf("%v %v", im.Shape, mask.Shape)
	}
	if im.Data[6] != float32(1)/255 || mask.Data[1] != 1 || mask.Data[3] != 0 {
		t.Fatalf("%v %v", im.Data, mask.Data)
	}
}

// ComfyUI strips a fixed number of characters for the folder suffix, so a
// suffix without its space eats the name's last character.
func TestAnnotatedSuffixQuirk(t *testing.T) {
	env := newTestEnv(t)
	p, err := AnnotatedPath(env, "x.png[output]", "")
	if err != nil || p != filepath.Join(env.OutputDir(), "x.pn") {
		t.Fatalf("%s %v", p, err)
	}
	p, _ = AnnotatedPath(env, "sub/x.png [temp]", "")
	if p != filepath.Join(env.TempDir(), "sub/x.png") {
		t.Fatal(p)
	}
	p, _ = AnnotatedPath(env, "x.png", "")
	if p != filepath.Join(env.InputDir(), "x.png") {
		t.Fatal(p)
	}
}

// The counter scan compares names with the prefix before %batch_num% is
// replaced, so it never matches and every run starts again at 00001,
// overwriting the previous files, exactly as ComfyUI does.
func TestBatchNumCounterQuirk(t *testing.T) {
	env := newTestEnv(t)
	images := img(1, 1, 1, 3, func(int) float32 { return 0 })
	for i := 0; i < 2; i++ {
		items := uiItems(t, run(t, env, "SaveImage", node.Inputs{"images": images, "filename_prefix": "b%batch_num%"}))
		if str(items[0], "filename") != "b0_00001_.png" {
			t.Fatal(str(items[0], "filename"))
		}
	}
}
