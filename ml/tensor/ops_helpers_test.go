package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

const sentinel = float32(-12345.25)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 99)) }

// randT returns a contiguous tensor of uniform values in [-scale, scale).
func randT(rng *rand.Rand, scale float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = (rng.Float32()*2 - 1) * scale
	}
	return t
}

// stridedT returns a tensor of the given shape that is a non-contiguous view
// with a non-zero offset: a transposed, larger parent sliced from index 1.
func stridedT(rng *rand.Rand, scale float32, shape ...int) *Tensor {
	n := len(shape)
	ps := make([]int, n)
	perm := make([]int, n)
	for i := range shape {
		ps[n-1-i] = shape[i] + 2
		perm[i] = n - 1 - i
	}
	p := randT(rng, scale, ps...).Permute(perm...)
	for i, d := range shape {
		p = p.Slice(i, 1, 1+d)
	}
	return p
}

// paddedT returns a contiguous tensor at offset 3 inside a buffer whose
// other elements hold a sentinel; checkPad verifies they were not touched.
func paddedT(shape ...int) *Tensor {
	n := numel(shape)
	buf := make([]float32, n+3+5)
	for i := range buf {
		buf[i] = sentinel
	}
	for i := 3; i < 3+n; i++ {
		buf[i] = 0
	}
	return &Tensor{Data: buf, Shape: append([]int(nil), shape...), Strides: contiguousStrides(shape), Offset: 3}
}

func checkPad(t *testing.T, d *Tensor) {
	t.Helper()
	n := d.Len()
	for i, v := range d.Data {
		if (i < d.Offset || i >= d.Offset+n) && v != sentinel {
			t.Fatalf("sentinel at %d overwritten with %v", i, v)
		}
	}
}

// multi-index iteration in row-major order
func eachIndex(shape []int, fn func(idx []int)) {
	idx := make([]int, len(shape))
	n := numel(shape)
	for p := 0; p < n; p++ {
		r := p
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d] = r % shape[d]
			r /= shape[d]
		}
		fn(idx)
	}
}

// bcastAt reads t at an index of a broadcast shape.
func bcastAt(t *Tensor, idx []int) float32 {
	k := len(idx) - len(t.Shape)
	sub := make([]int, len(t.Shape))
	for i := range t.Shape {
		if t.Shape[i] != 1 {
			sub[i] = idx[k+i]
		}
	}
	return t.At(sub...)
}

// closeTo reports the first element where got and want differ by more than
// atol + rtol·|want|.
func closeTo(t *testing.T, what string, got []float32, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), want[i]
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.IsInf(w, 0) && g == w {
			continue
		}
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			t.Fatalf("%s: element %d = %v, want %v (rtol %g atol %g)", what, i, g, w, rtol, atol)
		}
	}
}
