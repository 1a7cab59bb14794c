package imageio

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// Chunk is a raw PNG chunk (type and payload; the length and CRC are
// computed on write).
type Chunk struct {
	Type string
	Data []byte
}

// TextChunk returns a tEXt chunk key\0value. PIL writes str values as
// Latin-1; runes above U+00FF cannot be stored and become '?' (ComfyUI's
// JSON metadata is ASCII, json.dumps escapes everything else).
func TextChunk(key, value string) Chunk {
	var b bytes.Buffer
	writeLatin1(&b, key)
	b.WriteByte(0)
	writeLatin1(&b, value)
	return Chunk{Type: "tEXt", Data: b.Bytes()}
}

func writeLatin1(b *bytes.Buffer, s string) {
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b.WriteByte(byte(r))
	}
}

// PNGOptions control EncodePNG.
type PNGOptions struct {
	// Level is the zlib compression level 0..9, as PIL's compress_level:
	// ComfyUI's SaveImage uses 4, PreviewImage 1. compress/zlib takes the
	// same levels, so no rounding to Go's png.Encoder presets is needed.
	Level int
	// Before are written after IHDR, before the image data (tEXt metadata,
	// where PIL puts pnginfo chunks).
	Before []Chunk
	// After are written after the last image data chunk (PIL's after_idat,
	// used by SaveAnimatedPNG's "comf" chunks).
	After []Chunk
}

// EncodePNG writes m as an 8-bit PNG: L → greyscale, LA → grey+alpha,
// RGB → truecolour, RGBA → truecolour+alpha. The colour type follows the
// channel count (as PIL's mode does), never the pixel values.
func EncodePNG(w io.Writer, m *Image8, o PNGOptions) error {
	if err := checkEncodable(m); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(pngSignature)
	writeChunk(bw, "IHDR", ihdr(m))
	for _, c := range o.Before {
		writeChunk(bw, c.Type, c.Data)
	}
	z, err := compressFrame(m, o.Level)
	if err != nil {
		return err
	}
	writeIDAT(bw, z)
	for _, c := range o.After {
		writeChunk(bw, c.Type, c.Data)
	}
	writeChunk(bw, "IEND", nil)
	return bw.Flush()
}

// APNGOptions control EncodeAPNG.
type APNGOptions struct {
	PNGOptions
	// DurationMs is each frame's display time (PIL's duration, written as
	// delay_num/1000).
	DurationMs int
	// Loops is acTL num_plays (0 = forever, PIL's default).
	Loops int
}

// EncodeAPNG writes frames as an animated PNG the way PIL's save_all does
// with default options: consecutive identical frames are merged (their
// durations added); when a single distinct frame remains a plain PNG is
// written. Every frame is stored whole (PIL crops frames to the changed
// region; the displayed result is the same). All frames must share size and
// channel count.
func EncodeAPNG(w io.Writer, frames []*Image8, o APNGOptions) error {
	if len(frames) == 0 {
		return errors.New("imageio: no frames")
	}
	type frame struct {
		m   *Image8
		dur int
	}
	var fs []frame
	for _, f := range frames {
		if err := checkEncodable(f); err != nil {
			return err
		}
		if f.Width != frames[0].Width || f.Height != frames[0].Height || f.Channels != frames[0].Channels {
			return errors.New("imageio: APNG frames differ in size or channels")
		}
		if n := len(fs); n > 0 && bytes.Equal(fs[n-1].m.Pix, f.Pix) {
			fs[n-1].dur += o.DurationMs
			continue
		}
		fs = append(fs, frame{f, o.DurationMs})
	}
	if len(fs) == 1 {
		return EncodePNG(w, fs[0].m, o.PNGOptions)
	}
	bw := bufio.NewWriter(w)
	bw.Write(pngSignature)
	first := fs[0].m
	writeChunk(bw, "IHDR", ihdr(first))
	for _, c := range o.Before {
		writeChunk(bw, c.Type, c.Data)
	}
	actl := make([]byte, 8)
	binary.BigEndian.PutUint32(actl, uint32(len(fs)))
	binary.BigEndian.PutUint32(actl[4:], uint32(o.Loops))
	writeChunk(bw, "acTL", actl)
	seq := uint32(0)
	for i, f := range fs {
		fctl := make([]byte, 26)
		binary.BigEndian.PutUint32(fctl[0:], seq)
		binary.BigEndian.PutUint32(fctl[4:], uint32(f.m.Width))
		binary.BigEndian.PutUint32(fctl[8:], uint32(f.m.Height))
		// x, y offsets 0; delay f.dur/1000 s; dispose_op NONE, blend_op SOURCE.
		binary.BigEndian.PutUint16(fctl[20:], uint16(min(f.dur, 0xffff)))
		binary.BigEndian.PutUint16(fctl[22:], 1000)
		writeChunk(bw, "fcTL", fctl)
		seq++
		z, err := compressFrame(f.m, o.Level)
		if err != nil {
			return err
		}
		if i == 0 {
			writeIDAT(bw, z)
			continue
		}
		for len(z) > 0 {
			n := min(len(z), maxIDAT)
			data := make([]byte, 4+n)
			binary.BigEndian.PutUint32(data, seq)
			copy(data[4:], z[:n])
			writeChunk(bw, "fdAT", data)
			seq++
			z = z[n:]
		}
	}
	for _, c := range o.After {
		writeChunk(bw, c.Type, c.Data)
	}
	writeChunk(bw, "IEND", nil)
	return bw.Flush()
}

