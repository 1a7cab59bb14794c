package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor/internal/half"
)

const sentinel = float32(-12345.5)

// prepacked makes check go through PackB+RunB (1) or PackA+RunA (2).
var prepacked int

// eachPath runs f once per kernel available on this CPU.
func eachPath(t *testing.T, f func(t *testing.T)) {
	saved := Path()
	defer Use(saved)
	for _, p := range Paths() {
		if err := Use(p); err != nil {
			t.Fatal(err)
		}
		t.Run(p, f)
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

type bKind int

const (
	bF32 bKind = iota
	bF16
	bBF16
)

// check runs one multiplication on padded buffers and compares every entry
// of C with the float64 reference, within Tolerance, and the guard band
// after C (and between its rows) with the sentinel.
func check(t *testing.T, r *rand.Rand, kind bKind, transA, transB bool, m, n, k, pad int, alpha, beta float32) {
	t.Helper()
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+pad, bc+pad, n+pad
	a := randSlice(r, ar*lda+1)
	b := randSlice(r, br*ldb+1)
	var bh []uint16
	switch kind { // round B to the storage type so the reference sees the same values
	case bF16:
		bh = make([]uint16, len(b))
		half.F32ToF16s(bh, b)
		half.F16ToF32s(b, bh)
	case bBF16:
		bh = make([]uint16, len(b))
		half.F32ToBF16s(bh, b)
		half.BF16ToF32s(b, bh)
	}
	c0 := randSlice(r, m*ldc+16)
	for i := range c0 {
		if i >= m*ldc || i%ldc >= n {
			c0[i] = sentinel
		} else if beta == 0 {
			c0[i] = float32(math.NaN()) // must not be read
		}
	}
	c := append([]float32(nil), c0...)
	want := append([]float32(nil), c0...)
	switch {
	case prepacked != 0:
		ap := MatrixF32(a, lda, transA)
		var bp Packer
		switch kind {
		case bF32:
			bp = MatrixF32(b, ldb, !transB)
		case bF16:
			bp = MatrixF16(bh, ldb, !transB)
		default:
			bp = MatrixBF16(bh, ldb, !transB)
		}
		if prepacked == 1 {
			RunB(m, alpha, ap, PackB(bp, n, k), beta, c, ldc)
		} else {
			RunA(n, alpha, PackA(ap, m, k), bp, beta, c, ldc)
		}
	case kind == bF32:
		F32(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case kind == bF16:
		F16B(transA, transB, m, n, k, alpha, a, lda, bh, ldb, beta, c, ldc)
	case kind == bBF16:
		BF16B(transA, transB, m, n, k, alpha, a, lda, bh, ldb, beta, c, ldc)
	}
	Ref(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	for i := range c {
		if i >= m*ldc || i%ldc >= n {
			if c[i] != sentinel {
				t.Fatalf("m=%d n=%d k=%d: guard band written at %d (row %d col %d)", m, n, k, i, i/ldc, i%ldc)
			}
			continue
		}
		ii, jj := i/ldc, i%ldc
		var abs float64
		for p := 0; p < k; p++ {
			var av, bv float32
			if transA {
				av = a[p*lda+ii]
			} else {
				av = a[ii*lda+p]
			}
			if transB {
				bv = b[jj*ldb+p]
			} else {
				bv = b[p*ldb+jj]
			}
			abs += math.Abs(float64(av) * float64(bv))
		}
		cOld := float64(c0[i])
		if beta == 0 {
			cOld = 0
		}
		tol := Tolerance(k, alpha, beta, abs, cOld) + 1e-30
		if d := math.Abs(float64(c[i]) - float64(want[i])); !(d <= tol) {
			t.Fatalf("m=%d n=%d k=%d tA=%v tB=%v: C[%d,%d] = %v, want %v (tol %g)", m, n, k, transA, transB, ii, jj, c[i], want[i], tol)
		}
	}
}

var sizes = []int{1, 7, 13, 33, 65, 130}

func TestF32OddSizes(t *testing.T) {
	eachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, m := range sizes {
			for _, n := range sizes {
				for _, k := range sizes {
					tA, tB := (m+n)%2 == 0, (n+k)%3 != 0
					check(t, r, bF32, tA, tB, m, n, k, (m+k)%5, 1, 0)
				}
			}
		}
	})
}

func TestTransposesAlphaBeta(t *testing.T) {
	eachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, kind := range []bKind{bF32, bF16, bBF16} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for _, ab := range [][2]float32{{1, 0}, {1, 1}, {0.5, -2}, {-1.5, 0}} {
						name := fmt.Sprintf("kind%d/tA=%v/tB=%v/alpha=%v/beta=%v", kind, tA, tB, ab[0], ab[1])
						t.Run(name, func(t *testing.T) {
							check(t, r, kind, tA, tB, 33, 65, 13, 3, ab[0], ab[1])
							check(t, r, kind, tA, tB, 130, 47, 71, 1, ab[0], ab[1])
							check(t, r, kind, tA, tB, 29, 97, 1, 0, ab[0], ab[1])
						})
					}
				}
			}
		}
	})
}

