package imageio

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func TestFancyUpsampling(t *testing.T) {
	// h2v1 of [0 100 200] to width 6: edges copied, inner 3:1 blends.
	got := upH2V1([]byte{0, 100, 200}, 3, 1, 6)
	want := []byte{0, (0 + 100 + 2) >> 2, (300 + 0 + 1) >> 2, (300 + 200 + 2) >> 2, (600 + 100 + 1) >> 2, 200}
	if !bytes.Equal(got, want) {
		t.Fatalf("h2v1 %v want %v", got, want)
	}
	// h1v2 of a 1×2 column [0 200] to height 4 (edge rows replicated).
	got = upH1V2([]byte{0, 200}, 1, 2, 4)
	want = []byte{(0 + 0 + 1) >> 2, (0 + 200 + 2) >> 2, (600 + 0 + 1) >> 2, (600 + 200 + 2) >> 2}
	if !bytes.Equal(got, want) {
		t.Fatalf("h1v2 %v want %v", got, want)
	}
	// h2v2 of a 2×1 plane [0 160] to 3×2 (odd width crops the last column).
	got = upH2V2([]byte{0, 160}, 2, 1, 3, 2)
	s0, s1 := 0, 4*160
	row := []byte{byte((s0*4 + 8) >> 4), byte((s0*3 + s1 + 7) >> 4), byte((s1*3 + s0 + 8) >> 4)}
	want = append(append([]byte{}, row...), row...)
	if !bytes.Equal(got, want) {
		t.Fatalf("h2v2 %v want %v", got, want)
	}
}

// The libjpeg tables agree with the JFIF formulas to within one level, and
// a JPEG of a smooth image decodes close to its source.
func TestJPEGDecodeColour(t *testing.T) {
	for _, c := range [][3]byte{{128, 128, 128}, {16, 240, 90}, {255, 0, 0}} {
		yy, cb, cr := color.RGBToYCbCr(c[0], c[1], c[2])
		r := clamp8(int32(yy) + crR[cr])
		g := clamp8(int32(yy) + (cbG[cb]+crG[cr])>>16)
		b := clamp8(int32(yy) + cbB[cb])
		for i, v := range []byte{r, g, b} {
			if d := int(v) - int(c[i]); d < -2 || d > 2 {
				t.Fatalf("%v → %v %v %v", c, r, g, b)
			}
		}
	}
	src := image.NewNRGBA(image.Rect(0, 0, 33, 17))
	for y := 0; y < 17; y++ {
		for x := 0; x < 33; x++ {
			i := src.PixOffset(x, y)
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = byte(x*7), byte(y*15), 128, 255
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, src, &jpeg.Options{Quality: 100})
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	m := d.Frames[0].RGBA
	if d.Frames[0].Mode != "RGB" || m.Width != 33 || m.Height != 17 {
		t.Fatal(d.Frames[0].Mode)
	}
	worst := 0
	for i := range m.Pix {
		if df := int(m.Pix[i]) - int(src.Pix[i]); df > worst || -df > worst {
			worst = max(df, -df)
		}
	}
	if worst > 12 {
		t.Fatalf("decoded JPEG differs by %d levels", worst)
	}
}
