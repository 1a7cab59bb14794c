package tensor

import (
	"fmt"
	"math"
	"testing"
)

func TestBroadcastShape(t *testing.T) {
	cases := []struct {
		a, b, want []int
		ok         bool
	}{
		{[]int{3, 1, 5}, []int{4, 1}, []int{3, 4, 5}, true},
		{[]int{}, []int{2, 3}, []int{2, 3}, true},
		{[]int{2, 3}, []int{3}, []int{2, 3}, true},
		{[]int{2, 3}, []int{2}, nil, false},
		{[]int{0, 1}, []int{1, 4}, []int{0, 4}, true},
	}
	for _, c := range cases {
		got, err := BroadcastShape(c.a, c.b)
		if (err == nil) != c.ok || fmt.Sprint(got) != fmt.Sprint(c.want) && c.ok {
			t.Errorf("BroadcastShape(%v, %v) = %v, %v; want %v ok=%v", c.a, c.b, got, err, c.want, c.ok)
		}
	}
}

// Binary ops must equal the scalar float32 expression exactly, for every
// layout of the operands and the destination.
func TestBinaryOps(t *testing.T) {
	rng := newRNG(1)
	type fns struct {
		name string
		to   func(d, a, b *Tensor) *Tensor
		ref  func(a, b float32) float32
	}
	ops := []fns{
		{"Add", AddTo, func(a, b float32) float32 { return a + b }},
		{"Sub", SubTo, func(a, b float32) float32 { return a - b }},
		{"Mul", MulTo, func(a, b float32) float32 { return a * b }},
		{"Div", DivTo, func(a, b float32) float32 { return a / b }},
		{"Maximum", MaximumTo, func(a, b float32) float32 { return float32(math.Max(float64(a), float64(b))) }},
		{"Minimum", MinimumTo, func(a, b float32) float32 { return float32(math.Min(float64(a), float64(b))) }},
		{"AddScaled", func(d, a, b *Tensor) *Tensor { return AddScaledTo(d, a, b, 0.37) },
			func(a, b float32) float32 { return a + 0.37*b }},
		{"Lerp", func(d, a, b *Tensor) *Tensor { return LerpTo(d, a, b, 0.3) },
			func(a, b float32) float32 { return a + 0.3*(b-a) }},
	}
	shapes := [][2][]int{
		{{7, 5, 3}, {7, 5, 3}},
		{{3, 1, 5}, {4, 1}},
		{{1}, {2, 9}},
		{{}, {13}},
		{{6, 1}, {1, 11}},
		{{2, 3, 40001}, {2, 3, 40001}}, // big enough to run in parallel
		{{3, 70001}, {1, 70001}},
		{{0, 3}, {3}},
	}
	for _, op := range ops {
		for si, sh := range shapes {
			for layout := 0; layout < 3; layout++ {
				var a, b *Tensor
				switch layout {
				case 0:
					a, b = randT(rng, 3, sh[0]...), randT(rng, 3, sh[1]...)
				case 1:
					a, b = stridedT(rng, 3, sh[0]...), randT(rng, 3, sh[1]...)
				case 2:
					a, b = randT(rng, 3, sh[0]...), stridedT(rng, 3, sh[1]...)
				}
				if len(sh[0]) > 0 && sh[0][0] > 1 && a.Len() > 0 {
					a.Set(float32(math.NaN()), make([]int, len(sh[0]))...) // NaN propagation
				}
				out := mustBroadcast(a.Shape, b.Shape)
				dst := paddedT(out...)
				op.to(dst, a, b)
				checkPad(t, dst)
				eachIndex(out, func(idx []int) {
					got := dst.At(idx...)
					want := op.ref(bcastAt(a, idx), bcastAt(b, idx))
					if got != want && !(got != got && want != want) {
						t.Fatalf("%s shapes#%d layout %d at %v: got %v want %v", op.name, si, layout, idx, got, want)
					}
				})
				// A strided destination gives the same values.
				if numel(out) > 0 && numel(out) < 1000 {
					sd := stridedT(rng, 1, out...)
					op.to(sd, a, b)
					if fmt.Sprint(sd.Values()) != fmt.Sprint(dst.Values()) {
						t.Fatalf("%s shapes#%d: strided destination differs", op.name, si)
					}
				}
			}
		}
	}
}

func TestInPlaceAndAlloc(t *testing.T) {
	rng := newRNG(2)
	a := randT(rng, 1, 4, 5)
	b := randT(rng, 1, 5)
	want := Add(a, b).Values()
	AddInPlace(a, b)
	if fmt.Sprint(a.Values()) != fmt.Sprint(want) {
		t.Fatal("AddInPlace differs from Add")
	}
	m := Mul(a, b)
	MulInPlace(a, b)
	if fmt.Sprint(a.Values()) != fmt.Sprint(m.Values()) {
		t.Fatal("MulInPlace differs from Mul")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("AddInPlace with a smaller destination did not panic")
		}
	}()
	AddInPlace(b, a)
}

