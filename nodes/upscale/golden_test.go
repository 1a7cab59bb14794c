package upscale

// A small runner over golden/image-nodes/cases.json for the cases whose
// nodes are this engineer's (nodes/mask, nodes/postprocess, nodes/upscale).
// The few other classes those cases use (LoadImage, SaveImage, ImageFlip,
// ...) get test-local stand-ins written from ComfyUI's definitions here;
// the full harness over the real nodes is nodes/all/golden_test.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
	_ "github.com/comfyd/comfyd/nodes/mask"
	_ "github.com/comfyd/comfyd/nodes/postprocess"
)

const goldenDir = "../../../shared/golden/image-nodes"

type goldenCase struct {
	Name    string                     `json:"name"`
	Prompt  map[string]json.RawMessage `json:"prompt"`
	Outputs []struct {
		Node   string `json:"node"`
		Images []struct {
			File     string `json:"file"`
			Width    int    `json:"width"`
			Height   int    `json:"height"`
			Channels int    `json:"channels"`
		} `json:"images"`
	} `json:"outputs"`
}

type promptNode struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

func loadPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func nrgba(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

// hasAlpha reports whether PIL would give the file an alpha band: colour
// types 4 and 6, or a tRNS chunk.
func hasAlpha(path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil || len(raw) < 26 {
		return false
	}
	return raw[25] == 4 || raw[25] == 6 || bytes.Contains(raw, []byte("tRNS"))
}

// loadImage is LoadImage for one frame: RGB/255 and mask = 1 − alpha/255,
// or a 64×64 zero mask without alpha.
func loadImage(t *testing.T, name string) (*tensor.Tensor, *tensor.Tensor) {
	path := filepath.Join(goldenDir, "inputs", name)
	img := loadPNG(t, path)
	b := img.Bounds()
	W, H := b.Dx(), b.Dy()
	out := tensor.New(1, H, W, 3)
	var m *tensor.Tensor
	alpha := hasAlpha(path)
	if alpha {
		m = tensor.New(1, H, W)
	} else {
		m = tensor.New(1, 64, 64)
	}
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			c := nrgba(img, b.Min.X+x, b.Min.Y+y)
			p := (y*W + x) * 3
			out.Data[p], out.Data[p+1], out.Data[p+2] = float32(c.R)/255, float32(c.G)/255, float32(c.B)/255
			if alpha {
				m.Data[y*W+x] = 1 - float32(c.A)/255
			}
		}
	}
	return out, m
}

