package imageops

import (
	"fmt"
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

// Bislerp is comfy.utils.bislerp (LatentUpscale's "bislerp") on a
// channels-last tensor [B,H,W,C]: each pixel's C-vector is interpolated by
// spherical linear interpolation, first along x to w, then along y to h.
// (A latent [B,C,H,W] must be permuted to channels-last first.)
//
// Per axis (generate_bilinear_data) the source positions are torch's
// bilinear interpolation of arange(L) to the new length: c1 = w0·i0 + w1·i1
// with the bilinear taps, ratio r = c1 − floor(c1), first index int(c1),
// second index int(w0·v[i0] + w1·v[i1]) for v = [1, 2, ..., L−1, L−1].
// slerp(b1, b2, r) normalises both vectors (zero vectors stay zero),
// ω = acos(b̂1·b̂2), res = (sin((1−r)ω)·b̂1 + sin(rω)·b̂2)/sin ω scaled by
// |b1|(1−r) + |b2|r; when b̂1·b̂2 > 1−1e−5 the result is b1, when it is
// < 1e−5−1 the linear mix b1(1−r) + b2·r.
func Bislerp(img *tensor.Tensor, w, h int) (*tensor.Tensor, error) {
	if img.Dims() != 4 || w <= 0 || h <= 0 || img.Dim(1) == 0 || img.Dim(2) == 0 {
		return nil, fmt.Errorf("imageops: bislerp of %v to %dx%d", img.Shape, w, h)
	}
	src := img.Contiguous()
	B, H, W, C := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	// Pass 1: along x.
	r1, a1, b1 := bislerpData(W, w)
	mid := tensor.New(B, H, w, C)
	tensor.ParallelFor(B*H, 8, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			in := src.Data[row*W*C : (row+1)*W*C]
			out := mid.Data[row*w*C : (row+1)*w*C]
			for x := 0; x < w; x++ {
				slerpTo(out[x*C:(x+1)*C], in[a1[x]*C:(a1[x]+1)*C], in[b1[x]*C:(b1[x]+1)*C], r1[x])
			}
		}
	})
	// Pass 2: along y.
	r2, a2, b2 := bislerpData(H, h)
	out := tensor.New(B, h, w, C)
	tensor.ParallelFor(B*h, 8, func(lo, hi int) {
		for job := lo; job < hi; job++ {
			b, y := job/h, job%h
			top := mid.Data[(b*H+a2[y])*w*C:]
			bot := mid.Data[(b*H+b2[y])*w*C:]
			o := out.Data[(b*h+y)*w*C : (b*h+y+1)*w*C]
			for x := 0; x < w; x++ {
				slerpTo(o[x*C:(x+1)*C], top[x*C:(x+1)*C], bot[x*C:(x+1)*C], r2[y])
			}
		}
	})
	return out, nil
}

// bislerpData is generate_bilinear_data: ratios and the two source indices.
func bislerpData(old, n int) (ratio []float32, i1, i2 []int) {
	t := bilinearTaps(old, n)
	ratio = make([]float32, n)
	i1 = make([]int, n)
	i2 = make([]int, n)
	next := func(i int32) float32 { // [1, 2, ..., L−1, L−1]
		if int(i) == old-1 {
			return float32(old - 1)
		}
		return float32(i + 1)
	}
	for o := 0; o < n; o++ {
		j0, j1 := t.idx[2*o], t.idx[2*o+1]
		w0, w1 := t.w[2*o], t.w[2*o+1]
		c1 := float32(float32(j0)*w0) + float32(float32(j1)*w1)
		ratio[o] = c1 - float32(math.Floor(float64(c1)))
		i1[o] = int(c1)
		i2[o] = int(float32(next(j0)*w0) + float32(next(j1)*w1))
	}
	return ratio, i1, i2
}

func slerpTo(out, b1, b2 []float32, r float32) {
	var s1, s2 float32
	for i := range b1 {
		s1 += b1[i] * b1[i]
		s2 += b2[i] * b2[i]
	}
	n1 := float32(math.Sqrt(float64(s1)))
	n2 := float32(math.Sqrt(float64(s2)))
	norm := func(v, n float32) float32 {
		if n == 0 {
			return 0
		}
		return v / n
	}
	var dot float32
	for i := range b1 {
		dot += norm(b1[i], n1) * norm(b2[i], n2)
	}
	switch {
	case dot > 1-1e-5:
		copy(out, b1)
		return
	case dot < 1e-5-1:
		for i := range out {
			out[i] = b1[i]*(1-r) + b2[i]*r
		}
		return
	}
	omega := math.Acos(float64(dot))
	so := float32(math.Sin(omega))
	f1 := float32(math.Sin(float64(float32(1-r)*float32(omega)))) / so
	f2 := float32(math.Sin(float64(r*float32(omega)))) / so
	scale := n1*(1-r) + n2*r
	for i := range out {
		out[i] = (f1*norm(b1[i], n1) + f2*norm(b2[i], n2)) * scale
	}
}
