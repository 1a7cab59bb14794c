package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"strings"
	"testing"
)

func testImage(w, h, c int) *Image8 {
	m := NewImage8(w, h, c)
	for i := range m.Pix {
		m.Pix[i] = byte(i*37 + i/7)
	}
	return m
}

// FromFloat keeps numpy's truncating uint8 cast: 200/255 stored as float32
// and multiplied back by 255 in float32 is just below 200 for some values.
func TestFromFloatTruncates(t *testing.T) {
	data := []float32{-0.5, 0, 0.5, 1, 1.5, float32(float64(200) / 255), 0.9999}
	m, err := FromFloat(data, len(data), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 127, 255, 255, byte(float32(float64(200)/255) * 255), 254}
	if !bytes.Equal(m.Pix, want) {
		t.Fatalf("got %v want %v", m.Pix, want)
	}
	if _, err := FromFloat(make([]float32, 5), 5, 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := FromFloat(make([]float32, 5), 1, 1, 5); err == nil {
		t.Fatal("5 channels accepted")
	}
}

func TestPNGRoundTripAllChannelCounts(t *testing.T) {
	for c := 1; c <= 4; c++ {
		for _, level := range []int{0, 1, 4, 9} {
			m := testImage(7, 5, c)
			var buf bytes.Buffer
			if err := EncodePNG(&buf, m, PNGOptions{Level: level}); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("c=%d level=%d: %v", c, level, err)
			}
			d, err := Decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			got := d.Frames[0].RGBA
			want := m.ToRGBA()
			if !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("c=%d level=%d: pixels differ", c, level)
			}
			if img.Bounds().Dx() != 7 || img.Bounds().Dy() != 5 {
				t.Fatal("size")
			}
			wantMode := []string{"", "L", "LA", "RGB", "RGBA"}[c]
			if d.Frames[0].Mode != wantMode || d.Frames[0].HasAlpha != (c == 2 || c == 4) {
				t.Fatalf("c=%d: mode %s alpha %v", c, d.Frames[0].Mode, d.Frames[0].HasAlpha)
			}
		}
	}
}