// stand-ins for other engineers' nodes, from ComfyUI's definitions.
func runLocal(t *testing.T, class string, in map[string]any) ([]any, bool) {
	img := func(k string) *tensor.Tensor { return in[k].(*tensor.Tensor) }
	str := func(k string) string { return in[k].(string) }
	num := func(k string) int { return int(in[k].(float64)) }
	switch class {
	case "LoadImage":
		a, m := loadImage(t, str("image"))
		return []any{a, m}, true
	case "LoadImageMask":
		im := loadPNG(t, filepath.Join(goldenDir, "inputs", str("image")))
		b := im.Bounds()
		W, H := b.Dx(), b.Dy()
		m := tensor.New(1, H, W)
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				c := nrgba(im, b.Min.X+x, b.Min.Y+y)
				var v float32
				switch str("channel") {
				case "red":
					v = float32(c.R) / 255
				case "green":
					v = float32(c.G) / 255
				case "blue":
					v = float32(c.B) / 255
				case "alpha":
					v = 1 - float32(c.A)/255
				}
				m.Data[y*W+x] = v
			}
		}
		return []any{m}, true
	case "ImageInvert":
		o := img("image").Clone()
		for i, v := range o.Data {
			o.Data[i] = 1 - v
		}
		return []any{o}, true
	case "ImageFlip", "ImageRotate":
		s := img("image").Contiguous()
		B, H, W, C := s.Shape[0], s.Shape[1], s.Shape[2], s.Shape[3]
		var o *tensor.Tensor
		var at func(b, y, x int) int // source pixel of output (y, x)
		switch {
		case class == "ImageFlip" && str("flip_method") == "x-axis: vertically":
			o, at = tensor.New(B, H, W, C), func(b, y, x int) int { return (b*H+H-1-y)*W + x }
		case class == "ImageFlip":
			o, at = tensor.New(B, H, W, C), func(b, y, x int) int { return (b*H+y)*W + W - 1 - x }
		case str("rotation") == "180 degrees":
			o, at = tensor.New(B, H, W, C), func(b, y, x int) int { return (b*H+H-1-y)*W + W - 1 - x }
		case str("rotation") == "90 degrees": // clockwise: out[y][x] = in[H-1-x][y]
			o, at = tensor.New(B, W, H, C), func(b, y, x int) int { return (b*H+H-1-x)*W + y }
		default:
			return nil, false
		}
		oh, ow := o.Shape[1], o.Shape[2]
		for b := 0; b < B; b++ {
			for y := 0; y < oh; y++ {
				for x := 0; x < ow; x++ {
					copy(o.Data[((b*oh+y)*ow+x)*C:((b*oh+y)*ow+x+1)*C], s.Data[at(b, y, x)*C:(at(b, y, x)+1)*C])
				}
			}
		}
		return []any{o}, true
	case "RepeatImageBatch":
		s := img("image")
		return []any{imageops.RepeatToBatch(s, s.Dim(0)*num("amount"))}, true
	case "ImageBatch":
		a, b := img("image1").Contiguous(), img("image2")
		if a.Dim(1) != b.Dim(1) || a.Dim(2) != b.Dim(2) {
			var err error
			if b, err = imageops.CommonUpscale(b, a.Dim(2), a.Dim(1), imageops.Bilinear, "center"); err != nil {
				t.Fatal(err)
			}
		}
		b = b.Contiguous()
		o := tensor.New(a.Dim(0)+b.Dim(0), a.Dim(1), a.Dim(2), a.Dim(3))
		copy(o.Data, a.Data)
		copy(o.Data[a.Len():], b.Data)
		return []any{o}, true
	case "ImageFromBatch":
		s := img("image")
		i := min(num("batch_index"), s.Dim(0)-1)
		n := min(s.Dim(0)-i, num("length"))
		return []any{s.Slice(0, i, i+n).Clone()}, true
	}
	return nil, false
}

func TestGoldenImageNodes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Skipf("golden data: %v", err)
	}
	var doc struct {
		Tolerance int          `json:"tolerance"`
		Cases     []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	local := map[string]bool{"LoadImage": true, "LoadImageMask": true, "ImageInvert": true, "ImageFlip": true, "ImageRotate": true,
		"RepeatImageBatch": true, "ImageBatch": true, "ImageFromBatch": true, "SaveImage": true}
	ran := 0
	for _, gc := range doc.Cases {
		nodes := map[string]promptNode{}
		mine, runnable := false, true
		for id, rawNode := range gc.Prompt {
			var pn promptNode
			if err := json.Unmarshal(rawNode, &pn); err != nil {
				t.Fatal(err)
			}
			nodes[id] = pn
			if myClasses[pn.ClassType] {
				mine = true
			} else if !local[pn.ClassType] {
				runnable = false
			}
		}
		if !mine || !runnable {
			continue
		}
		ran++
		t.Run(gc.Name, func(t *testing.T) {
			results := map[string][]any{}
			var eval func(id string) []any
			eval = func(id string) []any {
				if r, ok := results[id]; ok {
					return r
				}
				pn := nodes[id]
				in := map[string]any{}
				for k, v := range pn.Inputs {
					var link []any
					if json.Unmarshal(v, &link) == nil && len(link) == 2 {
						if src, ok := link[0].(string); ok {
							in[k] = eval(src)[int(link[1].(float64))]
							continue
						}
					}
					var lit any
					if err := json.Unmarshal(v, &lit); err != nil {
						t.Fatal(err)
					}
					in[k] = lit
				}
				if pn.ClassType == "SaveImage" {
					results[id] = []any{in["images"]}
					return results[id]
				}
				if out, ok := runLocal(t, pn.ClassType, in); ok {
					results[id] = out
					return out
				}
				def, _ := node.Default.Get(pn.ClassType)
				ni := node.Inputs{}
				for k, v := range in {
					switch x := v.(type) {
					case float64:
						if x == float64(int64(x)) && !isFloatInput(def, k) {
							ni[k] = json.Number(fmt.Sprint(int64(x)))
						} else {
							ni[k] = x
						}
					default:
						ni[k] = v
					}
				}
				res, err := def.New().Run(&node.Context{ClassType: pn.ClassType}, ni)
				if err != nil {
					t.Fatalf("%s (%s): %v", id, pn.ClassType, err)
				}
				results[id] = res.Outputs
				return res.Outputs
			}
			for _, o := range gc.Outputs {
				imgs := eval(o.Node)[0].(*tensor.Tensor).Contiguous()
				for i, exp := range o.Images {
					want := loadPNG(t, filepath.Join(goldenDir, "expected", exp.File))
					compareImage(t, exp.File, imgs, i, want, exp.Channels, doc.Tolerance)
				}
			}
		})
	}
	if ran == 0 {
		t.Fatal("no golden case ran")
	}
}

