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

//go:noescape
func transF32x16(dst, src *float32, ldb, blocks int)

//go:noescape
func transF16x16(dst *float32, src *uint16, ldb, blocks int)

// transposable reports whether a full 32-line panel of depth kc at src
// offset s0 (lines ld apart, n elements in all) can be packed by the 16×16
// transposes, which read each line contiguously: packing a [640,5760]
// float32 weight took 0.41 ns an element against 0.69 with the gathers
// (16 lines touched per instruction), a [320,320] one 0.13 against 0.33.
// Depths past the last 16 go through the gathers.
func transposable(cnt, w, ld, s0, kc, n int) bool {
	return gatherOn.Load() && w == 32 && cnt == 32 && kc >= 16 && s0 >= 0 && s0+31*ld+kc <= n
}

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
	if len(pan) < kc*w {
		return false
	}
	if transposable(cnt, w, ld, s0, kc, len(a)) {
		blocks := kc / 16
		transF32x16(&pan[0], &a[s0], 4*ld, blocks)
		transF32x16(&pan[16], &a[s0+16*ld], 4*ld, blocks)
		done := 16 * blocks
		if done == kc {
			return true
		}
		pan, s0, kc = pan[done*w:], s0+done, kc-done
	}
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
	if len(pan) < kc*w {
		return 0
	}
	done := 0
	if transposable(cnt, w, ld, s0, kc, len(a)) {
		blocks := kc / 16
		transF16x16(&pan[0], &a[s0], 2*ld, blocks)
		transF16x16(&pan[16], &a[s0+16*ld], 2*ld, blocks)
		done = 16 * blocks
	}
	pairs := (kc - done) / 2
	idx, gm0, gm1, sm0, sm1, ok := gatherSetup(cnt, w, ld, s0+done, 2*pairs, len(a))
	if !ok || pairs == 0 {
		return done
	}
	gatherF16(&pan[done*w], &a[s0+done], &idx[0], 4*w, pairs, gm0, gm1, sm0, sm1)
	return done + 2*pairs
}
