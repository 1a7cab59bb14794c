package tensor

import (
	"fmt"

	"github.com/comfyd/comfyd/ml/tensor/internal/vec"
)

// Activations. Each XTo(dst, a) writes dst (a's shape, any strided view, may
// be a itself) and returns it; X(a) allocates. The transcendental loops live
// in internal/vec (scalar reference plus AVX2 kernels): SiLU, sigmoid and
// quick-GELU are within 1e-6 relative of float64; GELU (through erfc) within
// 1e-6 relative for |x| < 4 and ~x²·2^-24 beyond (results there are < 1e-4
// in magnitude for x < 0, and x itself to float32 precision for x > 0).

// sigmoidf returns 1/(1+e^-x).
func sigmoidf(x float32) float32 { return 1 / (1 + vec.Exp32(-x)) }

// SiLUTo sets dst = x·sigmoid(x) = x/(1+e^-x) elementwise and returns dst.
func SiLUTo(dst, a *Tensor) *Tensor {
	return unaryTo("SiLU", dst, a, vec.SiLU)
}

// SiLU returns x·sigmoid(x) elementwise.
func SiLU(a *Tensor) *Tensor { return SiLUTo(New(a.Shape...), a) }

// SigmoidTo sets dst = 1/(1+e^-x) elementwise and returns dst.
func SigmoidTo(dst, a *Tensor) *Tensor {
	return unaryTo("Sigmoid", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		for i := range d {
			d[i] = sigmoidf(s[i])
		}
	})
}

// Sigmoid returns 1/(1+e^-x) elementwise.
func Sigmoid(a *Tensor) *Tensor { return SigmoidTo(New(a.Shape...), a) }

// GELUTo sets dst = 0.5·x·(1+erf(x/√2)) elementwise (exact GELU, torch's
// default approximate='none'; see vec.GELU32) and returns dst.
func GELUTo(dst, a *Tensor) *Tensor {
	return unaryTo("GELU", dst, a, vec.GELU)
}

// GELU returns the exact (erf) GELU elementwise.
func GELU(a *Tensor) *Tensor { return GELUTo(New(a.Shape...), a) }

// QuickGELUTo sets dst = x·sigmoid(1.702·x) elementwise (CLIP's
// quick_gelu) and returns dst.
func QuickGELUTo(dst, a *Tensor) *Tensor {
	return unaryTo("QuickGELU", dst, a, vec.QuickGELU)
}

// QuickGELU returns x·sigmoid(1.702·x) elementwise.
func QuickGELU(a *Tensor) *Tensor { return QuickGELUTo(New(a.Shape...), a) }

// GEGLU splits the last dimension of x (size 2h) into halves a = x[..., :h]
// and gate = x[..., h:] and returns a·gelu(gate), shape [..., h], as SD's
// GEGLU: `x, gate = proj(x).chunk(2, dim=-1); return x * F.gelu(gate)`.
func GEGLU(x *Tensor) *Tensor {
	sh := append([]int(nil), x.Shape...)
	sh[len(sh)-1] /= 2
	return GEGLUTo(New(sh...), x)
}

// GEGLUTo is GEGLU writing into dst (shape [..., h]); it returns dst.
//
// Reference loop, for every row r and j < h:
//
//	dst[r, j] = x[r, j] * gelu(x[r, h+j])
func GEGLUTo(dst, x *Tensor) *Tensor {
	mustF32("GEGLU", dst, x)
	if x.Dims() == 0 || x.Dim(-1)%2 != 0 {
		panic(fmt.Sprintf("tensor: GEGLU needs an even last dimension, got %v", x.Shape))
	}
	h := x.Dim(-1) / 2
	sh := append([]int(nil), x.Shape...)
	sh[len(sh)-1] = h
	checkDst("GEGLU", dst, sh)
	x = unitLast(x)
	mustUnitLast("GEGLU", dst)
	rows := numel(sh[:len(sh)-1])
	ParallelFor(rows, max(1, elemGrain/max(h, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xo := rowOffset(x, r)
			do := rowOffset(dst, r)
			a := x.Data[xo : xo+h]
			g := x.Data[xo+h : xo+2*h]
			d := dst.Data[do : do+h]
			vec.GELUMul(d, g, a)
		}
	})
	return dst
}

// rowOffset returns the storage offset of row r of t viewed as
// [rows, t.Dim(-1)] (row-major over the leading dimensions).
func rowOffset(t *Tensor, r int) int {
	off := t.Offset
	for d := len(t.Shape) - 2; d >= 0 && r > 0; d-- {
		n := t.Shape[d]
		off += (r % n) * t.Strides[d]
		r /= n
	}
	return off
}

// unitLast returns t if its last dimension is unit-stride (or size ≤ 1),
// else a contiguous copy, so row kernels can work on plain slices.
func unitLast(t *Tensor) *Tensor {
	if len(t.Shape) == 0 || t.Shape[len(t.Shape)-1] <= 1 || t.Strides[len(t.Strides)-1] == 1 {
		return t
	}
	return t.Clone()
}

// mustUnitLast panics unless a destination's last dimension is unit-stride.
func mustUnitLast(op string, t *Tensor) {
	if len(t.Shape) > 0 && t.Shape[len(t.Shape)-1] > 1 && t.Strides[len(t.Strides)-1] != 1 {
		panic(fmt.Sprintf("tensor: %s destination needs a unit-stride last dimension", op))
	}
}
