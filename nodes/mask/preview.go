package mask

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/ml/imageops"
	"github.com/comfyd/comfyd/node"
)

// maskPreview is MaskPreview: the mask as a grey RGB image saved into the
// temp folder as PreviewImage saves (ComfyUI_temp_<5 random letters>_NNNNN_.png),
// reported under "images" with type "temp".
//
// TODO(images-2): switch to images-1's shared save helper once nodes/image
// exports one, so that PNG text chunks (prompt, workflow) and counters match
// SaveImage exactly; this version writes the pixels only.
func maskPreview(c *node.Context, in node.Inputs) (*node.Result, error) {
	m, err := maskIn(in, "mask")
	if err != nil {
		return nil, err
	}
	if c == nil || c.Env == nil {
		return nil, node.Errorf("RuntimeError", "MaskPreview needs a temp directory")
	}
	m = m.Contiguous()
	dir := c.Env.TempDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	letters := make([]byte, 5)
	for i := range letters {
		letters[i] = byte('a' + rand.IntN(26))
	}
	prefix := "ComfyUI_temp_" + string(letters)
	counter := nextCounter(dir, prefix)
	ui := &node.UI{}
	B, H, W := m.Shape[0], m.Shape[1], m.Shape[2]
	for b := 0; b < B; b++ {
		img := image.NewRGBA(image.Rect(0, 0, W, H))
		for p := 0; p < H*W; p++ {
			v := imageops.ToUint8(m.Data[b*H*W+p])
			img.Pix[4*p], img.Pix[4*p+1], img.Pix[4*p+2], img.Pix[4*p+3] = v, v, v, 255
		}
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%s_%05d_.png", prefix, counter)
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		ui.Add("images", map[string]any{"filename": name, "subfolder": "", "type": "temp"})
		counter++
	}
	return &node.Result{UI: ui}, nil
}

// nextCounter is folder_paths.get_save_image_path's counter: one more than
// the largest NNNNN of existing "<prefix>_NNNNN_*" files, or 1.
func nextCounter(dir, prefix string) int {
	entries, _ := os.ReadDir(dir)
	best := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix+"_") {
			continue
		}
		rest := name[len(prefix)+1:]
		if i := strings.IndexByte(rest, '_'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil && n > best {
				best = n
			}
		}
	}
	return best + 1
}