// Metadata chunks go right after IHDR (where PIL writes pnginfo), after_idat
// ones after the image data, and the reader returns them in order.
func TestPNGTextChunks(t *testing.T) {
	var buf bytes.Buffer
	err := EncodePNG(&buf, testImage(3, 2, 3), PNGOptions{Level: 4,
		Before: []Chunk{TextChunk("prompt", `{"1": {}}`), TextChunk("workflow", `{"é": 1}`)},
		After:  []Chunk{{Type: "comf", Data: []byte("x\x00y")}}})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := ReadChunks(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, c := range chunks {
		types = append(types, c.Type)
	}
	if got := strings.Join(types, ","); got != "IHDR,tEXt,tEXt,IDAT,comf,IEND" {
		t.Fatalf("chunk order %s", got)
	}
	texts, err := ReadPNGText(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) != 2 || texts[0] != (Text{"prompt", `{"1": {}}`}) || texts[1] != (Text{"workflow", `{"é": 1}`}) {
		t.Fatalf("texts %q", texts)
	}
	if TextMap(texts)["prompt"] != `{"1": {}}` {
		t.Fatal("TextMap")
	}
	// A corrupted CRC is an error.
	bad := append([]byte(nil), buf.Bytes()...)
	bad[40] ^= 0xff
	if _, err := ReadPNGText(bytes.NewReader(bad)); err == nil {
		t.Fatal("bad CRC accepted")
	}
}

func TestAPNG(t *testing.T) {
	a, b := testImage(4, 3, 3), testImage(4, 3, 3)
	b.Pix[0] ^= 0xff
	var buf bytes.Buffer
	err := EncodeAPNG(&buf, []*Image8{a, a, b}, APNGOptions{PNGOptions: PNGOptions{Level: 4,
		After: []Chunk{{Type: "comf", Data: []byte("prompt\x00{}")}}}, DurationMs: 166})
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := ReadChunks(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	var seqs []uint32
	var delays []uint16
	for _, c := range chunks {
		types = append(types, c.Type)
		switch c.Type {
		case "acTL":
			if n := binary.BigEndian.Uint32(c.Data); n != 2 {
				t.Fatalf("acTL frames %d (identical frames must merge)", n)
			}
		case "fcTL":
			seqs = append(seqs, binary.BigEndian.Uint32(c.Data))
			delays = append(delays, binary.BigEndian.Uint16(c.Data[20:]))
		case "fdAT":
			seqs = append(seqs, binary.BigEndian.Uint32(c.Data))
		}
	}
	if got := strings.Join(types, ","); got != "IHDR,acTL,fcTL,IDAT,fcTL,fdAT,comf,IEND" {
		t.Fatalf("chunks %s", got)
	}
	if len(seqs) != 3 || seqs[0] != 0 || seqs[1] != 1 || seqs[2] != 2 {
		t.Fatalf("sequence numbers %v", seqs)
	}
	if delays[0] != 332 || delays[1] != 166 {
		t.Fatalf("delays %v", delays)
	}
	// The default image decodes as the first frame.
	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := img.At(0, 0).RGBA(); byte(r>>8) != a.Pix[0] {
		t.Fatal("first frame")
	}
	// One distinct frame → a plain PNG.
	buf.Reset()
	if err := EncodeAPNG(&buf, []*Image8{a, a}, APNGOptions{DurationMs: 100}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("acTL")) {
		t.Fatal("single frame written as APNG")
	}
}

func TestDecodePaletteAndTransparency(t *testing.T) {
	pal := color.Palette{color.NRGBA{10, 20, 30, 255}, color.NRGBA{200, 100, 50, 0}}
	p := image.NewPaletted(image.Rect(0, 0, 3, 2), pal)
	p.SetColorIndex(1, 0, 1)
	var buf bytes.Buffer
	if err := png.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	f := d.Frames[0]
	if f.Mode != "P" || !f.PaletteTransparency || f.HasAlpha {
		t.Fatalf("mode %s trns %v alpha %v", f.Mode, f.PaletteTransparency, f.HasAlpha)
	}
	if got := f.RGBA.Pix[4:8]; !bytes.Equal(got, []byte{200, 100, 50, 0}) {
		t.Fatalf("transparent entry %v", got)
	}
	if got := f.RGBA.Pix[0:4]; !bytes.Equal(got, []byte{10, 20, 30, 255}) {
		t.Fatalf("opaque entry %v", got)
	}
}

// 16-bit greyscale opens as PIL "I;16": convert("RGB") clips at 255.
func TestDecodeGray16Clips(t *testing.T) {
	g := image.NewGray16(image.Rect(0, 0, 3, 1))
	g.SetGray16(0, 0, color.Gray16{Y: 7})
	g.SetGray16(1, 0, color.Gray16{Y: 255})
	g.SetGray16(2, 0, color.Gray16{Y: 40000})
	var buf bytes.Buffer
	png.Encode(&buf, g)
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	f := d.Frames[0]
	if f.Mode != "I;16" || f.HasAlpha {
		t.Fatal(f.Mode)
	}
	if got := []byte{f.RGBA.Pix[0], f.RGBA.Pix[4], f.RGBA.Pix[8]}; !bytes.Equal(got, []byte{7, 255, 255}) {
		t.Fatalf("%v", got)
	}
}

// A PNG header claiming a huge canvas is refused before decoding.
func TestDecompressionBomb(t *testing.T) {
	for _, size := range [][2]uint32{{40000, 10}, {20000, 20000}} {
		var buf bytes.Buffer
		buf.Write(pngSignature)
		hdr := make([]byte, 13)
		binary.BigEndian.PutUint32(hdr, size[0])
		binary.BigEndian.PutUint32(hdr[4:], size[1])
		hdr[8], hdr[9] = 8, 2
		writeChunk(&buf, "IHDR", hdr)
		writeChunk(&buf, "IEND", nil)
		_, err := Decode(buf.Bytes())
		if err == nil || !strings.Contains(err.Error(), "decompression bomb") {
			t.Fatalf("%v: %v", size, err)
		}
	}
	if _, err := Decode([]byte("hello")); err != ErrUnknownFormat {
		t.Fatal(err)
	}
}

func TestOrient(t *testing.T) {
	// 3x2 image with pixel values = index; check corners of every orientation.
	m := NewImage8(3, 2, 1)
	copy(m.Pix, []byte{0, 1, 2, 3, 4, 5})
	want := map[int][]byte{
		1: {0, 1, 2, 3, 4, 5},
		2: {2, 1, 0, 5, 4, 3},
		3: {5, 4, 3, 2, 1, 0},
		4: {3, 4, 5, 0, 1, 2},
		5: {0, 3, 1, 4, 2, 5},
		6: {3, 0, 4, 1, 5, 2}, // 90° clockwise
		7: {5, 2, 4, 1, 3, 0},
		8: {2, 5, 1, 4, 0, 3}, // 90° counter-clockwise
	}
	for o, w := range want {
		got := Orient(m, o)
		if !bytes.Equal(got.Pix, w) {
			t.Errorf("orientation %d: %v want %v", o, got.Pix, w)
		}
	}
}

func TestJPEGOrientationFromExif(t *testing.T) {
	exif := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
	seg := append([]byte("Exif\x00\x00"), exif...)
	data := []byte{0xff, 0xd8, 0xff, 0xe1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	data = append(data, seg...)
	data = append(data, 0xff, 0xda)
	if o := jpegOrientation(data); o != 6 {
		t.Fatalf("orientation %d", o)
	}
}

func TestExifASCIIRoundTrip(t *testing.T) {
	tags := map[uint16]string{0x0110: `prompt:{"1": 2}`, 0x010f: "workflow:{}", 0x010e: "ab"}
	got := ReadExifASCII(ExifASCII(tags))
	for k, v := range tags {
		if got[k] != v {
			t.Fatalf("tag %x = %q want %q", k, got[k], v)
		}
	}
}

func FuzzReadPNGText(f *testing.F) {
	var buf bytes.Buffer
	EncodePNG(&buf, testImage(2, 2, 3), PNGOptions{Level: 1, Before: []Chunk{TextChunk("prompt", "{}")}})
	f.Add(buf.Bytes())
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	var z bytes.Buffer
	z.Write(pngSignature)
	writeChunk(&z, "zTXt", []byte("k\x00\x00\x78\x9c\xcb\x48\xcd\xc9\xc9\x07\x00\x06\x2c\x02\x15"))
	writeChunk(&z, "iTXt", []byte("k\x00\x00\x00en\x00\x00v"))
	f.Add(z.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		texts, _ := ReadPNGText(bytes.NewReader(data))
		for _, tx := range texts {
			_ = tx.Key + tx.Value
		}
	})
}

func TestDecodeAPNGFrames(t *testing.T) {
	a, b, c := testImage(4, 3, 4), testImage(4, 3, 4), testImage(4, 3, 4)
	b.Pix[5] ^= 0x55
	c.Pix[9] ^= 0xaa
	var buf bytes.Buffer
	if err := EncodeAPNG(&buf, []*Image8{a, b, c}, APNGOptions{DurationMs: 50}); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Frames) != 3 {
		t.Fatalf("%d frames", len(d.Frames))
	}
	for i, want := range []*Image8{a, b, c} {
		if !bytes.Equal(d.Frames[i].RGBA.Pix, want.Pix) || d.Frames[i].Mode != "RGBA" {
			t.Fatalf("frame %d differs", i)
		}
	}
}

func TestDecodeGIFFrames(t *testing.T) {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 0, 0}}
	f0 := image.NewPaletted(image.Rect(0, 0, 3, 2), pal)
	f1 := image.NewPaletted(image.Rect(1, 1, 2, 2), pal) // one red pixel at (1,1)
	f1.SetColorIndex(1, 1, 1)
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{f0, f1}, Delay: []int{1, 1}}); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Frames) != 2 || d.Frames[0].Mode != "P" || !d.Frames[0].PaletteTransparency || d.Frames[1].Mode != "RGBA" {
		t.Fatalf("%d frames", len(d.Frames))
	}
	// Frame 1 is frame 0 with the red pixel drawn over it.
	px := d.Frames[1].RGBA.Pix[(1*3+1)*4:]
	if px[0] != 255 || px[1] != 0 || d.Frames[1].RGBA.Pix[0] != 0 || d.Frames[1].RGBA.Pix[3] != 255 {
		t.Fatalf("%v", d.Frames[1].RGBA.Pix)
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	EncodePNG(&buf, testImage(3, 2, 4), PNGOptions{Level: 1})
	f.Add(buf.Bytes())
	buf.Reset()
	EncodeAPNG(&buf, []*Image8{testImage(2, 2, 3), NewImage8(2, 2, 3)}, APNGOptions{DurationMs: 10})
	f.Add(buf.Bytes())
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			return
		}
		for _, fr := range d.Frames {
			if len(fr.RGBA.Pix) != fr.RGBA.Width*fr.RGBA.Height*4 {
				t.Fatal("bad frame buffer")
			}
		}
	})
}

// A PNG eXIf orientation is applied as exif_transpose does.
func TestPNGExifOrientation(t *testing.T) {
	m := NewImage8(3, 2, 3)
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	exif := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
	var buf bytes.Buffer
	if err := EncodePNG(&buf, m, PNGOptions{Level: 1, Before: []Chunk{{Type: "eXIf", Data: exif}}}); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := Orient(m.ToRGBA(), 6)
	if d.Width != 2 || d.Height != 3 || !bytes.Equal(d.Frames[0].RGBA.Pix, want.Pix) {
		t.Fatalf("%dx%d", d.Width, d.Height)
	}
}
