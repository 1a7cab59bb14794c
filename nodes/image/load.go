package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

// imageExts are the extensions Python's mimetypes maps to image/* (plus
// webp, which folder_paths adds): LoadImage lists only those files.
var imageExts = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "jpe": true, "gif": true, "bmp": true, "tif": true, "tiff": true,
	"webp": true, "ico": true, "svg": true, "avif": true, "heic": true, "heif": true, "ief": true, "ras": true,
	"pnm": true, "pbm": true, "pgm": true, "ppm": true, "rgb": true, "xbm": true, "xpm": true, "xwd": true,
	"pct": true, "pict": true, "pic": true,
}

// IsImageName reports whether ComfyUI's content-type filter counts name as
// an image file.
func IsImageName(name string) bool {
	i := strings.LastIndexByte(name, '.')
	return i >= 0 && imageExts[strings.ToLower(name[i+1:])]
}

// InputImages lists the image files at the top level of dir, sorted
// (LoadImage's combo; directories are excluded).
func InputImages(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{}
	}
	files := []string{}
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			if fi, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			if IsImageName(e.Name()) {
				files = append(files, e.Name())
			}
		}
	}
	sort.Strings(files)
	return files
}

// AnnotatedPath resolves a file reference with an optional " [output]",
// " [input]" or " [temp]" suffix (spec §1.4). ComfyUI strips a fixed number
// of characters, so "x.png[output]" loses its last character too; that is
// kept. Unlike ComfyUI, a name that climbs out of its base folder is
// refused (ComfyUI joins it blindly, letting a prompt read any file).
func AnnotatedPath(env node.Env, name, defaultDir string) (string, error) {
	r := []rune(name)
	base := defaultDir
	cut := func(n int) string { return string(r[:max(len(r)-n, 0)]) }
	switch {
	case strings.HasSuffix(name, "[output]"):
		base, name = env.OutputDir(), cut(9)
	case strings.HasSuffix(name, "[input]"):
		base, name = env.InputDir(), cut(8)
	case strings.HasSuffix(name, "[temp]"):
		base, name = env.TempDir(), cut(7)
	}
	if base == "" {
		base = env.InputDir()
	}
	p := filepath.Join(base, name)
	if filepath.IsAbs(name) || !strings.HasPrefix(p, filepath.Clean(base)+string(filepath.Separator)) {
		return "", fmt.Errorf("file %q is outside its folder", name)
	}
	return p, nil
}

// fileSHA256 is LoadImage.IS_CHANGED: the hex SHA-256 of the file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// imageFileFP is the IS_CHANGED of LoadImage, LoadImageMask and
// LoadImageOutput.
type imageFileFP struct{}

func (imageFileFP) Fingerprint(env node.Env, in node.Inputs) (any, error) {
	name, _ := in.Get("image").(string)
	p, err := AnnotatedPath(env, name, "")
	if err != nil {
		return nil, err
	}
	return fileSHA256(p)
}

// imageFileValidator is VALIDATE_INPUTS(image): it exempts image from the
// combo check (uploads and "x.png [output]" names pass) and reports a
// missing file.
type imageFileValidator struct{}

func (imageFileValidator) ValidateSpec() node.ValidateSpec {
	return node.ValidateSpec{Inputs: []string{"image"}}
}

func (imageFileValidator) Validate(env node.Env, in node.Inputs, _ map[string]string) (bool, string) {
	name, _ := in.Get("image").(string)
	p, err := AnnotatedPath(env, name, "")
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		return false, "Invalid image file: " + name
	}
	return true, ""
}

func openImage(env node.Env, name string) (*imageio.Decoded, error) {
	p, err := AnnotatedPath(env, name, "")
	if err != nil {
		return nil, node.Errorf("FileNotFoundError", "%s", err.Error())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, node.Errorf("FileNotFoundError", "[Errno 2] No such file or directory: '%s'", p)
		}
		return nil, err
	}
	d, err := imageio.Decode(data)
	if err == imageio.ErrUnknownFormat {
		return nil, node.Errorf("UnidentifiedImageError", "cannot identify image file '%s'", p)
	}
	if err != nil {
		return nil, node.Errorf("OSError", "%s: %s", p, err.Error())
	}
	return d, nil
}

