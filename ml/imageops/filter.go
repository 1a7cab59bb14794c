package imageops

import (
	"fmt"
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

// GaussianKernel1D returns the 1-D factor of ComfyUI's gaussian_kernel:
// 2r+1 points of linspace(−1, 1) (so sigma is in units of the radius),
// g = exp(−x²/(2σ²)), normalised to sum 1. ComfyUI builds the 2-D kernel
// exp(−(x²+y²)/(2σ²))/Σ, which is the outer product of this one with itself.
func GaussianKernel1D(radius int, sigma float64) []float32 {
	n := 2*radius + 1
	g := make([]float64, n)
	sum := 0.0
	for i := range g {
		x := -1.0
		if n > 1 {
			x = -1 + 2*float64(i)/float64(n-1)
		}
		g[i] = math.Exp(-(x * x) / (2 * sigma * sigma))
		sum += g[i]
	}
	k := make([]float32, n)
	for i := range g {
		k[i] = float32(g[i] / sum)
	}
	for i := 0; i < n/2; i++ { // exactly symmetric (convSeparable pairs taps)
		k[n-1-i] = k[i]
	}
	return k
}

// reflect maps i into [0, n) as torch's 'reflect' padding does (the edge is
// not repeated: −1 → 1, n → n−2); valid for pads < n.
func reflect(i, n int) int {
	if i < 0 {
		return -i
	}
	if i >= n {
		return 2*(n-1) - i
	}
	return i
}

// Blur is ComfyUI's ImageBlur: each channel is convolved with the
// (2r+1)² Gaussian kernel over the image reflect-padded by r:
//
//	out[y,x] = Σ_i Σ_j k[i]·k[j]·in[reflect(y+i−r), reflect(x+j−r)]
//
// computed separably (rows, then columns). torch's reflect padding needs
// r < H and r < W; otherwise ComfyUI fails and so does Blur.
func Blur(img *tensor.Tensor, radius int, sigma float64) (*tensor.Tensor, error) {
	src, wasMask := asImage(img)
	if radius <= 0 {
		return restore(src.Clone(), wasMask), nil
	}
	B, H, W, C := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	if radius >= H || radius >= W {
		return nil, fmt.Errorf("padding size %d should be less than the image size %dx%d (torch reflect padding)", radius, W, H)
	}
	k := GaussianKernel1D(radius, sigma)
	out := tensor.New(B, H, W, C)
	convSeparable(out.Data, src.Data, B, H, W, C, k)
	return restore(out, wasMask), nil
}

// convSeparable convolves every image with k along x then y, reflecting at
// the borders. Each worker takes bands of rows: it filters the band's rows
// (plus r above and below) horizontally into a scratch buffer, then
// combines them vertically. k must be symmetric: both passes accumulate
// over whole rows, the centre tap first, then k[j]·(p[j] + p[2r−j]) for
// j = 0..r−1, which halves the multiplications (the sum differs from the
// plain left-to-right one only in float rounding, as torch's own conv2d
// order does).
func convSeparable(dst, src []float32, B, H, W, C int, k []float32) {
	r := len(k) / 2
	row := W * C
	band := 64
	bandsPer := (H + band - 1) / band
	tensor.ParallelFor(B*bandsPer, 1, func(lo, hi int) {
		tmp := make([]float32, (band+2*r)*row)
		pad := make([]float32, (W+2*r)*C)
		for job := lo; job < hi; job++ {
			b, bi := job/bandsPer, job%bandsPer
			y0, y1 := bi*band, min((bi+1)*band, H)
			img := src[b*H*row : (b+1)*H*row]
			for yy := y0 - r; yy < y1+r; yy++ {
				ry := reflect(yy, H)
				in := img[ry*row : (ry+1)*row]
				copy(pad[r*C:], in)
				for x := 0; x < r; x++ {
					copy(pad[x*C:(x+1)*C], in[reflect(x-r, W)*C:])
					copy(pad[(W+r+x)*C:(W+r+x+1)*C], in[reflect(W+x, W)*C:])
				}
				o := tmp[(yy-y0+r)*row : (yy-y0+r+1)*row]
				axpyRows(o, pad, k, C)
			}
			for y := y0; y < y1; y++ {
				o := dst[(b*H+y)*row : (b*H+y+1)*row]
				kr := k[r]
				tc := tmp[(y-y0+r)*row:][:len(o)]
				for i := range o {
					o[i] = kr * tc[i]
				}
				for j := 0; j < r; j++ {
					kj := k[j]
					ta := tmp[(y-y0+j)*row:][:len(o)]
					tb := tmp[(y-y0+2*r-j)*row:][:len(o)]
					for i := range o {
						o[i] += kj * (ta[i] + tb[i])
					}
				}
			}
		}
	})
}

// axpyRows sets o[i] = Σ_j k[j]·p[i + j·step] for a symmetric k, pairing
// the taps around the centre as convSeparable describes.
func axpyRows(o, p []float32, k []float32, step int) {
	r := len(k) / 2
	kr := k[r]
	pc := p[r*step:][:len(o)]
	for i := range o {
		o[i] = kr * pc[i]
	}
	for j := 0; j < r; j++ {
		kj := k[j]
		pa := p[j*step:][:len(o)]
		pb := p[(2*r-j)*step:][:len(o)]
		for i := range o {
			o[i] += kj * (pa[i] + pb[i])
		}
	}
}

// Sharpen is ComfyUI's ImageSharpen: the kernel −10α·G (G the blur kernel
// above) with 1 − Σ added at the centre, i.e. (1+10α)·δ − 10α·G, applied
// with reflect padding; the result is clamped to [0, 1]. It is computed as
// (1+10α)·in − 10α·Blur(in).
func Sharpen(img *tensor.Tensor, radius int, sigma, alpha float64) (*tensor.Tensor, error) {
	src, wasMask := asImage(img)
	if radius <= 0 {
		return restore(src.Clone(), wasMask), nil
	}
	blurred, err := Blur(src, radius, sigma)
	if err != nil {
		return nil, err
	}
	a := float32(10 * alpha)
	d := blurred.Data
	tensor.ParallelFor(len(d), 1<<16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = clamp01((1+a)*src.Data[i] - a*d[i])
		}
	})
	return restore(blurred, wasMask), nil
}

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}