// TestDeepK crosses several depth blocks so that beta is applied once and
// later blocks accumulate, on both sharing strategies (m ≥ n and m < n).
func TestDeepK(t *testing.T) {
	eachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, kind := range []bKind{bF32, bF16} {
			check(t, r, kind, false, true, 67, 35, 2*kcMax+77, 2, 1, 0)
			check(t, r, kind, true, false, 35, 67, kcMax+1, 0, 0.75, 0.25)
			check(t, r, kind, false, false, 300, 290, 1100, 1, 1, 1)
			// few rows against many row-major B lines: the transposed route
			check(t, r, kind, false, true, 20, 150, 300, 1, 0.5, -1)
			check(t, r, kind, true, true, 37, 200, 700, 3, 1, 0)
			check(t, r, kind, false, true, 1, 77, 40, 0, 1, 0)
		}
	})
}

func TestDegenerate(t *testing.T) {
	c := []float32{1, 2, 3, 4, sentinel}
	F32(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
	if c[0] != 2 || c[3] != 8 || c[4] != sentinel {
		t.Fatalf("k=0 should scale C by beta: %v", c)
	}
	F32(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[3] != 0 || c[4] != sentinel {
		t.Fatalf("k=0, beta=0 should zero C: %v", c)
	}
	F32(false, false, 0, 5, 3, 1, nil, 3, make([]float32, 15), 5, 0, nil, 5) // m=0: nothing
	defer func() {
		if recover() == nil {
			t.Fatal("short C should panic")
		}
	}()
	F32(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
}

// TestRandomShapes draws shapes, layouts, storage types and scalars at
// random so that every route of the driver (shared A or B, direct, in-place
// and doubly in-place B, narrow kernels, the transposed route, ragged
// edges) meets the reference on every path.
func TestRandomShapes(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 40
	}
	eachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(77, 78))
		dims := []int{1, 2, 5, 14, 15, 16, 17, 31, 32, 33, 40, 47, 48, 63, 64, 97}
		for i := 0; i < n; i++ {
			m, nn, k := dims[r.IntN(len(dims))], dims[r.IntN(len(dims))], dims[r.IntN(len(dims))]
			if r.IntN(4) == 0 {
				k += 380 // several depth blocks
			}
			if r.IntN(5) == 0 {
				m, nn = m+150, nn+7
			}
			ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}}[r.IntN(4)]
			check(t, r, bKind(r.IntN(3)), r.IntN(2) == 0, r.IntN(2) == 0, m, nn, k, r.IntN(3), ab[0], ab[1])
		}
	})
}

// TestPrepacked runs random shapes through PackB/RunB and PackA/RunA, the
// weight-caching entry points, on every path.
func TestPrepacked(t *testing.T) {
	defer func() { prepacked = 0 }()
	eachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(79, 80))
		dims := []int{1, 3, 14, 16, 17, 33, 40, 64, 77, 130}
		for i := 0; i < 80; i++ {
			prepacked = 1 + i%2
			m, n, k := dims[r.IntN(len(dims))], dims[r.IntN(len(dims))], dims[r.IntN(len(dims))]
			if r.IntN(4) == 0 {
				k += 400
			}
			ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}}[r.IntN(3)]
			check(t, r, bKind(r.IntN(3)), r.IntN(2) == 0, r.IntN(2) == 0, m, n, k, r.IntN(3), ab[0], ab[1])
		}
	})
	prepacked = 1
	c := []float32{1, 2, 3, sentinel}
	RunB(1, 1, MatrixF32(nil, 1, false), PackB(MatrixF32(nil, 3, false), 3, 0), 2, c, 3)
	if c[0] != 2 || c[2] != 6 || c[3] != sentinel {
		t.Fatalf("k=0 must scale C: %v", c)
	}
}

// TestRaggedRows gives the direct kernels every count of ragged last rows
// (m = 3 tiles + h for each path's tile height), with full and ragged
// column panels, one or two depth blocks, and beta 0 and not, with A's rows
// split (n ≤ m) and B's columns split (n > m).
func TestRaggedRows(t *testing.T) {
	eachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(81, 82))
		mr := active.Load().mr
		for h := 0; h < mr; h++ {
			for _, nk := range [][2]int{{32, 7}, {45, 300}, {16, 1}, {20, kcMax + 9}} {
				m := 3*mr + h
				ab := [][2]float32{{1, 0}, {0.5, -1}}[h%2]
				check(t, r, bF32, false, true, m, min(nk[0], m), nk[1], h%3, ab[0], ab[1])
				check(t, r, bF16, false, false, m, min(nk[0], m), nk[1], 1, ab[1], ab[0])
			}
			// more columns than rows: A in place against packed B blocks
			m := 2*mr + h
			check(t, r, bF32, false, true, m, m+45, 50+h, 1, 1, 0)
			check(t, r, bF16, false, true, m, 3*m+7, kcMax+h, 0, 0.5, 1)
		}
	})
}
