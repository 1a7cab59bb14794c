package gemm

import "github.com/comfyd/comfyd/ml/tensor/internal/cpu"

//go:generate go run gen.go

// kern14x32avx512 is the AVX-512 micro-kernel: 28 zmm accumulators (14 rows
// × 32 columns), per depth step two loads of the B panel and 14 broadcasts
// from the A panel. Its reference is kernGeneric's loop with mr=14, nr=32.
//
//go:noescape
func kern14x32avx512(k int, a, b, c *float32, ldc int, alpha, beta float32)

// kern14x32avx512direct is kern14x32avx512 reading A unpacked: row i of the
// tile at a[i·lda:], so row-major activations need no packing. Reference:
// kernGeneric's loop with a[p*mr+i] read as a[i*lda+p].
//
//go:noescape
func kern14x32avx512direct(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)

// kern6x16avx2direct is kern6x16avx2 reading A unpacked, like
// kern14x32avx512direct.
//
//go:noescape
func kern6x16avx2direct(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)

// kern14x32avx512offb and kern6x16avx2offb take a packed A panel and read B
// in place: depth p's row of the tile is b[offs[p]:][:nr]. Reference:
// kernGeneric's loop with b[p*nr+j] read as b[offs[p]+j].
//
//go:noescape
func kern14x32avx512offb(k int, a, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern6x16avx2offb(k int, a, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)

// kern16x16avx512, kern16x16avx512direct and kern16x16avx512offb are the
// narrow AVX-512 kernels (16 rows × one zmm) for thin B such as attention's
// P·V with head dimension 40, where 32-wide panels would waste 37 %.
//
//go:noescape
func kern16x16avx512(k int, a, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern16x16avx512direct(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern16x16avx512offb(k int, a, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)

// The dob ("direct A, offset B") kernels read both operands in place: A
// as the direct kernels, B as the offb ones.
//
//go:noescape
func kern14x32avx512dob(k int, a *float32, lda int, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern16x16avx512dob(k int, a *float32, lda int, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern6x16avx2dob(k int, a *float32, lda int, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)

// kern6x16avx2 is the AVX2+FMA micro-kernel: 12 ymm accumulators (6 rows ×
// 16 columns); reference kernGeneric's loop with mr=6, nr=16.
//
//go:noescape
func kern6x16avx2(k int, a, b, c *float32, ldc int, alpha, beta float32)

// peakAVX512 and peakAVX2 run n iterations of independent FMAs (20 zmm,
// resp. 12 ymm) to measure the machine's FMA throughput.
//
//go:noescape
func peakAVX512(n int)

//go:noescape
func peakAVX2(n int)

// asmKernel wraps an assembly kernel with the bounds checks the assembly
// cannot do, so that a driver bug panics instead of corrupting memory.
func asmKernel(f func(k int, a, b, c *float32, ldc int, alpha, beta float32), mr, nr int) func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	return func(k int, a, b, c []float32, ldc int, alpha, beta float32) {
		if k <= 0 || len(a) < k*mr || len(b) < k*nr || len(c) < (mr-1)*ldc+nr || ldc < nr {
			panic("gemm: micro-kernel operands out of range")
		}
		f(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
	}
}

// archKernels returns the assembly kernels this CPU can run, best last.
func archKernels() (ks []*kernel) {
	if cpu.X86.AVX2 && cpu.X86.FMA {
		ks = append(ks, &kernel{name: "avx2", mr: 6, nr: 16, mc: 120, nc: 256,
			fn: asmKernel(kern6x16avx2, 6, 16), direct: asmDirect(kern6x16avx2direct, 6, 16), offB: asmOffB(kern6x16avx2offb, 6, 16),
			dob: asmDOB(kern6x16avx2dob, 6, 16), directRows: asmRows(avx2Rows[:], 16)})
	}
	if cpu.X86.AVX512F {
		narrow := &kernel{name: "avx512", mr: 16, nr: 16, mc: 256, nc: 256,
			fn: asmKernel(kern16x16avx512, 16, 16), direct: asmDirect(kern16x16avx512direct, 16, 16), offB: asmOffB(kern16x16avx512offb, 16, 16),
			dob: asmDOB(kern16x16avx512dob, 16, 16)}
		ks = append(ks, &kernel{name: "avx512", mr: 14, nr: 32, mc: 252, nc: 256, narrow: narrow,
			fn: asmKernel(kern14x32avx512, 14, 32), direct: asmDirect(kern14x32avx512direct, 14, 32), offB: asmOffB(kern14x32avx512offb, 14, 32),
			dob: asmDOB(kern14x32avx512dob, 14, 32), directRows: asmRows(avx512Rows[:], 32)})
	}
	return ks
}

// PeakLoop runs the FMA peak loop of the best available vector unit for
// iters iterations on the calling goroutine and returns the floating-point
// operations it performed (0 without AVX2+FMA).
func PeakLoop(iters int) (flops float64) {
	switch {
	case cpu.X86.AVX512F:
		peakAVX512(iters)
		return float64(iters) * 20 * 16 * 2
	case cpu.X86.AVX2 && cpu.X86.FMA:
		peakAVX2(iters)
		return float64(iters) * 12 * 8 * 2
	}
	return 0
}

// asmDirect wraps a direct (unpacked-A) assembly kernel with bounds checks.
func asmDirect(f func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32), mr, nr int) func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32) {
	return func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32) {
		if k <= 0 || lda < k || len(a) < (mr-1)*lda+k || len(b) < k*nr || len(c) < (mr-1)*ldc+nr || ldc < nr {
			panic("gemm: micro-kernel operands out of range")
		}
		f(k, &a[0], lda, &b[0], &c[0], ldc, alpha, beta)
	}
}

// asmRows wraps the ragged-row direct kernels fs[h] (h rows, nr columns).
func asmRows(fs []func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32), nr int) []func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32) {
	out := make([]func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32), len(fs))
	for h, f := range fs {
		if f != nil {
			out[h] = asmDirect(f, h, nr)
		}
	}
	return out
}

// asmOffB wraps an in-place-B assembly kernel. The caller guarantees that
// b[offs[p]:][:nr] is in range for every p (it checks the largest offset
// once per block); here only the cheap checks.
func asmOffB(f func(k int, a, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32), mr, nr int) func(k int, a, b []float32, offs []int64, c []float32, ldc int, alpha, beta float32) {
	return func(k int, a, b []float32, offs []int64, c []float32, ldc int, alpha, beta float32) {
		if k <= 0 || len(a) < k*mr || len(offs) < k || len(b) < nr || len(c) < (mr-1)*ldc+nr || ldc < nr {
			panic("gemm: micro-kernel operands out of range")
		}
		f(k, &a[0], &b[0], &offs[0], &c[0], ldc, alpha, beta)
	}
}

// asmDOB wraps a dob assembly kernel; as for asmOffB, the caller has
// checked B's offsets.
func asmDOB(f func(k int, a *float32, lda int, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32), mr, nr int) func(k int, a []float32, lda int, b []float32, offs []int64, c []float32, ldc int, alpha, beta float32) {
	return func(k int, a []float32, lda int, b []float32, offs []int64, c []float32, ldc int, alpha, beta float32) {
		if k <= 0 || lda < k || len(a) < (mr-1)*lda+k || len(offs) < k || len(b) < nr || len(c) < (mr-1)*ldc+nr || ldc < nr {
			panic("gemm: micro-kernel operands out of range")
		}
		f(k, &a[0], lda, &b[0], &offs[0], &c[0], ldc, alpha, beta)
	}
}
