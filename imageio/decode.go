package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"github.com/gen2brain/webp"
)

// Size limits checked from the header before any pixel is decoded, so a
// small file that claims a huge canvas (a decompression bomb) is refused.
const (
	MaxPixels = 1 << 28
	MaxSide   = 32768
)

// ErrUnknownFormat is returned for data no decoder recognises (PIL's
// "cannot identify image file").
var ErrUnknownFormat = errors.New("cannot identify image file")

// Frame is one decoded frame, in the terms LoadImage uses.
type Frame struct {
	// RGBA holds PIL's img.convert("RGBA") of the frame: grey is replicated,
	// palette entries looked up, a tRNS colour key of grey/RGB images
	// becomes alpha 0, and the first three channels equal convert("RGB").
	RGBA *Image8
	// Mode is the PIL mode of the frame ("RGB", "RGBA", "L", "LA", "P",
	// "I;16", "CMYK").
	Mode string
	// HasAlpha reports 'A' in img.getbands() (RGBA, LA, PA).
	HasAlpha bool
	// PaletteTransparency reports mode P with a transparency entry.
	PaletteTransparency bool
}

// Decoded is a decoded image file.
type Decoded struct {
	Format string // PIL's format name: PNG, JPEG, GIF, WEBP
	Width  int
	Height int
	Frames []Frame
}

// DecodeConfig returns the format and size of an image without decoding
// its pixels.
func DecodeConfig(data []byte) (format string, w, h int, err error) {
	switch {
	case bytes.HasPrefix(data, pngSignature):
		hdr, err := pngHeader(data)
		if err != nil {
			return "PNG", 0, 0, err
		}
		return "PNG", hdr.Width, hdr.Height, nil
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		c, err := jpeg.DecodeConfig(bytes.NewReader(data))
		return "JPEG", c.Width, c.Height, err
	case bytes.HasPrefix(data, []byte("GIF8")):
		c, err := gif.DecodeConfig(bytes.NewReader(data))
		return "GIF", c.Width, c.Height, err
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		c, err := webp.DecodeConfig(bytes.NewReader(data))
		return "WEBP", c.Width, c.Height, err
	}
	return "", 0, 0, ErrUnknownFormat
}

// CheckSize refuses sizes beyond MaxPixels or MaxSide.
func CheckSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("image has an empty size %dx%d", w, h)
	}
	if w > MaxSide || h > MaxSide || int64(w)*int64(h) > MaxPixels {
		return fmt.Errorf("image size (%dx%d) exceeds the limit of %d pixels or %d pixels per side: refused as a possible decompression bomb", w, h, MaxPixels, MaxSide)
	}
	return nil
}

