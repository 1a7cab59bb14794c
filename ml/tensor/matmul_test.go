package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor/internal/gemm"
)

// Tolerances: every op is held to gemm.Tolerance, γ(k+2)·Σ|a||b| per entry
// (the worst-case bound of a float32 dot product), against a float64
// reference loop over the same (already rounded) inputs.

const mmGuard = float32(-31337.5)

// eachGEMMPath runs f under every GEMM kernel this CPU has.
func eachGEMMPath(t *testing.T, f func(t *testing.T)) {
	saved := gemm.Path()
	defer gemm.Use(saved)
	for _, p := range gemm.Paths() {
		if err := gemm.Use(p); err != nil {
			t.Fatal(err)
		}
		t.Run(p, f)
	}
}

func mmRand(r *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// mmGuarded returns a zeroed contiguous tensor inside a buffer whose other
// elements (before and after) hold mmGuard.
func mmGuarded(shape ...int) *Tensor {
	n := numel(shape)
	buf := make([]float32, n+7+9)
	for i := range buf {
		buf[i] = mmGuard
	}
	clear(buf[7 : 7+n])
	return &Tensor{Data: buf, Shape: append([]int(nil), shape...), Strides: contiguousStrides(shape), Offset: 7}
}

func mmCheckGuard(t *testing.T, x *Tensor) {
	t.Helper()
	for i, v := range x.Data {
		if (i < x.Offset || i >= x.Offset+x.Len()) && v != mmGuard {
			t.Fatalf("guard band written at %d: %v", i, v)
		}
	}
}

// mmCompare checks got against want entry by entry with per-entry bounds.
func mmCompare(t *testing.T, what string, got *Tensor, want, bound []float64) {
	t.Helper()
	g := got.Values()
	if len(g) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(want))
	}
	for i := range g {
		if d := math.Abs(float64(g[i]) - want[i]); !(d <= bound[i]+1e-30) {
			t.Fatalf("%s: entry %d = %v, want %v (bound %g)", what, i, g[i], want[i], bound[i])
		}
	}
}

// refMatMul is the reference loop for a batched matmul over explicit
// indices, via At (so it follows every view and broadcast independently).
func refMatMul(a, b *Tensor) (want, bound []float64) {
	m, k, n := a.Dim(-2), a.Dim(-1), b.Dim(-1)
	batch := BroadcastShapeOf(a.Shape[:a.Dims()-2], b.Shape[:b.Dims()-2])
	idx := make([]int, len(batch))
	pick := func(t *Tensor, i, j int) float64 {
		full := make([]int, t.Dims())
		off := len(batch) - (t.Dims() - 2)
		for d := 0; d < t.Dims()-2; d++ {
			if t.Shape[d] != 1 {
				full[d] = idx[d+off]
			}
		}
		full[t.Dims()-2], full[t.Dims()-1] = i, j
		return float64(t.At(full...))
	}
	for bi := 0; bi < numel(batch); bi++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s, abs float64
				for p := 0; p < k; p++ {
					v := pick(a, i, p) * pick(b, p, j)
					s += v
					abs += math.Abs(v)
				}
				want = append(want, s)
				bound = append(bound, gemm.Tolerance(k, 1, 0, abs, 0))
			}
		}
		for d := len(batch) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return want, bound
}

func TestMatMul2DOddSizes(t *testing.T) {
	eachGEMMPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 7))
		for _, m := range []int{1, 7, 33, 65} {
			for _, n := range []int{1, 13, 130} {
				for _, k := range []int{1, 7, 65} {
					a, b := mmRand(r, m, k), mmRand(r, k, n)
					want, bound := refMatMul(a, b)
					dst := mmGuarded(m, n)
					MatMulTo(dst, a, b)
					mmCheckGuard(t, dst)
					mmCompare(t, fmt.Sprintf("%dx%dx%d", m, n, k), dst, want, bound)
				}
			}
		}
	})
}

// TestMatMulViews feeds transposed, offset and broadcast views, and half B.
func TestMatMulViews(t *testing.T) {
	eachGEMMPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(8, 8))
		cases := []struct {
			name string
			a, b *Tensor
		}{
			{"transposed a", mmRand(r, 2, 37, 29).Permute(0, 2, 1), mmRand(r, 2, 37, 15)},
			{"transposed b", mmRand(r, 3, 29, 37), mmRand(r, 3, 15, 37).Permute(0, 2, 1)},
			{"sliced rows and cols", mmRand(r, 40, 50).Slice(0, 3, 36).Slice(1, 2, 47), mmRand(r, 50, 20).Slice(0, 1, 46)},
			{"broadcast b", mmRand(r, 2, 3, 17, 9), mmRand(r, 9, 14)},
			{"broadcast a", mmRand(r, 1, 17, 9), mmRand(r, 4, 9, 14)},
			{"broadcast both", mmRand(r, 2, 1, 5, 9), mmRand(r, 1, 3, 9, 6)},
			{"fold batch into rows", mmRand(r, 4, 33, 65), mmRand(r, 65, 40)},
			{"f16 b", mmRand(r, 2, 33, 40), HalfFromFloat32(mmRand(r, 40, 19), F16)},
			{"bf16 b transposed", mmRand(r, 33, 40), HalfFromFloat32(mmRand(r, 19, 40), BF16).Permute(1, 0)},
			{"non-unit strides both dims", mmRand(r, 20, 30).Slice(1, 0, 30).Permute(1, 0).Slice(0, 0, 15).Permute(1, 0), mmRand(r, 15, 9)},
		}
		for _, c := range cases {
			want, bound := refMatMul(c.a, c.b)
			got := MatMul(c.a, c.b)
			mmCompare(t, c.name, got, want, bound)
		}
	})
}

func TestLinear(t *testing.T) {
	eachGEMMPath(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		for _, dt := range []DType{F32, F16, BF16} {
			for _, sz := range [][3]int{{1, 1, 1}, {7, 13, 33}, {65, 130, 7}, {130, 33, 65}} {
				rows, in, out := sz[0], sz[1], sz[2]
				x := mmRand(r, 2, rows, in).Slice(0, 1, 2) // offset view
				w := HalfFromFloat32(mmRand(r, out, in), dt)
				bias := mmRand(r, out)
				dst := mmGuarded(1, rows, out)
				LinearTo(dst, x, w, bias)
				mmCheckGuard(t, dst)
				want, bound := refMatMul(x, w.Permute(1, 0))
				for i := range want {
					want[i] += float64(bias.Data[i%out])
					bound[i] += math.Abs(want[i]) * 2 / (1 << 24)
				}
				mmCompare(t, fmt.Sprintf("%v %v", dt, sz), dst, want, bound)
				pdst := mmGuarded(1, rows, out)
				LinearPackedTo(pdst, x, PackLinearWeight(w), bias)
				mmCheckGuard(t, pdst)
				mmCompare(t, fmt.Sprintf("packed %v %v", dt, sz), pdst, want, bound)
				if got := Linear(x, w, nil); got.Dim(-1) != out || got.Dim(0) != 1 {
					t.Fatalf("Linear shape %v", got.Shape)
				}
			}
		}
	})
}
