package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refConv2d is Conv2d's reference loop, in float64 with per-entry bounds
// γ(k+2)·(Σ|w||x| + |bias|).
func refConv2d(x, w, bias *Tensor, stride, pad int) (want, bound []float64) {
	nb, cin, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	cout, kh, kw := w.Dim(0), w.Dim(2), w.Dim(3)
	ho, wo := (h+2*pad-kh)/stride+1, (wd+2*pad-kw)/stride+1
	k := cin * kh * kw
	for n := 0; n < nb; n++ {
		for co := 0; co < cout; co++ {
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					var s, abs float64
					if bias != nil {
						s = float64(bias.At(co))
						abs = math.Abs(s)
					}
					for ci := 0; ci < cin; ci++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy, ix := oy*stride+ky-pad, ox*stride+kx-pad
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								v := float64(w.At(co, ci, ky, kx)) * float64(x.At(n, ci, iy, ix))
								s += v
								abs += math.Abs(v)
							}
						}
					}
					want = append(want, s)
					bound = append(bound, float64(k+3)/(1<<24)*abs)
				}
			}
		}
	}
	return want, bound
}

func TestConv2d(t *testing.T) {
	eachGEMMPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 11))
		cases := []struct {
			n, cin, h, w, cout, k, stride, pad int
		}{
			{1, 3, 7, 9, 5, 3, 1, 1},
			{2, 4, 13, 13, 7, 3, 2, 1},
			{1, 5, 16, 16, 33, 3, 1, 1},
			{1, 8, 12, 33, 17, 3, 2, 1},
			{1, 6, 9, 65, 14, 1, 1, 0},
			{2, 33, 5, 7, 13, 1, 1, 0},
			{1, 2, 8, 8, 65, 3, 1, 0},
			{1, 3, 6, 5, 4, 3, 2, 0},
			{1, 16, 4, 4, 130, 3, 1, 1}, // Cout > H·W: the other sharing strategy
			{1, 2, 3, 3, 3, 5, 1, 2},
			{1, 3, 10, 10, 4, 1, 2, 0}, // 1×1 strided goes through im2col
			{2, 5, 9, 40, 16, 3, 1, 1}, // wide rows: patches read in place, ragged panels packed
			{1, 7, 6, 64, 9, 3, 1, 1},
			{1, 3, 5, 33, 3, 3, 1, 0},
			{1, 30, 4, 32, 5, 1, 1, 0},
		}
		for _, c := range cases {
			for _, dt := range []DType{F32, F16, BF16} {
				x := mmRand(r, c.n, c.cin, c.h, c.w)
				w := HalfFromFloat32(mmRand(r, c.cout, c.cin, c.k, c.k), dt)
				bias := mmRand(r, c.cout)
				if c.k == 1 {
					bias = nil
				}
				ho, wo := (c.h+2*c.pad-c.k)/c.stride+1, (c.w+2*c.pad-c.k)/c.stride+1
				dst := mmGuarded(c.n, c.cout, ho, wo)
				Conv2dTo(dst, x, w, bias, c.stride, c.pad)
				mmCheckGuard(t, dst)
				want, bound := refConv2d(x, w, bias, c.stride, c.pad)
				mmCompare(t, fmt.Sprintf("%+v %v", c, dt), dst, want, bound)
				pdst := mmGuarded(c.n, c.cout, ho, wo)
				Conv2dPackedTo(pdst, x, PackConv2dWeight(w), bias, c.stride, c.pad)
				mmCheckGuard(t, pdst)
				mmCompare(t, fmt.Sprintf("packed %+v %v", c, dt), pdst, want, bound)
			}
		}
		// A strided (non-contiguous) input view.
		x := mmRand(r, 1, 4, 11, 12).Permute(0, 1, 3, 2).Slice(2, 1, 11)
		w := mmRand(r, 6, 4, 3, 3)
		want, bound := refConv2d(x, w, nil, 1, 1)
		mmCompare(t, "strided input", Conv2d(x, w, nil, 1, 1), want, bound)
	})
}

// TestConv2dRandom draws convolution shapes at random (wide and narrow
// rows, both strides, padding, batch, storage types) on every GEMM path.
func TestConv2dRandom(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 10
	}
	eachGEMMPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 13))
		for i := 0; i < n; i++ {
			k := []int{1, 3, 3, 3}[r.IntN(4)]
			stride, pad := 1+r.IntN(2), r.IntN(2)
			if k == 1 {
				pad = 0
			}
			nb, cin, cout := 1+r.IntN(2), 1+r.IntN(9), 1+r.IntN(40)
			h, w := k+r.IntN(12), k+r.IntN(70)
			dt := []DType{F32, F16, BF16}[r.IntN(3)]
			x := mmRand(r, nb, cin, h, w)
			wt := HalfFromFloat32(mmRand(r, cout, cin, k, k), dt)
			var bias *Tensor
			if r.IntN(2) == 0 {
				bias = mmRand(r, cout)
			}
			want, bound := refConv2d(x, wt, bias, stride, pad)
			name := fmt.Sprintf("x%v w%v s%d p%d %v", x.Shape, wt.Shape, stride, pad, dt)
			mmCompare(t, name, Conv2d(x, wt, bias, stride, pad), want, bound)
			mmCompare(t, "packed "+name, Conv2dPacked(x, PackConv2dWeight(wt), bias, stride, pad), want, bound)
		}
	})
}