// Decode decodes an image file into frames the way ComfyUI's loaders see
// them through PIL: every frame of an animation (GIF, APNG, animated WebP) composited to the full canvas, JPEG EXIF orientation
// applied (ImageOps.exif_transpose).
func Decode(data []byte) (*Decoded, error) {
	format, w, h, err := DecodeConfig(data)
	if err != nil {
		return nil, err
	}
	if err := CheckSize(w, h); err != nil {
		return nil, err
	}
	d := &Decoded{Format: format, Width: w, Height: h}
	switch format {
	case "PNG":
		f, err := decodePNG(data)
		if err != nil {
			return nil, err
		}
		d.Frames = []Frame{f}
		if hdr, _ := pngHeader(data); hdr.Animated {
			if d.Frames, err = decodeAPNG(data, f.Mode, f.HasAlpha, f.PaletteTransparency); err != nil {
				return nil, err
			}
		}
	case "JPEG":
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		mode := "RGB"
		switch img.(type) {
		case *image.Gray:
			mode = "L"
		case *image.CMYK:
			mode = "CMYK"
		}
		var px []byte
		if yc, ok := img.(*image.YCbCr); ok {
			px = ycbcrToNRGBA(yc).Pix
		} else {
			px = toNRGBA(img).Pix
		}
		m := &Image8{Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Channels: 4, Pix: px}
		m = Orient(m, jpegOrientation(data))
		d.Width, d.Height = m.Width, m.Height
		d.Frames = []Frame{{RGBA: m, Mode: mode}}
	case "GIF":
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		d.Frames = gifFrames(g)
	case "WEBP":
		all, err := webp.DecodeAll(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		alpha := webpHasAlpha(data)
		mode := "RGB"
		if alpha {
			mode = "RGBA"
		}
		for _, img := range all.Image {
			m := &Image8{Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Channels: 4, Pix: toNRGBA(img).Pix}
			d.Frames = append(d.Frames, Frame{RGBA: m, Mode: mode, HasAlpha: alpha})
		}
	}
	if len(d.Frames) == 0 {
		return nil, ErrUnknownFormat
	}
	// exif_transpose for the EXIF a PNG (eXIf) or WebP (EXIF chunk) carries;
	// JPEG frames were oriented above.
	if o := containerOrientation(format, data); o > 1 {
		for i := range d.Frames {
			d.Frames[i].RGBA = Orient(d.Frames[i].RGBA, o)
		}
		d.Width, d.Height = d.Frames[0].RGBA.Width, d.Frames[0].RGBA.Height
	}
	return d, nil
}

func decodePNG(data []byte) (Frame, error) {
	hdr, err := pngHeader(data)
	if err != nil {
		return Frame{}, err
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return Frame{}, err
	}
	f := Frame{}
	switch hdr.ColorType {
	case 0:
		f.Mode = "L"
		if hdr.BitDepth == 16 {
			f.Mode = "I;16"
		}
	case 2:
		f.Mode = "RGB"
	case 3:
		f.Mode = "P"
		f.PaletteTransparency = hdr.Transparency
	case 4:
		f.Mode, f.HasAlpha = "LA", true
		if hdr.BitDepth == 16 {
			f.Mode = "RGBA" // Pillow opens 16-bit grey+alpha as RGBA (high bytes)
		}
	case 6:
		f.Mode, f.HasAlpha = "RGBA", true
	}
	b := img.Bounds()
	m := &Image8{Width: b.Dx(), Height: b.Dy(), Channels: 4}
	if g, ok := img.(*image.Gray16); ok {
		// Pillow opens 16-bit greyscale PNGs as "I;16" (its _MODES table);
		// ComfyUI only rescales mode "I", and Pillow's I;16 → RGB conversion
		// clips every value above 255 to 255.
		m.Pix = make([]byte, m.Width*m.Height*4)
		for y := 0; y < m.Height; y++ {
			for x := 0; x < m.Width; x++ {
				v := g.Gray16At(b.Min.X+x, b.Min.Y+y).Y
				c := byte(min(v, 255))
				i := (y*m.Width + x) * 4
				m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c, c, c, 255
			}
		}
	} else {
		m.Pix = toNRGBA(img).Pix
	}
	f.RGBA = m
	return f, nil
}

// gifFrames composites GIF frames on the logical screen as PIL's
// ImageSequence does: the first frame is mode P (palette transparency when
// it has a transparent index), later frames RGB or RGBA.
func gifFrames(g *gif.GIF) []Frame {
	w, h := g.Config.Width, g.Config.Height
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	var out []Frame
	for i, p := range g.Image {
		var saved *image.NRGBA
		if i < len(g.Disposal) && g.Disposal[i] == gif.DisposalPrevious {
			saved = image.NewNRGBA(canvas.Rect)
			copy(saved.Pix, canvas.Pix)
		}
		draw.Draw(canvas, p.Rect, p, p.Rect.Min, draw.Over)
		transparent := false
		for _, c := range p.Palette {
			if _, _, _, a := c.RGBA(); a == 0 {
				transparent = true
			}
		}
		m := &Image8{Width: w, Height: h, Channels: 4, Pix: append([]byte(nil), canvas.Pix...)}
		f := Frame{RGBA: m}
		if i == 0 {
			f.Mode, f.PaletteTransparency = "P", transparent
		} else if transparent {
			f.Mode, f.HasAlpha = "RGBA", true
		} else {
			f.Mode = "RGB"
		}
		out = append(out, f)
		if i < len(g.Disposal) {
			switch g.Disposal[i] {
			case gif.DisposalBackground:
				draw.Draw(canvas, p.Rect, image.NewUniform(color.NRGBA{}), image.Point{}, draw.Src)
			case gif.DisposalPrevious:
				canvas = saved
			}
		}
	}
	return out
}

// webpHasAlpha reads the alpha flag of a WebP file (VP8X flags or the VP8L
// header's alpha_is_used bit).
func webpHasAlpha(data []byte) bool {
	if len(data) < 30 {
		return false
	}
	switch string(data[12:16]) {
	case "VP8X":
		return data[20]&0x10 != 0
	case "VP8L":
		if len(data) >= 25 {
			return binary.LittleEndian.Uint32(data[21:25])>>28&1 != 0
		}
	}
	return false
}

// containerOrientation reads the EXIF orientation of a PNG eXIf chunk or a
// WebP EXIF chunk (1 when absent).
func containerOrientation(format string, data []byte) int {
	switch format {
	case "PNG":
		chunks, _ := readChunksUntil(bytes.NewReader(data), "IDAT") // eXIf precedes the image data
		for _, c := range chunks {
			if c.Type == "eXIf" {
				return tiffOrientation(bytes.TrimPrefix(c.Data, []byte("Exif\x00\x00")))
			}
		}
	case "WEBP":
		chunks, _ := riffChunks(data)
		for _, c := range chunks {
			if c.Type == "EXIF" {
				return tiffOrientation(bytes.TrimPrefix(c.Data, []byte("Exif\x00\x00")))
			}
		}
	}
	return 1
}
