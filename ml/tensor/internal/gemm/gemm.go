// Package gemm owns the general matrix multiply behind tensor.MatMul,
// Linear, Conv2d and attention: C = alpha·op(A)·op(B) + beta·C on row-major
// float32 matrices, with B optionally stored as fp16 or bf16 and widened
// while it is packed.
//
// The driver follows Goto/BLIS: operands are packed into k-major panels
// (MR rows of A, NR columns of B) in cache-sized blocks, and a register-tiled
// micro-kernel computes one MR×NR tile of C per call. Kernels exist in pure
// Go (the reference, every platform) and in amd64 assembly for AVX2+FMA
// (6×16) and AVX-512 (14×32), chosen once from the CPU's features; the
// environment variable COMFYD_GEMM=generic|avx2|avx512 forces one (read once,
// at init, so tests can exercise every path on one machine). Work is split
// over GOMAXPROCS workers by blocks of C, never per element.
//
// Packing is a callback (Packer), so that convolution can pack patches of
// its input straight into panels (implicit im2col) without a giant buffer.
//
// It is internal to ml/tensor and imports nothing of comfyd's beyond the
// other ml/tensor/internal packages.
package gemm

import (
	"fmt"
	"math"
)

// F32 computes C = alpha·op(A)·op(B) + beta·C, row-major; op(A) is m×k,
// op(B) is k×n. transA: A is stored k×m (lda ≥ m); transB: B is stored n×k
// (ldb ≥ k). With beta == 0, C is not read (NaNs in it do not propagate).
//
// Reference loop (Ref):
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += A(i,p) * B(p,j)
//			}
//			if beta == 0 { C(i,j) = alpha*s } else { C(i,j) = alpha*s + beta*C(i,j) }
//		}
//	}
func F32(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs("F32", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	Run(m, n, k, alpha, MatrixF32(a, lda, transA), MatrixF32(b, ldb, !transB), beta, c, ldc)
}

// F16B is F32 with B stored as IEEE half bits.
func F16B(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	checkArgs("F16B", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	Run(m, n, k, alpha, MatrixF32(a, lda, transA), MatrixF16(b, ldb, !transB), beta, c, ldc)
}

// BF16B is F32 with B stored as bfloat16 bits.
func BF16B(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, ldb int, beta float32, c []float32, ldc int) {
	checkArgs("BF16B", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	Run(m, n, k, alpha, MatrixF32(a, lda, transA), MatrixBF16(b, ldb, !transB), beta, c, ldc)
}

// need returns the storage length a rows×cols matrix with leading dimension
// ld occupies.
func need(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

func checkArgs(name string, transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm.%s: negative size m=%d n=%d k=%d", name, m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	switch {
	case lda < max(ac, 1) || la < need(ar, ac, lda):
		panic(fmt.Sprintf("gemm.%s: A %dx%d does not fit lda=%d len=%d", name, ar, ac, lda, la))
	case ldb < max(bc, 1) || lb < need(br, bc, ldb):
		panic(fmt.Sprintf("gemm.%s: B %dx%d does not fit ldb=%d len=%d", name, br, bc, ldb, lb))
	case ldc < max(n, 1) || lc < need(m, n, ldc):
		panic(fmt.Sprintf("gemm.%s: C %dx%d does not fit ldc=%d len=%d", name, m, n, ldc, lc))
	}
}

// Ref is the plain reference loop of F32, accumulating in float64 so that
// tests measure the kernels' rounding alone.
func Ref(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			if beta == 0 {
				c[i*ldc+j] = float32(float64(alpha) * s)
			} else {
				c[i*ldc+j] = float32(float64(alpha)*s + float64(beta)*float64(c[i*ldc+j]))
			}
		}
	}
}

// Tolerance is the error bound the tests hold every path to for one entry
// of C: γ(k+2)·(|alpha|·Σ|a||b| + |beta·c|), the classic worst-case bound
// for a float32 dot product in any summation order.
func Tolerance(k int, alpha, beta float32, absSum, c float64) float64 {
	const u = 1.0 / (1 << 24)
	return float64(k+2) * u * (math.Abs(float64(alpha))*absSum + math.Abs(float64(beta)*c))
}
