package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/draw"
	"image/png"
)

// decodeAPNG returns the frames of an animated PNG as PIL's ImageSequence
// yields them: the default image first when it is not part of the
// animation, then every animation frame composited on the canvas with its
// blend (source or over) and dispose (none, background, previous) ops.
func decodeAPNG(data []byte, mode string, hasAlpha, palTrans bool) ([]Frame, error) {
	chunks, err := ReadChunks(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var ihdr []byte
	var shared []Chunk // PLTE, tRNS: every frame's stream needs them
	type frame struct {
		ctl  []byte
		data [][]byte
		idat bool
	}
	var frames []*frame
	var cur *frame
	var defaultImage [][]byte
	for _, c := range chunks {
		switch c.Type {
		case "IHDR":
			ihdr = c.Data
		case "PLTE", "tRNS":
			shared = append(shared, c)
		case "fcTL":
			if len(c.Data) != 26 {
				return nil, errors.New("imageio: bad fcTL chunk")
			}
			cur = &frame{ctl: c.Data}
			frames = append(frames, cur)
		case "IDAT":
			if cur != nil {
				cur.data = append(cur.data, c.Data)
				cur.idat = true
			} else {
				defaultImage = append(defaultImage, c.Data)
			}
		case "fdAT":
			if cur != nil && len(c.Data) >= 4 {
				cur.data = append(cur.data, c.Data[4:])
			}
		}
	}
	if ihdr == nil || len(frames) == 0 {
		return nil, errors.New("imageio: APNG without frames")
	}
	W, H := int(binary.BigEndian.Uint32(ihdr)), int(binary.BigEndian.Uint32(ihdr[4:]))
	decodePart := func(w, h int, parts [][]byte) (*image.NRGBA, error) {
		var b bytes.Buffer
		b.Write(pngSignature)
		hdr := append([]byte(nil), ihdr...)
		binary.BigEndian.PutUint32(hdr, uint32(w))
		binary.BigEndian.PutUint32(hdr[4:], uint32(h))
		writeChunk(&b, "IHDR", hdr)
		for _, c := range shared {
			writeChunk(&b, c.Type, c.Data)
		}
		writeChunk(&b, "IDAT", bytes.Join(parts, nil))
		writeChunk(&b, "IEND", nil)
		img, err := png.Decode(&b)
		if err != nil {
			return nil, err
		}
		return toNRGBA(img), nil
	}
	mk := func(m *image.NRGBA) Frame {
		return Frame{RGBA: &Image8{Width: W, Height: H, Channels: 4, Pix: append([]byte(nil), m.Pix...)},
			Mode: mode, HasAlpha: hasAlpha, PaletteTransparency: palTrans}
	}
	var out []Frame
	if !frames[0].idat && defaultImage != nil {
		m, err := decodePart(W, H, defaultImage)
		if err != nil {
			return nil, err
		}
		out = append(out, mk(m))
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, W, H))
	for i, f := range frames {
		w, h := int(binary.BigEndian.Uint32(f.ctl[4:])), int(binary.BigEndian.Uint32(f.ctl[8:]))
		x, y := int(binary.BigEndian.Uint32(f.ctl[12:])), int(binary.BigEndian.Uint32(f.ctl[16:]))
		dispose, blend := f.ctl[24], f.ctl[25]
		r := image.Rect(x, y, x+w, y+h)
		if w <= 0 || h <= 0 || !r.In(canvas.Rect) {
			return nil, errors.New("imageio: APNG frame outside the canvas")
		}
		m, err := decodePart(w, h, f.data)
		if err != nil {
			return nil, err
		}
		var saved *image.NRGBA
		if dispose == 2 && i > 0 {
			saved = image.NewNRGBA(canvas.Rect)
			copy(saved.Pix, canvas.Pix)
		}
		op := draw.Src
		if blend == 1 {
			op = draw.Over
		}
		draw.Draw(canvas, r, m, image.Point{}, op)
		out = append(out, mk(canvas))
		switch {
		case dispose == 1 || dispose == 2 && i == 0:
			draw.Draw(canvas, r, image.Transparent, image.Point{}, draw.Src)
		case dispose == 2:
			canvas = saved
		}
	}
	return out, nil
}
