//go:build openblas && cgo

package blasref

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
import "C"

// Available reports whether OpenBLAS is linked in.
const Available = true

// SGEMM computes C = alpha·op(A)·op(B) + beta·C (row-major) with OpenBLAS.
func SGEMM(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k), C.float(alpha),
		(*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb), C.float(beta), (*C.float)(&c[0]), C.blasint(ldc))
}
