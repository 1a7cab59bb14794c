// Package half converts between float32 and the two 16-bit storage formats
// of model weights: IEEE 754 binary16 ("fp16") and bfloat16. Narrowing rounds
// to nearest, ties to even, like torch's .half() and .bfloat16(); widening is
// exact. Bulk conversions use F16C (VCVTPH2PS/VCVTPS2PH) on amd64 and the
// scalar functions elsewhere.
//
// It is internal to ml/tensor and imports nothing of comfyd's.
package half

import (
	"math"
	"sync"
)

// F16ToF32 widens IEEE half bits to float32 (exact).
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // inf or NaN, payload kept
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case 0: // zero or subnormal: man * 2^-24
		f := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// F32ToF16 narrows float32 to IEEE half bits, rounding to nearest even;
// overflow gives ±inf, NaN stays NaN (quiet).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 112 // half exponent field if normal
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 || exp == 0 { // below half the smallest subnormal, or a float32 subnormal
			return sign
		}
		m := man | 0x800000
		s := uint32(14 - e)
		return sign | uint16(roundShift(m, s))
	}
	h := uint32(e)<<10 | man>>13
	r := man & 0x1fff
	if r > 0x1000 || (r == 0x1000 && h&1 != 0) {
		h++ // a carry into the exponent is the correct rounding, up to inf
	}
	return sign | uint16(h)
}

// roundShift returns m >> s rounded to nearest even.
func roundShift(m, s uint32) uint32 {
	q := m >> s
	r := m & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if r > half || (r == half && q&1 != 0) {
		q++
	}
	return q
}

// BF16ToF32 widens bfloat16 bits to float32 (exact).
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 narrows float32 to bfloat16 bits, rounding to nearest even;
// NaN stays NaN (quiet).
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

var (
	tableOnce sync.Once
	table     *[1 << 16]float32
)

// Table returns a 256 KiB lookup table from half bits to float32, for
// gathers that the vector conversion cannot serve (transposing packs).
func Table() *[1 << 16]float32 {
	tableOnce.Do(func() {
		t := new([1 << 16]float32)
		for i := range t {
			t[i] = F16ToF32(uint16(i))
		}
		table = t
	})
	return table
}

// F16ToF32s widens len(src) halves into dst[:len(src)].
//
// Reference loop:
//
//	for i, h := range src {
//		dst[i] = F16ToF32(h)
//	}
func F16ToF32s(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := bulkF16ToF32(dst, src)
	for i := n; i < len(src); i++ {
		dst[i] = F16ToF32(src[i])
	}
}

// F32ToF16s narrows len(src) floats into dst[:len(src)] with F32ToF16.
func F32ToF16s(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n := bulkF32ToF16(dst, src)
	for i := n; i < len(src); i++ {
		dst[i] = F32ToF16(src[i])
	}
}

// BF16ToF32s widens len(src) bfloat16 values into dst[:len(src)].
func BF16ToF32s(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = math.Float32frombits(uint32(h) << 16)
	}
}

// F32ToBF16s narrows len(src) floats into dst[:len(src)] with F32ToBF16.
func F32ToBF16s(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = F32ToBF16(f)
	}
}
