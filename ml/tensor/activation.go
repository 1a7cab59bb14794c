package tensor

import (
	"fmt"
	"math"
)

// Activations. Each XTo(dst, a) writes dst (a's shape, any strided view, may
// be a itself) and returns it; X(a) allocates. Tolerances against float64
// references are stated in the tests: SiLU, sigmoid and quick-GELU use the
// float32 exponential expf below (about 2 ulp); GELU uses float64 erf.

// expf returns e^x in float32 with a relative error of a few ulp. It
// follows the classic Cephes scheme: x = n·ln2 + r with |r| ≤ ln2/2 and
// e^r from a degree-6 polynomial, then scaling by 2^n through the exponent
// bits. Results below the smallest normal float32 (x < -87.336) flush to 0;
// NaN stays NaN and overflow gives +Inf.
func expf(x float32) float32 {
	if !(x > -87.33654) {
		if x != x {
			return x
		}
		return 0
	}
	if x > 88.37626 {
		if x > 88.72284 {
			return float32(math.Inf(1))
		}
		// 2^128 has no exponent code; this sliver is rare enough for float64.
		return float32(math.Exp(float64(x)))
	}
	const (
		log2e = 1.44269504088896341
		magic = 12582912 // 1.5·2^23: adding it rounds to an integer
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	t := float32(x*log2e) + magic
	n := int32(math.Float32bits(t)) - 0x4B400000
	fn := t - magic
	r := x - fn*c1 - fn*c2
	z := r * r
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y := p*z + r + 1
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoidf returns 1/(1+e^-x).
func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

// geluf is the exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as torch's
// default nn.GELU (approximate='none').
func geluf(x float32) float32 {
	return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)*(1/math.Sqrt2))))
}

// SiLUTo sets dst = x·sigmoid(x) = x/(1+e^-x) elementwise and returns dst.
func SiLUTo(dst, a *Tensor) *Tensor {
	return unaryTo("SiLU", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		for i := range d {
			x := s[i]
			d[i] = x / (1 + expf(-x))
		}
	})
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

// GELUTo sets dst = 0.5·x·(1+erf(x/√2)) elementwise (exact GELU) and
// returns dst.
func GELUTo(dst, a *Tensor) *Tensor {
	return unaryTo("GELU", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		for i := range d {
			d[i] = geluf(s[i])
		}
	})
}

// GELU returns the exact (erf) GELU elementwise.
func GELU(a *Tensor) *Tensor { return GELUTo(New(a.Shape...), a) }

// QuickGELUTo sets dst = x·sigmoid(1.702·x) elementwise (CLIP's
// quick_gelu) and returns dst.
func QuickGELUTo(dst, a *Tensor) *Tensor {
	return unaryTo("QuickGELU", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		for i := range d {
			x := s[i]
			d[i] = x / (1 + expf(-1.702*x))
		}
	})
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
			for j := range d {
				d[j] = a[j] * geluf(g[j])
			}
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
