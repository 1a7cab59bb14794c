package tensor

import (
	"math"
	"testing"
)

func TestHalfStorage(t *testing.T) {
	vals := []float32{0, 1, -2.5, 65504, 1e-7, 3.14159, -1e6, 0.1}
	x := FromData(append([]float32(nil), vals...), 2, 4)
	h := HalfFromFloat32(x, F16)
	if h.DType != F16 || h.Data != nil || len(h.Half) != 8 {
		t.Fatalf("HalfFromFloat32: %+v", h)
	}
	wantF16 := []float32{0, 1, -2.5, 65504, 1.1920929e-07, 3.140625, float32(math.Inf(-1)), 0.099975586}
	got := h.Values()
	for i := range got {
		if got[i] != wantF16[i] {
			t.Errorf("f16 %d: %v want %v", i, got[i], wantF16[i])
		}
	}
	if h.At(1, 3) != wantF16[7] {
		t.Errorf("At on half: %v", h.At(1, 3))
	}
	h.Set(2.0009766, 0, 0) // halfway between 2 and 2.001953: ties to even (2)
	if h.At(0, 0) != 2 {
		t.Errorf("Set on half rounds to %v", h.At(0, 0))
	}
	// A transposed half view: Clone keeps half storage, Float and Values widen.
	v := h.Permute(1, 0)
	c := v.Clone()
	if c.DType != F16 || !sameInts(c.Shape, []int{4, 2}) {
		t.Fatalf("Clone of half view: %v %v", c.DType, c.Shape)
	}
	f := v.Float()
	if f.DType != F32 || f.At(3, 1) != wantF16[7] || f.At(0, 1) != wantF16[4] {
		t.Fatalf("Float of half view: %v", f.Values())
	}
	if c.At(2, 1) != v.At(2, 1) || ToFloat32(c).At(2, 1) != f.At(2, 1) {
		t.Fatal("Clone and Float disagree")
	}
	if r := v.Reshape(8); r.DType != F16 || r.At(1) != v.At(0, 1) {
		t.Fatal("Reshape of a non-contiguous half view")
	}
	b := HalfFromFloat32(x, BF16)
	if b.At(0, 1) != 1 || b.At(1, 3) != 0.10009765625 {
		t.Fatalf("bf16 values %v", b.Values())
	}
	if x.Float() != x {
		t.Fatal("Float of a float32 tensor must not copy")
	}
	if s := h.String(); s != "tensor(shape=[2, 4], dtype=float16)" {
		t.Fatalf("String: %q", s)
	}
	// Contiguous on exact half storage returns itself.
	if h.Contiguous() != h {
		t.Fatal("Contiguous copied an exact half tensor")
	}
}

func TestWidenNarrowSlices(t *testing.T) {
	src := make([]float32, 100)
	for i := range src {
		src[i] = float32(i)*0.37 - 11
	}
	for _, dt := range []DType{F16, BF16} {
		h := make([]uint16, len(src))
		NarrowFloat32s(h, src, dt)
		back := make([]float32, len(src))
		WidenHalfs(back, h, dt)
		for i := range src {
			rel := math.Abs(float64(back[i]-src[i])) / math.Max(math.Abs(float64(src[i])), 1e-3)
			lim := 1.0 / 2048
			if dt == BF16 {
				lim = 1.0 / 256
			}
			if rel > lim {
				t.Fatalf("%v %d: %v -> %v", dt, i, src[i], back[i])
			}
			if back[i] != halfAt(dt, halfOf(dt, src[i])) {
				t.Fatalf("%v %d: bulk and scalar disagree", dt, i)
			}
		}
	}
}
