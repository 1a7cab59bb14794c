package tensor

import (
	"math"

	"github.com/comfyd/comfyd/ml/tensor/internal/vec"
)

// Softmax returns softmax along the last dimension, computed stably by
// subtracting each row's maximum first.
//
// Reference loop, for every row r of length L:
//
//	m = max_j x[r,j]; s = Σ_j exp(x[r,j]-m); y[r,j] = exp(x[r,j]-m) / s
//
// A row that is all -Inf gives NaN, as torch. Tolerance vs float64: ~1e-6
// relative.
func Softmax(x *Tensor) *Tensor { return SoftmaxTo(New(x.Shape...), x) }

// SoftmaxTo is Softmax writing into dst (x's shape, unit-stride last
// dimension, may be x itself); it returns dst.
func SoftmaxTo(dst, x *Tensor) *Tensor {
	mustF32("Softmax", dst, x)
	if x.Dims() == 0 {
		panic("tensor: Softmax of a scalar")
	}
	checkDst("Softmax", dst, x.Shape)
	mustUnitLast("Softmax", dst)
	x = unitLast(x)
	l := x.Dim(-1)
	rows := numel(x.Shape[:x.Dims()-1])
	ParallelFor(rows, max(1, elemGrain/max(l, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xo, do := rowOffset(x, r), rowOffset(dst, r)
			softmaxRow(dst.Data[do:do+l], x.Data[xo:xo+l])
		}
	})
	return dst
}

// softmaxRow writes softmax(src) to d (which may alias src).
func softmaxRow(d, src []float32) {
	if len(d) == 0 {
		return
	}
	m := vec.Max(src[:len(d)])
	if math.IsInf(float64(m), -1) {
		m = 0 // all -Inf: exp(-Inf - 0) = 0, the sum is 0 and the row NaN, as torch
	}
	s := vec.ExpSubSum(d, src, m) // summed in float64: a float32 sum drifts ~1e-6 over 4096 keys
	inv := float32(1 / s)
	for i := range d {
		d[i] *= inv
	}
}
