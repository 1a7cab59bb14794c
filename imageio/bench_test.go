package imageio

import (
	"bytes"
	"image/png"
	"io"
	"testing"
)

// benchImage is a 512×512 RGB gradient with texture, like a decoded render.
func benchImage() *Image8 {
	m := NewImage8(512, 512, 3)
	for y := 0; y < 512; y++ {
		for x := 0; x < 512; x++ {
			i := (y*512 + x) * 3
			m.Pix[i] = byte(x / 2)
			m.Pix[i+1] = byte(y/2 + (x*y)%7)
			m.Pix[i+2] = byte((x ^ y) & 0x3f)
		}
	}
	return m
}

func benchmarkEncodePNG(b *testing.B, level int) {
	m := benchImage()
	var buf bytes.Buffer
	b.SetBytes(int64(len(m.Pix)))
	for b.Loop() {
		buf.Reset()
		if err := EncodePNG(&buf, m, PNGOptions{Level: level}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/op-out")
}

func BenchmarkEncodePNGLevel1(b *testing.B) { benchmarkEncodePNG(b, 1) }
func BenchmarkEncodePNGLevel4(b *testing.B) { benchmarkEncodePNG(b, 4) }

// The standard library encoder as a peer (default = zlib level 6).
func BenchmarkStdlibPNGDefault(b *testing.B) {
	img := benchImage().Image()
	var buf bytes.Buffer
	b.SetBytes(512 * 512 * 3)
	for b.Loop() {
		buf.Reset()
		png.Encode(&buf, img)
	}
	b.ReportMetric(float64(buf.Len()), "bytes/op-out")
}

func BenchmarkFromFloat512(b *testing.B) {
	data := make([]float32, 512*512*3)
	for i := range data {
		data[i] = float32(i%256) / 255
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		FromFloat(data, 512, 512, 3)
	}
}

func BenchmarkDecodePNG512(b *testing.B) {
	var buf bytes.Buffer
	EncodePNG(&buf, benchImage(), PNGOptions{Level: 4})
	data := buf.Bytes()
	b.SetBytes(512 * 512 * 3)
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	_ = io.Discard
}
