package gemm

//go:noescape
func prefetchRows(a *float32, ldb, rows, nb int)

// prefetch hints that rows [r0, r1) of a row-major matrix (rows lda apart),
// k floats each, will be read soon; rows past a's end are left out.
func prefetch(a []float32, lda, r0, r1, k int) {
	if k <= 0 || len(a) < k || r0 < 0 {
		return
	}
	r1 = min(r1, (len(a)-k)/lda+1)
	if r1 > r0 {
		prefetchRows(&a[r0*lda], 4*lda, r1-r0, 4*k)
	}
}
