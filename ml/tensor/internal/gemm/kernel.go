package gemm

import (
	"fmt"
	"os"
	"sync/atomic"
)

// kernel is a register-tiled micro-kernel with its panel widths and the
// block sizes the driver uses with it.
type kernel struct {
	name   string
	mr, nr int // tile: mr rows of A panels × nr columns of B panels
	mc, nc int // largest block of the non-shared operand kept in L2
	// fn computes the mr×nr tile c = alpha·Σ_p a[p·mr+i]·b[p·nr+j] + beta·c
	// over p < k, with c's rows ldc apart; beta == 0 leaves c unread.
	fn func(k int, a, b, c []float32, ldc int, alpha, beta float32)
	// direct, if not nil, is fn reading a full mr-row tile of a row-major
	// A in place (row i at a[i·lda:]) instead of a packed panel.
	direct func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)
	// directRows[h], if not nil, is direct for a tile of h < mr rows (the
	// ragged last rows of A), writing h rows of c.
	directRows []func(k int, a []float32, lda int, b, c []float32, ldc int, alpha, beta float32)
	// offB, if not nil, is fn reading B in place: depth p's nr values are
	// b[offs[p]:][:nr] (see InPlace).
	offB func(k int, a, b []float32, offs []int64, c []float32, ldc int, alpha, beta float32)
	// dob, if not nil, reads both A (as direct) and B (as offB) in place.
	dob func(k int, a []float32, lda int, b []float32, offs []int64, c []float32, ldc int, alpha, beta float32)
	// narrow, if not nil, is a kernel with narrower B panels that Run
	// uses instead when n is small and would pad badly to nr.
	narrow *kernel
}

var generic = &kernel{name: "generic", mr: 4, nr: 4, mc: 128, nc: 128, fn: kernGeneric}

// kernels lists the usable kernels on this machine, best last.
var kernels = append([]*kernel{generic}, archKernels()...)

// active is the kernel Run uses; atomic so that a test switching paths
// does not race with multiplications running elsewhere.
var active atomic.Pointer[kernel]

func init() {
	k := kernels[len(kernels)-1]
	active.Store(k)
	setGather(k.name == "avx512")
	if env := os.Getenv("COMFYD_GEMM"); env != "" {
		if err := Use(env); err != nil {
			fmt.Fprintf(os.Stderr, "comfyd: COMFYD_GEMM: %v; using %s\n", err, Path())
		}
	}
}

// Paths returns the names of the kernels usable on this CPU, "generic"
// first and the default last.
func Paths() []string {
	var s []string
	for _, k := range kernels {
		s = append(s, k.name)
	}
	return s
}

// Path returns the name of the kernel in use.
func Path() string { return active.Load().name }

// Use selects a kernel by name. It is for tests and benchmarks and must not
// race with running multiplications.
func Use(name string) error {
	for _, k := range kernels {
		if k.name == name {
			active.Store(k)
			setGather(k.name == "avx512")
			return nil
		}
	}
	return fmt.Errorf("gemm path %q not available here (have %v)", name, Paths())
}

// kernGeneric is the pure-Go 4×4 micro-kernel and the reference for the
// assembly ones:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += a[p*mr+i] * b[p*nr+j]
//			}
//			if beta == 0 { c[i*ldc+j] = alpha*s } else { c[i*ldc+j] = alpha*s + beta*c[i*ldc+j] }
//		}
//	}
func kernGeneric(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	a = a[:4*k]
	b = b[:4*k]
	for p := 0; p < 4*k; p += 4 {
		aa := a[p : p+4 : p+4]
		bb := b[p : p+4 : p+4]
		a0, a1, a2, a3 := aa[0], aa[1], aa[2], aa[3]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	store4(c[0:4:4], c00, c01, c02, c03, alpha, beta)
	store4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, alpha, beta)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

func store4(c []float32, v0, v1, v2, v3, alpha, beta float32) {
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*v0, alpha*v1, alpha*v2, alpha*v3
		return
	}
	c[0] = alpha*v0 + beta*c[0]
	c[1] = alpha*v1 + beta*c[1]
	c[2] = alpha*v2 + beta*c[2]
	c[3] = alpha*v3 + beta*c[3]
}
