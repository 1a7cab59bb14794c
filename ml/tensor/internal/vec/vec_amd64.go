package vec

import "github.com/comfyd/comfyd/ml/tensor/internal/cpu"

// useAVX2 selects the assembly kernels; tests switch it off to compare.
var useAVX2 = cpu.X86.AVX2 && cpu.X86.FMA

//go:noescape
func expSubSumAVX2(dst, src *float32, n int, m float32) float64

//go:noescape
func maxAVX2(src *float32, n int) float32

//go:noescape
func siluAVX2(dst, src *float32, n int, k float32)

//go:noescape
func geluAVX2(dst, src, mul *float32, n int)

// The bulk functions process the longest prefix that is a multiple of 8
// and return its length.

func expSubSumBulk(dst, src []float32, m float32) (int, float64) {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return n, expSubSumAVX2(&dst[0], &src[0], n, m)
}

func maxBulk(src []float32) (int, float32) {
	n := len(src) &^ 7
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return n, maxAVX2(&src[0], n)
}

func siluBulk(dst, src []float32, k float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	siluAVX2(&dst[0], &src[0], n, k)
	return n
}

func geluBulk(dst, src, mul []float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	var mp *float32
	if mul != nil {
		mp = &mul[0]
	}
	geluAVX2(&dst[0], &src[0], mp, n)
	return n
}

//go:noescape
func sumAVX2(s *float32, n int) float64

//go:noescape
func sumSqDevAVX2(s *float32, n int, m float32) float64

//go:noescape
func scaleShiftAVX2(dst, src *float32, n int, a, b float32)

func sumBulk(s []float32) (int, float64) {
	n := len(s) &^ 7
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return n, sumAVX2(&s[0], n)
}

func sumSqDevBulk(s []float32, m float32) (int, float64) {
	n := len(s) &^ 7
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return n, sumSqDevAVX2(&s[0], n, m)
}

func scaleShiftBulk(dst, src []float32, a, b float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	scaleShiftAVX2(&dst[0], &src[0], n, a, b)
	return n
}

//go:noescape
func mulAddAVX2(dst, gm, b *float32, n int)

func mulAddBulk(dst, g, b []float32) int {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0
	}
	mulAddAVX2(&dst[0], &g[0], &b[0], n)
	return n
}

//go:noescape
func expSubSum32AVX2(dst, src *float32, n int, m float32) float32

func expSubSum32Bulk(dst, src []float32, m float32) (int, float32) {
	n := len(dst) &^ 7
	if !useAVX2 || n == 0 {
		return 0, 0
	}
	return n, expSubSum32AVX2(&dst[0], &src[0], n, m)
}
