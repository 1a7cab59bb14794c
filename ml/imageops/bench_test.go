package imageops

import (
	"testing"

	"github.com/comfyd/comfyd/ml/tensor"
)

func benchImage() *tensor.Tensor {
	img := tensor.New(1, 1024, 1024, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%251) / 250
	}
	return img
}

func BenchmarkResizeBicubic2x(b *testing.B) {
	img := benchImage()
	for i := 0; i < b.N; i++ {
		Resize(img, 2048, 2048, Bicubic)
	}
}

func BenchmarkBlurR15(b *testing.B) {
	img := benchImage()
	for i := 0; i < b.N; i++ {
		Blur(img, 15, 5)
	}
}

func BenchmarkComposite(b *testing.B) {
	img := benchImage()
	m := tensor.Full(0.5, 1, 1024, 1024)
	for i := 0; i < b.N; i++ {
		Composite(img, img, 0, 0, m, false)
	}
}