// myClasses are the classes of nodes/mask, nodes/postprocess and
// nodes/upscale; other classes must have a stand-in above.
var myClasses = map[string]bool{}

func init() {
	for _, n := range []string{"ImageScale", "ImageScaleBy", "ImageScaleToTotalPixels", "ImagePadForOutpaint", "ImageBlend",
		"ImageBlur", "ImageSharpen", "ImageQuantize", "ImageCompositeMasked", "ImageToMask", "MaskToImage", "ImageColorToMask",
		"SolidMask", "InvertMask", "CropMask", "MaskComposite", "FeatherMask", "GrowMask", "ThresholdMask", "MaskPreview",
		"ImageAddNoise", "JoinImageWithAlpha", "SplitImageWithAlpha", "PorterDuffImageComposite"} {
		myClasses[n] = true
	}
}

func isFloatInput(def *node.Def, name string) bool {
	in, ok := def.Spec.Input(name)
	return ok && in.Type == node.TypeFloat
}

// compareImage checks item i of imgs, saved as SaveImage does (clip(255·v)
// truncated), against the expected PNG within tol levels per channel.
func compareImage(t *testing.T, name string, imgs *tensor.Tensor, i int, want image.Image, channels, tol int) {
	t.Helper()
	B, H, W, C := imgs.Shape[0], imgs.Shape[1], imgs.Shape[2], imgs.Shape[3]
	b := want.Bounds()
	if i >= B || H != b.Dy() || W != b.Dx() || C != channels {
		t.Errorf("%s: got %d×%d×%d (batch %d), want %d×%d×%d", name, W, H, C, B, b.Dx(), b.Dy(), channels)
		return
	}
	bad, worst := 0, 0
	var first string
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			c := nrgba(want, b.Min.X+x, b.Min.Y+y)
			ref := []uint8{c.R, c.G, c.B, c.A}
			for ch := 0; ch < C; ch++ {
				got := int(imageops.ToUint8(imgs.Data[((i*H+y)*W+x)*C+ch]))
				d := got - int(ref[ch])
				if d < 0 {
					d = -d
				}
				if d > worst {
					worst = d
				}
				if d > tol {
					if bad == 0 {
						first = fmt.Sprintf("(%d,%d,c%d) got %d want %d", x, y, ch, got, ref[ch])
					}
					bad++
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d channel values off by more than %d (worst %d), first %s", name, bad, tol, worst, first)
	} else if worst > 0 {
		off := 0
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				c := nrgba(want, b.Min.X+x, b.Min.Y+y)
				ref := []uint8{c.R, c.G, c.B, c.A}
				for ch := 0; ch < C; ch++ {
					if int(imageops.ToUint8(imgs.Data[((i*H+y)*W+x)*C+ch])) != int(ref[ch]) {
						if off < 2 {
							t.Logf("  (%d,%d,c%d) value %.9f·255 = %.6f, want %d", x, y, ch, imgs.Data[((i*H+y)*W+x)*C+ch], imgs.Data[((i*H+y)*W+x)*C+ch]*255, ref[ch])
						}
						off++
					}
				}
			}
		}
		t.Logf("%s: worst difference %d in %d values", name, worst, off)
	}
}
