package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"github.com/gen2brain/webp"
)

// EncodeJPEG writes img as a baseline JPEG (ComfyUI's JPEG previews use
// quality 95). Alpha is dropped.
func EncodeJPEG(w io.Writer, img image.Image, quality int) error {
	if n, ok := img.(*image.NRGBA); ok && !n.Opaque() {
		// JPEG has no alpha: flatten by ignoring it (PIL's convert("RGB")),
		// not by compositing on black as premultiplied conversion would.
		c := image.NewNRGBA(n.Rect)
		copy(c.Pix, n.Pix)
		for i := 3; i < len(c.Pix); i += 4 {
			c.Pix[i] = 255
		}
		img = c
	}
	return jpeg.Encode(w, img, &jpeg.Options{Quality: quality})
}

// WebPOptions are libwebp's encoder settings as PIL exposes them.
type WebPOptions struct {
	Lossless bool
	// Quality 0..100 (lossy quality, or lossless effort). Note: the
	// gen2brain/webp binding maps 0 to its default 75.
	Quality int
	// Method 0 (fast) .. 6 (slow, smaller).
	Method int
}

// EncodeWebP writes img as a still WebP.
func EncodeWebP(w io.Writer, img image.Image, o WebPOptions) error {
	return webp.Encode(w, img, webp.Options{Lossless: o.Lossless, Quality: o.Quality, Method: o.Method, Exact: o.Lossless})
}

// EncodeAnimatedWebP writes frames as an animated WebP (loop forever, each
// frame shown durationMs): every frame is encoded on its own with libwebp
// and wrapped in the RIFF ANIM/ANMF container, since the binding has no
// animation encoder. exif (a TIFF blob, see ExifASCII) is stored in an EXIF
// chunk when non-empty. A single frame is written as a still WebP (with
// VP8X+EXIF when there is metadata), as PIL does.
func EncodeAnimatedWebP(w io.Writer, frames []image.Image, durationMs int, o WebPOptions, exif []byte) error {
	if len(frames) == 0 {
		return errors.New("imageio: no frames")
	}
	b0 := frames[0].Bounds()
	cw, ch := b0.Dx(), b0.Dy()
	alpha := false
	type enc struct {
		raw    []byte
		chunks []Chunk
	}
	var encs []enc
	for _, f := range frames {
		if f.Bounds().Dx() != cw || f.Bounds().Dy() != ch {
			return errors.New("imageio: animation frames differ in size")
		}
		var buf bytes.Buffer
		if err := EncodeWebP(&buf, f, o); err != nil {
			return err
		}
		chunks, err := riffChunks(buf.Bytes())
		if err != nil {
			return err
		}
		var keep []Chunk
		for _, c := range chunks {
			switch c.Type {
			case "ALPH":
				alpha = true
				keep = append(keep, c)
			case "VP8 ":
				keep = append(keep, c)
			case "VP8L":
				if len(c.Data) >= 5 && binary.LittleEndian.Uint32(c.Data[1:5])>>28&1 != 0 {
					alpha = true
				}
				keep = append(keep, c)
			}
		}
		encs = append(encs, enc{buf.Bytes(), keep})
	}
	var body bytes.Buffer
	flags := byte(0)
	if len(frames) > 1 {
		flags |= 0x02
	}
	if len(exif) > 0 {
		flags |= 0x08
	}
	if alpha {
		flags |= 0x10
	}
	if len(frames) == 1 && len(exif) == 0 {
		_, err := w.Write(encs[0].raw)
		return err
	}
	vp8x := make([]byte, 10)
	vp8x[0] = flags
	put24(vp8x[4:], cw-1)
	put24(vp8x[7:], ch-1)
	writeRIFFChunk(&body, "VP8X", vp8x)
	if len(frames) == 1 {
		for _, c := range encs[0].chunks {
			writeRIFFChunk(&body, c.Type, c.Data)
		}
	} else {
		// ANIM: background colour (BGRA, PIL's default 0,0,0,0) and loop count 0.
		writeRIFFChunk(&body, "ANIM", make([]byte, 6))
		for _, e := range encs {
			var fr bytes.Buffer
			hdr := make([]byte, 16)
			put24(hdr[6:], cw-1)
			put24(hdr[9:], ch-1)
			put24(hdr[12:], durationMs)
			hdr[15] = 0x02 // no blending, no disposal: each frame is whole
			fr.Write(hdr)
			for _, c := range e.chunks {
				writeRIFFChunk(&fr, c.Type, c.Data)
			}
			writeRIFFChunk(&body, "ANMF", fr.Bytes())
		}
	}
	if len(exif) > 0 {
		writeRIFFChunk(&body, "EXIF", exif)
	}
	return writeRIFF(w, body.Bytes())
}

func put24(b []byte, v int) {
	b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16)
}

func writeRIFFChunk(w *bytes.Buffer, typ string, data []byte) {
	w.WriteString(typ)
	binary.Write(w, binary.LittleEndian, uint32(len(data)))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte(0)
	}
}

func writeRIFF(w io.Writer, body []byte) error {
	var hdr [12]byte
	copy(hdr[:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(4+len(body)))
	copy(hdr[8:], "WEBP")
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// riffChunks splits a WebP file into its top-level chunks.
func riffChunks(data []byte) ([]Chunk, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, errors.New("imageio: not a WebP file")
	}
	var out []Chunk
	p := 12
	for p+8 <= len(data) {
		typ := string(data[p : p+4])
		n := int(binary.LittleEndian.Uint32(data[p+4:]))
		if n < 0 || p+8+n > len(data) {
			return out, fmt.Errorf("imageio: truncated WebP chunk %q", typ)
		}
		out = append(out, Chunk{Type: typ, Data: data[p+8 : p+8+n]})
		p += 8 + n + n%2
	}
	return out, nil
}

// WebPChunks returns the top-level chunks of a WebP file (for tests and
// metadata readers).
func WebPChunks(data []byte) ([]Chunk, error) { return riffChunks(data) }
