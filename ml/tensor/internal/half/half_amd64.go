package half

import "github.com/comfyd/comfyd/ml/tensor/internal/cpu"

var useF16C = cpu.X86.F16C

//go:noescape
func cvtph2ps(dst *float32, src *uint16, n int)

//go:noescape
func cvtps2ph(dst *uint16, src *float32, n int)

// bulkF16ToF32 converts a prefix of src whose length is a multiple of 8 and
// returns its length.
func bulkF16ToF32(dst []float32, src []uint16) int {
	n := len(src) &^ 7
	if !useF16C || n == 0 {
		return 0
	}
	cvtph2ps(&dst[0], &src[0], n)
	return n
}

func bulkF32ToF16(dst []uint16, src []float32) int {
	n := len(src) &^ 7
	if !useF16C || n == 0 {
		return 0
	}
	cvtps2ph(&dst[0], &src[0], n)
	return n
}
