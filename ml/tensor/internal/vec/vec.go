// Package vec holds the transcendental hot loops of ml/tensor on contiguous
// float32 slices: the exponential (softmax, attention, SiLU) and the exact
// GELU. The scalar functions in this file are the reference; on amd64 with
// AVX2 and FMA, assembly computes the same formulas eight lanes at a time
// (fused multiply-adds round once, so lanes may differ from the scalar
// result in the last bits; the tests bound the difference). Slice tails
// shorter than a vector use the scalar code.
//
// It is internal to ml/tensor and imports nothing of comfyd's beyond
// ml/tensor/internal/cpu.
package vec

import "math"

// Exp32 returns e^x in float32 with a relative error of a few ulp, by the
// classic Cephes scheme: x = n·ln2 + r with |r| ≤ ln2/2, e^r from a degree-6
// polynomial, then scaling by 2^n through the exponent bits. Results below
// the smallest normal float32 (x < -87.33654) flush to 0; NaN stays NaN.
// The vector kernels return +Inf for x > 88.37626, a hair before true
// overflow at 88.7228; this scalar version is exact there too.
func Exp32(x float32) float32 {
	if !(x > -87.33654) {
		if x != x {
			return x
		}
		return 0
	}
	if x > 88.37626 {
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

// SiLU32 returns x·sigmoid(x) = x/(1+e^-x).
func SiLU32(x float32) float32 { return x / (1 + Exp32(-x)) }

// GELU32 returns the exact GELU x·Φ(x) = 0.5·x·(1+erf(x/√2)), through the
// complementary error function so that the far negative tail keeps its
// relative accuracy: with z = |x|/√2,
//
//	erfc(z) ≈ t·exp(-z² + P(t)), t = 1/(1+z/2)
//
// (the Chebyshev fit of Numerical Recipes' erfcc, fractional error below
// 1.2e-7 for all z ≥ 0), and Φ(x) = 1 - erfc(z)/2 for x ≥ 0, erfc(z)/2
// otherwise.
func GELU32(x float32) float32 {
	z := float32(math.Abs(float64(x))) * 0.70710678
	t := 1 / (1 + 0.5*z)
	p := -1.26551223 + t*(1.00002368+t*(0.37409196+t*(0.09678418+t*(-0.18628806+t*(0.27886807+t*(-1.13520398+t*(1.48851587+t*(-0.82215223+t*0.17087277))))))))
	h := 0.5 * t * Exp32(p-z*z)
	if x >= 0 {
		return x * (1 - h)
	}
	return x * h
}

// ExpSubSum sets dst[i] = e^(src[i]-m) and returns Σ dst[i], summed in
// float64 (the softmax numerator and denominator in one pass). dst may be
// src.
func ExpSubSum(dst, src []float32, m float32) float64 {
	src = src[:len(dst)]
	done, s := expSubSumBulk(dst, src, m)
	for i := done; i < len(dst); i++ {
		e := Exp32(src[i] - m)
		dst[i] = e
		s += float64(e)
	}
	return s
}

// Max returns the largest element of a non-empty slice. With NaNs present
// the result is unspecified (callers' sums turn NaN anyway).
func Max(src []float32) float32 {
	done, m := maxBulk(src)
	if done == 0 {
		m = src[0]
	}
	for _, v := range src[done:] {
		if v > m {
			m = v
		}
	}
	return m
}

// SiLU sets dst[i] = SiLU32(src[i]); dst may be src.
func SiLU(dst, src []float32) {
	src = src[:len(dst)]
	done := siluBulk(dst, src, 1)
	for i := done; i < len(dst); i++ {
		dst[i] = SiLU32(src[i])
	}
}

// QuickGELU32 returns x·sigmoid(1.702·x) = x/(1+e^(-1.702·x)) (CLIP's
// quick_gelu).
func QuickGELU32(x float32) float32 { return x / (1 + Exp32(-1.702*x)) }

// QuickGELU sets dst[i] = QuickGELU32(src[i]); dst may be src.
func QuickGELU(dst, src []float32) {
	src = src[:len(dst)]
	done := siluBulk(dst, src, 1.702)
	for i := done; i < len(dst); i++ {
		dst[i] = QuickGELU32(src[i])
	}
}

// GELU sets dst[i] = GELU32(src[i]); dst may be src.
func GELU(dst, src []float32) {
	src = src[:len(dst)]
	done := geluBulk(dst, src, nil)
	for i := done; i < len(dst); i++ {
		dst[i] = GELU32(src[i])
	}
}

// GELUMul sets dst[i] = a[i]·GELU32(g[i]) (SD's GEGLU); dst may alias a or g.
func GELUMul(dst, g, a []float32) {
	g = g[:len(dst)]
	a = a[:len(dst)]
	done := geluBulk(dst, g, a)
	for i := done; i < len(dst); i++ {
		dst[i] = a[i] * GELU32(g[i])
	}
}

// Sum returns Σ s[i], accumulated in float64.
func Sum(s []float32) float64 {
	done, t := sumBulk(s)
	for _, v := range s[done:] {
		t += float64(v)
	}
	return t
}

// SumSqDev returns Σ (s[i]-m)², accumulated in float64 (the second pass of
// a two-pass variance).
func SumSqDev(s []float32, m float32) float64 {
	done, t := sumSqDevBulk(s, m)
	for _, v := range s[done:] {
		d := v - m
		t += float64(d * d)
	}
	return t
}

// ScaleShift sets dst[i] = src[i]·a + b (one fused rounding in the vector
// code); dst may be src.
func ScaleShift(dst, src []float32, a, b float32) {
	src = src[:len(dst)]
	done := scaleShiftBulk(dst, src, a, b)
	for i := done; i < len(dst); i++ {
		dst[i] = src[i]*a + b
	}
}

// MulAdd sets dst[i] = dst[i]·g[i] + b[i] (a per-column affine, LayerNorm's
// gamma and beta; one fused rounding in the vector code).
func MulAdd(dst, g, b []float32) {
	g = g[:len(dst)]
	b = b[:len(dst)]
	done := mulAddBulk(dst, g, b)
	for i := done; i < len(dst); i++ {
		dst[i] = dst[i]*g[i] + b[i]
	}
}

// ExpSubSum32 is ExpSubSum with the sum kept in float32 (eight lanes, then
// the tail): a quarter faster, for rows of at most a few hundred elements
// (attention's key blocks), where the sum's relative error stays below
// n/8·2^-24.
func ExpSubSum32(dst, src []float32, m float32) float32 {
	src = src[:len(dst)]
	done, s := expSubSum32Bulk(dst, src, m)
	for i := done; i < len(dst); i++ {
		e := Exp32(src[i] - m)
		dst[i] = e
		s += e
	}
	return s
}