// loadImage is LoadImage.load_image: RGB frames (convert("RGB")) stacked
// into a batch when there are several of the first frame's size, and
// MASK = 1 − alpha for images with an alpha band or a palette with
// transparency. Without alpha the mask is a 64×64 zero mask whatever the
// image size: a ComfyUI quirk kept on purpose.
func loadImage(c *node.Context, in node.Inputs) (*node.Result, error) {
	d, err := openImage(c.Env, in.String("image"))
	if err != nil {
		return nil, err
	}
	var rgb []*imageio.Image8
	var masks [][]float32
	maskW, maskH := -1, -1
	for _, f := range d.Frames {
		m := f.RGBA
		if len(rgb) > 0 && (m.Width != rgb[0].Width || m.Height != rgb[0].Height) {
			continue // frames of another size are skipped
		}
		rgb = append(rgb, m.DropAlpha())
		mw, mh := 64, 64
		var mask []float32
		if f.HasAlpha || f.PaletteTransparency {
			mw, mh = m.Width, m.Height
			mask = m.Channel(3)
			for i, a := range mask {
				mask[i] = 1 - a
			}
		} else {
			mask = make([]float32, 64*64)
		}
		if maskW >= 0 && (mw != maskW || mh != maskH) {
			// torch.cat of a 64×64 zero mask with an alpha mask fails in ComfyUI too.
			return nil, node.Errorf("RuntimeError", "Sizes of tensors must match except in dimension 0. Expected size %d but got size %d for tensor number %d in the list.", maskH, mh, len(masks))
		}
		maskW, maskH = mw, mh
		masks = append(masks, mask)
	}
	img := stack(rgb)
	mask := tensor.New(len(masks), maskH, maskW)
	for i, m := range masks {
		copy(mask.Data[i*maskH*maskW:], m)
	}
	return node.Outputs(img, mask), nil
}

// loadImageMask is LoadImageMask.load_image: the first frame converted to
// RGBA, one channel as the mask; the alpha channel is inverted, colour
// channels are not. Unlike LoadImage the mask has the image's size.
func loadImageMask(c *node.Context, in node.Inputs) (*node.Result, error) {
	d, err := openImage(c.Env, in.String("image"))
	if err != nil {
		return nil, err
	}
	m := d.Frames[0].RGBA
	ch := map[string]int{"red": 0, "green": 1, "blue": 2, "alpha": 3}
	channel := in.String("channel")
	idx, ok := ch[channel]
	if !ok {
		return nil, node.Errorf("ValueError", "unknown channel %q", channel)
	}
	vals := m.Channel(idx)
	if idx == 3 {
		for i, v := range vals {
			vals[i] = 1 - v
		}
	}
	return node.Outputs(tensor.FromData(vals, 1, m.Height, m.Width)), nil
}

func imageCombo(env node.Env) []string {
	if env == nil {
		return []string{}
	}
	return InputImages(env.InputDir())
}

func init() {
	node.Register(&node.Def{
		Spec: node.Spec{Name: "LoadImage", DisplayName: "Load Image", Category: "image",
			Required: []node.Input{node.ComboFunc("image", imageCombo, "image_upload", true)},
			Outputs:  []node.Output{{Type: node.TypeImage}, {Type: node.TypeMask}}},
		New:           func() node.Node { return node.Func(loadImage) },
		Fingerprinter: imageFileFP{},
		Validator:     imageFileValidator{},
	})
	node.Register(&node.Def{
		Spec: node.Spec{Name: "LoadImageMask", DisplayName: "Load Image (as Mask)", Category: "mask",
			Required: []node.Input{
				node.ComboFunc("image", imageCombo, "image_upload", true),
				node.Combo("channel", []string{"alpha", "red", "green", "blue"}),
			},
			Outputs: []node.Output{{Type: node.TypeMask}}},
		New:           func() node.Node { return node.Func(loadImageMask) },
		Fingerprinter: imageFileFP{},
		Validator:     imageFileValidator{},
	})
	// LoadImageOutput subclasses LoadImage: same loading, names default to
	// the input folder unless annotated (the UI sends "x.png [output]").
	node.Register(&node.Def{
		Spec: node.Spec{Name: "LoadImageOutput", DisplayName: "Load Image (from Outputs)", Category: "image", Experimental: true,
			Description: "Load an image from the output folder. When the refresh button is clicked, the node will update the image list and automatically select the first image, allowing for easy iteration.",
			Required: []node.Input{node.In("image", node.TypeCombo, "image_upload", true, "image_folder", "output",
				"remote", remoteOutputs())},
			Outputs: []node.Output{{Type: node.TypeImage}, {Type: node.TypeMask}}},
		New:           func() node.Node { return node.Func(loadImage) },
		Fingerprinter: imageFileFP{},
		Validator:     imageFileValidator{},
	})
}

func remoteOutputs() *api.Object {
	return api.ObjectOf("route", "/internal/files/output", "refresh_button", true, "control_after_refresh", "first")
}
