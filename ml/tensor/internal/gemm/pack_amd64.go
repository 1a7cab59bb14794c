package gemm

import (
	"math"
	"sync/atomic"

	"github.com/comfyd/comfyd/ml/tensor/internal/cpu"
)

// gatherOn enables the AVX-512 gather packs. It follows the kernel in use
// (Use): the avx2 and generic paths pack with Go loops, as they would on a
// CPU without AVX-512, so tests of those paths cover those loops.
var gatherOn atomic.Bool

func setGather(on bool) { gatherOn.Store(on && cpu.X86.AVX512F) }

func gatherAvailable() bool { return cpu.X86.AVX512F }

//go:noescape
func gatherF32(dst, src *float32, idx *int32, wb, kc int, gm0, gm1, sm0, sm1 uint64)

//go:noescape
func gatherF16(dst *float32, src *uint16, idx *int32, wb, pairs int, gm0, gm1, sm0, sm1 uint64)

// gatherSetup checks that a panel of cnt lines (ld apart) of width w ≤ 32
// and depth kc starting at storage offset s0 can be gathered from a slice
// of length n with int32 indices, and returns the indices and masks.
func gatherSetup(cnt, w, ld, s0, kc, n int) (idx [32]int32, gm0, gm1, sm0, sm1 uint64, ok bool) {
	if !gatherOn.Load() || w > 32 || kc <= 0 || (cnt-1)*ld >= math.MaxInt32 || s0 < 0 || s0+(cnt-1)*ld+kc > n {
		return idx, 0, 0, 0, 0, false
	}
	for r := 0; r < cnt; r++ {
		idx[r] = int32(r * ld)
	}
	lanes := func(x int) uint64 { return uint64(1)<<uint(max(0, min(x, 16))) - 1 }
	return idx, lanes(cnt), lanes(cnt - 16), lanes(w), lanes(w - 16), true
}

// packLinesF32 is the transposing pack of one panel (cnt lines of a
// row-major matrix at a[s0:], ld apart, depth kc) by gathers:
//
//	for p := 0; p < kc; p++ { for r := 0; r < w; r++ { pan[p*w+r] = r < cnt ? a[s0+r*ld+p] : 0 } }
//
// It returns false if the gather path is unavailable for this panel.
func packLinesF32(pan, a []float32, s0, ld, cnt, w, kc int) bool {
	idx, gm0, gm1, sm0, sm1, ok := gatherSetup(cnt, w, ld, s0, kc, len(a))
	if !ok || len(pan) < kc*w {
		return false
	}
	gatherF32(&pan[0], &a[s0], &idx[0], 4*w, kc, gm0, gm1, sm0, sm1)
	return true
}

// packLinesF16 is packLinesF32 for IEEE half storage; an odd last depth is
// left to the caller, and the number of depths done is returned.
func packLinesF16(pan []float32, a []uint16, s0, ld, cnt, w, kc int) int {
	pairs := kc / 2
	idx, gm0, gm1, sm0, sm1, ok := gatherSetup(cnt, w, ld, s0, 2*pairs, len(a))
	if !ok || pairs == 0 || len(pan) < kc*w {
		return 0
	}
	gatherF16(&pan[0], &a[s0], &idx[0], 4*w, pairs, gm0, gm1, sm0, sm1)
	return 2 * pairs
}
