package tensor

import (
	"math"
	"testing"
)

func TestActivations(t *testing.T) {
	rng := newRNG(4)
	ops := []struct {
		name       string
		to         func(d, a *Tensor) *Tensor
		ref        func(x float64) float64
		rtol, atol float64
	}{
		{"SiLU", SiLUTo, func(x float64) float64 { return x / (1 + math.Exp(-x)) }, 1e-6, 1e-7},
		{"Sigmoid", SigmoidTo, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 1e-6, 1e-7},
		{"GELU", GELUTo, func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }, 1e-6, 1e-7},
		{"QuickGELU", QuickGELUTo, func(x float64) float64 { return x / (1 + math.Exp(-1.702*x)) }, 1e-6, 1e-7},
	}
	for _, op := range ops {
		for _, sh := range [][]int{{3, 7, 11}, {1}, {257, 301}} {
			for _, a := range []*Tensor{randT(rng, 12, sh...), stridedT(rng, 12, sh...)} {
				dst := paddedT(sh...)
				op.to(dst, a)
				checkPad(t, dst)
				in := a.Values()
				want := make([]float64, len(in))
				for i, x := range in {
					want[i] = op.ref(float64(x))
				}
				closeTo(t, op.name, dst.Values(), want, op.rtol, op.atol)
			}
		}
		// extremes
		a := FromData([]float32{-200, -88, -20, 0, 20, 88, 200}, 7)
		got := op.to(New(7), a).Values()
		want := make([]float64, 7)
		for i, x := range a.Data {
			want[i] = op.ref(float64(x))
		}
		closeTo(t, op.name+" extremes", got, want, 1e-6, 1e-30)
	}
}

func TestGEGLU(t *testing.T) {
	rng := newRNG(5)
	for _, sh := range [][]int{{2, 5, 6}, {1, 2}, {3, 130}} {
		for _, x := range []*Tensor{randT(rng, 4, sh...), stridedT(rng, 4, sh...)} {
			h := sh[len(sh)-1] / 2
			osh := append(append([]int(nil), sh[:len(sh)-1]...), h)
			dst := paddedT(osh...)
			GEGLUTo(dst, x)
			checkPad(t, dst)
			var want []float64
			eachIndex(osh, func(idx []int) {
				a := float64(x.At(idx...))
				gi := append([]int(nil), idx...)
				gi[len(gi)-1] += h
				g := float64(x.At(gi...))
				want = append(want, a*0.5*g*(1+math.Erf(g/math.Sqrt2)))
			})
			closeTo(t, "GEGLU", dst.Values(), want, 1e-6, 1e-7)
		}
	}
}
