package imageio

import (
	"bytes"
	"image"
	"strings"
	"testing"

	"github.com/gen2brain/webp"
)

func TestWebPLosslessRoundTrip(t *testing.T) {
	// The binding decodes to premultiplied RGBA, so exactness is checked on
	// opaque pixels plus one alpha value.
	m := testImage(9, 7, 4)
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 255
	}
	m.Pix[3] = 77
	var buf bytes.Buffer
	if err := EncodeWebP(&buf, m.Image(), WebPOptions{Lossless: true, Quality: 80, Method: 4}); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := d.Frames[0].RGBA
	if !d.Frames[0].HasAlpha || got.Pix[3] != 77 || !bytes.Equal(got.Pix[4:], m.Pix[4:]) {
		t.Fatal("lossless WebP changed pixels")
	}
}

func TestAnimatedWebP(t *testing.T) {
	a := testImage(6, 5, 3).Image()
	b := testImage(6, 5, 3)
	for i := range b.Pix {
		b.Pix[i] = 255 - b.Pix[i]
	}
	exif := ExifASCII(map[uint16]string{0x0110: "prompt:{}"})
	var buf bytes.Buffer
	if err := EncodeAnimatedWebP(&buf, []image.Image{a, b.Image()}, 166, WebPOptions{Lossless: true, Method: 0}, exif); err != nil {
		t.Fatal(err)
	}
	chunks, err := WebPChunks(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, c := range chunks {
		types = append(types, c.Type)
	}
	if got := strings.Join(types, ","); got != "VP8X,ANIM,ANMF,ANMF,EXIF" {
		t.Fatalf("chunks %s", got)
	}
	if chunks[0].Data[0] != 0x0a { // animation + EXIF flags
		t.Fatalf("VP8X flags %x", chunks[0].Data[0])
	}
	if got := ReadExifASCII(chunks[4].Data)[0x0110]; got != "prompt:{}" {
		t.Fatalf("exif %q", got)
	}
	all, err := webp.DecodeAll(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Image) != 2 || all.Delay[1] != 166 {
		t.Fatalf("frames %d delays %v", len(all.Image), all.Delay)
	}
	if !bytes.Equal(toNRGBA(all.Image[1]).Pix, b.ToRGBA().Pix) {
		t.Fatal("second frame differs")
	}
	d, err := Decode(buf.Bytes())
	if err != nil || len(d.Frames) != 2 || d.Format != "WEBP" {
		t.Fatalf("Decode: %v", err)
	}
}