func TestUnaryOps(t *testing.T) {
	rng := newRNG(3)
	ops := []struct {
		name string
		to   func(d, a *Tensor) *Tensor
		ref  func(a float32) float32
	}{
		{"AddScalar", func(d, a *Tensor) *Tensor { return AddScalarTo(d, a, 1.5) }, func(a float32) float32 { return a + 1.5 }},
		{"MulScalar", func(d, a *Tensor) *Tensor { return MulScalarTo(d, a, -0.7) }, func(a float32) float32 { return a * -0.7 }},
		{"Affine", func(d, a *Tensor) *Tensor { return AffineTo(d, a, 2, -1) }, func(a float32) float32 { return a*2 - 1 }},
		{"Clamp", func(d, a *Tensor) *Tensor { return ClampTo(d, a, -0.5, 0.25) },
			func(a float32) float32 { return float32(math.Min(math.Max(float64(a), -0.5), 0.25)) }},
		{"Map", func(d, a *Tensor) *Tensor { return MapTo(d, a, func(x float32) float32 { return x * x }) },
			func(a float32) float32 { return a * a }},
		{"Copy", CopyTo, func(a float32) float32 { return a }},
	}
	for _, op := range ops {
		for _, sh := range [][]int{{5, 3, 7}, {1}, {}, {300, 301}, {0, 4}} {
			for _, a := range []*Tensor{randT(rng, 2, sh...), stridedT(rng, 2, sh...)} {
				dst := paddedT(sh...)
				op.to(dst, a)
				checkPad(t, dst)
				eachIndex(sh, func(idx []int) {
					if got, want := dst.At(idx...), op.ref(a.At(idx...)); got != want {
						t.Fatalf("%s %v at %v: got %v want %v", op.name, sh, idx, got, want)
					}
				})
			}
		}
	}
}

func TestCopyBroadcast(t *testing.T) {
	src := FromData([]float32{1, 2, 3}, 3)
	dst := New(2, 3)
	CopyTo(dst, src)
	if fmt.Sprint(dst.Values()) != "[1 2 3 1 2 3]" {
		t.Fatal(dst.Values())
	}
}

func TestHalfOperandPanics(t *testing.T) {
	h := &Tensor{Half: make([]uint16, 2), DType: F16, Shape: []int{2}, Strides: []int{1}}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a half-storage operand")
		}
	}()
	Add(h, New(2))
}

// The UNet calls these thousands of times per step: the To forms must not
// allocate per element or per row (a few for the parallel dispatch only).
func TestHotPathAllocations(t *testing.T) {
	rng := newRNG(40)
	x := randT(rng, 1, 1, 320, 64, 64)
	out := New(x.Shape...)
	g := randT(rng, 1, 320)
	y := randT(rng, 1, 2, 1024, 320)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"SiLUTo", func() { SiLUTo(out, x) }},
		{"AddTo", func() { AddTo(out, x, x) }},
		{"AddInPlace", func() { AddInPlace(out, x) }},
		{"GroupNormTo", func() { GroupNormTo(out, x, 32, g, g, 1e-5) }},
		{"GroupNormSiLUTo", func() { GroupNormSiLUTo(out, x, 32, g, g, 1e-5) }},
		{"LayerNormTo", func() { LayerNormTo(y, y, g, g, 1e-5) }},
		{"SoftmaxTo", func() { SoftmaxTo(y, y) }},
	} {
		if n := testing.AllocsPerRun(5, c.f); n > 4 {
			t.Errorf("%s: %v allocations per call", c.name, n)
		}
	}
}

// Making permuted views contiguous (the tiled transpose path of CopyTo).
func TestCopyTranspose(t *testing.T) {
	rng := newRNG(41)
	for _, sh := range [][3]int{{2, 37, 45}, {1, 320, 64}, {3, 8, 9}, {2, 5, 100}} {
		x := randT(rng, 1, sh[0], sh[1], sh[2])
		for _, v := range []*Tensor{x.Permute(0, 2, 1), x.Permute(2, 1, 0), x.Slice(1, 1, sh[1]).Permute(0, 2, 1)} {
			dst := paddedT(v.Shape...)
			CopyTo(dst, v)
			checkPad(t, dst)
			eachIndex(v.Shape, func(idx []int) {
				if dst.At(idx...) != v.At(idx...) {
					t.Fatalf("%v: CopyTo of permuted view wrong at %v", sh, idx)
				}
			})
		}
	}
}
