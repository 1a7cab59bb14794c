package rng

import "math"

// The float32 log and sincos of PyTorch's avx_mathfun.h (after Julien
// Pommier's sse_mathfun, itself the cephes logf/sinf/cosf), one lane at a
// time. Every operation is rounded to float32 in the order the vector code
// performs it. PyTorch's AVX2 kernels are built by GCC with -mfma and its
// default -ffp-contract=fast, so a product whose only use is an add or a
// subtract becomes one fused multiply-add (when both operands of an add are
// products, the earlier product is the one fused). fma32 marks each such
// place; plain products are wrapped in float32() so that Go never fuses
// them itself. The golden noise pins this: without the fused steps about
// 1% of the values differ in the last bit.

const (
	cephesSQRTHF = float32(0.707106781186547524)
	logP0        = float32(7.0376836292e-2)
	logP1        = float32(-1.1514610310e-1)
	logP2        = float32(1.1676998740e-1)
	logP3        = float32(-1.2420140846e-1)
	logP4        = float32(+1.4249322787e-1)
	logP5        = float32(-1.6668057665e-1)
	logP6        = float32(+2.0000714765e-1)
	logP7        = float32(-2.4999993993e-1)
	logP8        = float32(+3.3333331174e-1)
	logQ1        = float32(-2.12194440e-4)
	logQ2        = float32(0.693359375)

	minusDP1   = float32(-0.78515625)
	minusDP2   = float32(-2.4187564849853515625e-4)
	minusDP3   = float32(-3.77489497744594108e-8)
	sincofP0   = float32(-1.9515295891e-4)
	sincofP1   = float32(8.3321608736e-3)
	sincofP2   = float32(-1.6666654611e-1)
	coscofP0   = float32(2.443315711809948e-005)
	coscofP1   = float32(-1.388731625493765e-003)
	coscofP2   = float32(4.166664568298827e-002)
	fourOverPi = float32(1.27323954473516)
)

func mul(a, b float32) float32 { return float32(a * b) }

// fma32 returns a·b + c rounded once to float32. a·b is exact in float64;
// the sum is rounded to float64 and then to float32, so the one case where
// that double rounding could differ from a single rounding (a float64 sum
// on a float32 tie that was not exact) is nudged toward the lost part.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cf := float64(c)
	s := p + cf
	// TwoSum: err is exactly (p + cf) - s.
	bb := s - p
	err := (p - (s - bb)) + (cf - bb)
	if err != 0 && math.Float64bits(s)&(1<<29-1) == 1<<28 {
		if (err > 0) == (s > 0) {
			s = math.Nextafter(s, math.Inf(1)*s)
		} else {
			s = math.Nextafter(s, 0)
		}
	}
	return float32(s)
}

// logPoly is log256_ps for one lane (x > 0; u1 is in (0, 1]).
func logPoly(x float32) float32 {
	if x <= 0 {
		return float32(math.NaN())
	}
	if x < 0x1p-126 {
		x = 0x1p-126
	}
	bits := math.Float32bits(x)
	e := float32(int32(bits>>23)-0x7f) + 1
	x = math.Float32frombits(bits&^0x7f800000 | math.Float32bits(0.5))
	var tmp float32
	if x < cephesSQRTHF {
		tmp = x
		e -= 1
	}
	x = x - 1
	x = x + tmp
	z := mul(x, x)
	y := logP0
	for _, p := range [...]float32{logP1, logP2, logP3, logP4, logP5, logP6, logP7, logP8} {
		y = fma32(y, x, p)
	}
	y = mul(y, x)
	// y·z + e·q1: the earlier product (y·z) is the fused one.
	y = fma32(y, z, mul(e, logQ1))
	y = fma32(-z, 0.5, y)
	x = x + y
	x = fma32(e, logQ2, x)
	return x
}

// sincosPoly is sincos256_ps for one lane.
func sincosPoly(x float32) (s, c float32) {
	signSin := math.Float32bits(x) & 0x80000000
	x = float32(math.Abs(float64(x)))
	y := mul(x, fourOverPi)
	j := int32(y) // cvttps: truncation
	j = (j + 1) &^ 1
	y = float32(j)
	swapSin := uint32(j&4) << 29
	polyMask := j&2 == 0
	x = fma32(y, minusDP1, x)
	x = fma32(y, minusDP2, x)
	x = fma32(y, minusDP3, x)
	signCos := uint32(^(j-2)&4) << 29
	signSin ^= swapSin

	z := mul(x, x)
	yc := fma32(coscofP0, z, coscofP1)
	yc = fma32(yc, z, coscofP2)
	yc = mul(yc, z)
	// yc·z − z·0.5: the earlier product is fused.
	yc = fma32(yc, z, -mul(z, 0.5))
	yc = yc + 1

	ys := fma32(sincofP0, z, sincofP1)
	ys = fma32(ys, z, sincofP2)
	ys = mul(ys, z)
	ys = fma32(ys, x, x)

	var sv, cv float32
	if polyMask {
		sv, cv = ys, yc
	} else {
		sv, cv = yc, ys
	}
	s = math.Float32frombits(math.Float32bits(sv) ^ signSin)
	c = math.Float32frombits(math.Float32bits(cv) ^ signCos)
	return s, c
}
