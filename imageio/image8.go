package imageio

import (
	"fmt"
	"image"
	"image/color"
)

// Image8 is an 8-bit interleaved image, the layout of a numpy uint8 array
// [H, W, C]: 1 channel = L, 2 = LA, 3 = RGB, 4 = RGBA (non-premultiplied).
type Image8 struct {
	Width, Height, Channels int
	Pix                     []byte
}

// NewImage8 allocates a zeroed image.
func NewImage8(w, h, c int) *Image8 {
	return &Image8{Width: w, Height: h, Channels: c, Pix: make([]byte, w*h*c)}
}

// FromFloat converts one IMAGE frame (row-major float32 [H,W,C]) to 8 bits
// exactly as ComfyUI's savers do: np.clip(255. * v, 0, 255).astype(np.uint8).
// The product is float32 and the cast truncates (it does not round), so a
// stored 200/255 can come back as 199: that quirk is what ComfyUI writes.
func FromFloat(data []float32, w, h, c int) (*Image8, error) {
	if c < 1 || c > 4 {
		return nil, fmt.Errorf("cannot save an image with %d channels", c)
	}
	if len(data) != w*h*c {
		return nil, fmt.Errorf("imageio: %d values for a %dx%dx%d image", len(data), w, h, c)
	}
	m := NewImage8(w, h, c)
	for i, v := range data {
		m.Pix[i] = floatToByte(v)
	}
	return m, nil
}

// floatToByte is clip(255*v, 0, 255) cast to uint8 (truncation; NaN → 0).
func floatToByte(v float32) byte {
	x := 255 * v
	switch {
	case x >= 255:
		return 255
	case x > 0:
		return byte(x)
	}
	return 0
}

// Float returns the pixels as float32 v/255 in [H,W,C] order, the way
// ComfyUI loads images (np.array(img).astype(np.float32) / 255.0).
func (m *Image8) Float() []float32 {
	out := make([]float32, len(m.Pix))
	for i, b := range m.Pix {
		out[i] = float32(b) / 255
	}
	return out
}

// Channel returns channel ch of every pixel as float32 v/255 ([H,W]).
func (m *Image8) Channel(ch int) []float32 {
	n := m.Width * m.Height
	out := make([]float32, n)
	for i := 0; i < n; i++ {
		out[i] = float32(m.Pix[i*m.Channels+ch]) / 255
	}
	return out
}

// Image returns m as a standard library image (Gray, NRGBA) sharing no
// memory with m; LA and RGB become NRGBA.
func (m *Image8) Image() image.Image {
	r := image.Rect(0, 0, m.Width, m.Height)
	if m.Channels == 1 {
		g := image.NewGray(r)
		copy(g.Pix, m.Pix)
		return g
	}
	out := image.NewNRGBA(r)
	n := m.Width * m.Height
	for i := 0; i < n; i++ {
		d := out.Pix[i*4 : i*4+4]
		s := m.Pix[i*m.Channels : (i+1)*m.Channels]
		switch m.Channels {
		case 2:
			d[0], d[1], d[2], d[3] = s[0], s[0], s[0], s[1]
		case 3:
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], 255
		default:
			copy(d, s)
		}
	}
	return out
}

// ToRGBA returns m as a 4-channel image (L → LLL, alpha 255 when absent).
func (m *Image8) ToRGBA() *Image8 {
	if m.Channels == 4 {
		return m
	}
	nrgba := toNRGBA(m.Image())
	return &Image8{Width: m.Width, Height: m.Height, Channels: 4, Pix: nrgba.Pix}
}

// DropAlpha returns the first three channels of a 4-channel image.
func (m *Image8) DropAlpha() *Image8 {
	if m.Channels != 4 {
		return m
	}
	out := NewImage8(m.Width, m.Height, 3)
	n := m.Width * m.Height
	for i := 0; i < n; i++ {
		copy(out.Pix[i*3:i*3+3], m.Pix[i*4:i*4+3])
	}
	return out
}

// toNRGBA converts any image to non-premultiplied 8-bit RGBA, reading the
// common decoder types directly so no precision is lost through
// premultiplication (16-bit sources keep their high byte, as PIL does).
func toNRGBA(src image.Image) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := out.Pix[y*out.Stride : y*out.Stride+w*4]
		py := b.Min.Y + y
		switch s := src.(type) {
		case *image.NRGBA:
			i := s.PixOffset(b.Min.X, py)
			copy(row, s.Pix[i:i+w*4])
		case *image.NRGBA64:
			in := s.Pix[s.PixOffset(b.Min.X, py):]
			for x := 0; x < w; x++ {
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = in[x*8], in[x*8+2], in[x*8+4], in[x*8+6]
			}
		case *image.RGBA:
			in := s.Pix[s.PixOffset(b.Min.X, py):]
			for x := 0; x < w; x++ {
				p := in[x*4 : x*4+4]
				if p[3] == 255 {
					copy(row[x*4:x*4+4], p)
					continue
				}
				c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = c.R, c.G, c.B, c.A
			}
		case *image.RGBA64:
			in := s.Pix[s.PixOffset(b.Min.X, py):]
			for x := 0; x < w; x++ {
				p := in[x*8 : x*8+8]
				if p[6] == 0xff && p[7] == 0xff {
					row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = p[0], p[2], p[4], 255
					continue
				}
				c := color.NRGBA64Model.Convert(s.RGBA64At(b.Min.X+x, py)).(color.NRGBA64)
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = byte(c.R>>8), byte(c.G>>8), byte(c.B>>8), byte(c.A>>8)
			}
		case *image.Gray:
			in := s.Pix[s.PixOffset(b.Min.X, py):]
			for x := 0; x < w; x++ {
				v := in[x]
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = v, v, v, 255
			}
		case *image.Paletted:
			var lut [256][4]byte
			for i, pc := range s.Palette {
				c := color.NRGBAModel.Convert(pc).(color.NRGBA)
				lut[i] = [4]byte{c.R, c.G, c.B, c.A}
			}
			in := s.Pix[s.PixOffset(b.Min.X, py):]
			for x := 0; x < w; x++ {
				copy(row[x*4:x*4+4], lut[in[x]][:])
			}
		default:
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(src.At(b.Min.X+x, py)).(color.NRGBA)
				row[x*4], row[x*4+1], row[x*4+2], row[x*4+3] = c.R, c.G, c.B, c.A
			}
		}
	}
	return out
}

// FromFloatByte converts one value as FromFloat does.
func FromFloatByte(v float32) byte { return floatToByte(v) }