const maxIDAT = 1 << 16

func checkEncodable(m *Image8) error {
	if m == nil || m.Width <= 0 || m.Height <= 0 {
		return errors.New("imageio: cannot encode an empty image")
	}
	if m.Channels < 1 || m.Channels > 4 {
		return fmt.Errorf("imageio: cannot encode %d channels", m.Channels)
	}
	if len(m.Pix) != m.Width*m.Height*m.Channels {
		return errors.New("imageio: pixel buffer does not match the size")
	}
	return nil
}

func ihdr(m *Image8) []byte {
	b := make([]byte, 13)
	binary.BigEndian.PutUint32(b[0:], uint32(m.Width))
	binary.BigEndian.PutUint32(b[4:], uint32(m.Height))
	b[8] = 8
	b[9] = [...]byte{0, 0, 4, 2, 6}[m.Channels]
	return b
}

func writeChunk(w io.Writer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	w.Write(hdr[:])
	w.Write(data)
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc.Sum32())
	w.Write(c[:])
}

func writeIDAT(w io.Writer, z []byte) {
	for len(z) > 0 {
		n := min(len(z), maxIDAT)
		writeChunk(w, "IDAT", z[:n])
		z = z[n:]
	}
}

// compressFrame filters every row (the filter with the least sum of
// absolute values, libpng's heuristic, as PIL does; none at level 0) and
// deflates the result at the given zlib level.
func compressFrame(m *Image8, level int) ([]byte, error) {
	if level < 0 || level > 9 {
		return nil, fmt.Errorf("imageio: compress level %d out of 0..9", level)
	}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, err
	}
	bpp := m.Channels
	stride := m.Width * bpp
	prev := make([]byte, stride)
	cand := [5][]byte{}
	for i := range cand {
		cand[i] = make([]byte, stride+1)
		cand[i][0] = byte(i)
	}
	for y := 0; y < m.Height; y++ {
		cur := m.Pix[y*stride : (y+1)*stride]
		best := 0
		if level == 0 {
			copy(cand[0][1:], cur)
		} else {
			best = filterRow(cand, cur, prev, bpp)
		}
		if _, err := zw.Write(cand[best]); err != nil {
			return nil, err
		}
		prev = cur
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// filterRow fills the five candidate rows and returns the best filter.
// Each filter is its own tight loop (the first bpp bytes have no left
// neighbour, so a = c = 0 there).
func filterRow(cand [5][]byte, cur, prev []byte, bpp int) int {
	n := len(cur)
	none, sub, up, avg, paeth := cand[0][1:n+1], cand[1][1:n+1], cand[2][1:n+1], cand[3][1:n+1], cand[4][1:n+1]
	prev = prev[:n]
	var sums [5]int
	copy(none, cur)
	for i, x := range cur {
		sums[0] += absSigned(x)
		b := prev[i]
		up[i] = x - b
		sums[2] += absSigned(up[i])
	}
	for i := 0; i < bpp && i < n; i++ {
		x, b := cur[i], prev[i]
		sub[i] = x
		avg[i] = x - b/2
		paeth[i] = x - b // predictor(0, b, 0) = b
	}
	for i := bpp; i < n; i++ {
		x, a, b, c := cur[i], cur[i-bpp], prev[i], prev[i-bpp]
		sub[i] = x - a
		avg[i] = x - byte((int(a)+int(b))>>1)
		// Paeth predictor, as in the PNG specification.
		pa := int(b) - int(c)
		pb := int(a) - int(c)
		pc := pa + pb
		pa, pb, pc = absInt(pa), absInt(pb), absInt(pc)
		pr := c
		if pa <= pb && pa <= pc {
			pr = a
		} else if pb <= pc {
			pr = b
		}
		paeth[i] = x - pr
	}
	for i := 0; i < n; i++ {
		sums[1] += absSigned(sub[i])
		sums[3] += absSigned(avg[i])
		sums[4] += absSigned(paeth[i])
	}
	best := 0
	for f := 1; f < 5; f++ {
		if sums[f] < sums[best] {
			best = f
		}
	}
	return best
}

func absInt(x int) int {
	m := x >> 63
	return (x ^ m) - m
}

func absSigned(b byte) int { return absInt(int(int8(b))) }
