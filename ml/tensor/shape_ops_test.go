package tensor

import (
	"fmt"
	"math"
	"testing"
)

func TestResizeKnownValues(t *testing.T) {
	x := FromData([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	// torch.nn.functional.interpolate(x, size=(4, 4), mode="bilinear", align_corners=False)
	want := []float32{
		1, 1.25, 1.75, 2,
		1.5, 1.75, 2.25, 2.5,
		2.5, 2.75, 3.25, 3.5,
		3, 3.25, 3.75, 4,
	}
	if got := Resize(x, 4, 4, Bilinear).Values(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("bilinear 2x2→4x4 = %v", got)
	}
	if got := UpsampleNearest2x(x).Values(); fmt.Sprint(got) != "[1 1 2 2 1 1 2 2 3 3 4 4 3 3 4 4]" {
		t.Fatalf("nearest 2x = %v", got)
	}
	r := FromData([]float32{10, 20, 30}, 1, 1, 1, 3)
	if got := Resize(r, 1, 5, Nearest).Values(); fmt.Sprint(got) != "[10 10 20 20 30]" {
		t.Fatalf("nearest 3→5 = %v", got)
	}
	if got := Resize(r, 1, 5, NearestExact).Values(); fmt.Sprint(got) != "[10 10 20 30 30]" {
		t.Fatalf("nearest-exact 3→5 = %v", got)
	}
	// downscale 3→2 bilinear: src = (o+0.5)·1.5-0.5 = 0.25, 1.75
	if got := Resize(r, 1, 2, Bilinear).Values(); fmt.Sprint(got) != "[12.5 27.5]" {
		t.Fatalf("bilinear 3→2 = %v", got)
	}
	// torch's interpolate(x, size=(4, 4), mode="bicubic", align_corners=False)
	bic := []float64{0.68359375, 1.015625, 1.5625, 1.89453125, 1.34765625, 1.6796875, 2.2265625, 2.55859375,
		2.44140625, 2.7734375, 3.3203125, 3.65234375, 3.10546875, 3.4375, 3.984375, 4.31640625}
	closeTo(t, "bicubic 2x2→4x4", Resize(x, 4, 4, Bicubic).Values(), bic, 0, 1e-6)
	// area 3→2: [0,2) and [1,3); 5→2: [0,3) and [2,5)
	if got := Resize(r, 1, 2, Area).Values(); fmt.Sprint(got) != "[15 25]" {
		t.Fatalf("area 3→2 = %v", got)
	}
	if got := Resize(FromData([]float32{1, 2, 3, 4, 5}, 1, 1, 1, 5), 1, 2, Area).Values(); fmt.Sprint(got) != "[2 4]" {
		t.Fatalf("area 5→2 = %v", got)
	}
}

// refResize is the plain per-element formula of ResizeTo, reading through At.
func refResize(x *Tensor, oh, ow int, mode Interp) []float64 {
	n, c, ih, iw := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	var out []float64
	if mode == Bicubic || mode == Area {
		// separable weights per axis, in float64
		weights := func(in, out, o int) (idx []int, w []float64) {
			s := float64(float32(in) / float32(out))
			if mode == Area {
				lo, hi := int(math.Floor(float64(o*in)/float64(out))), int(math.Ceil(float64((o+1)*in)/float64(out)))
				for i := lo; i < hi; i++ {
					idx = append(idx, i)
					w = append(w, 1/float64(hi-lo))
				}
				return
			}
			src := (float64(o)+0.5)*s - 0.5
			f := math.Floor(src)
			tt := src - f
			const a = -0.75
			near := func(x float64) float64 { return ((a+2)*x-(a+3))*x*x + 1 }
			far := func(x float64) float64 { return ((a*x-5*a)*x+8*a)*x - 4*a }
			w = []float64{far(tt + 1), near(tt), near(1 - tt), far(2 - tt)}
			for k := 0; k < 4; k++ {
				idx = append(idx, min(max(int(f)-1+k, 0), in-1))
			}
			return
		}
		for b := 0; b < n; b++ {
			for ch := 0; ch < c; ch++ {
				for i := 0; i < oh; i++ {
					yi, yw := weights(ih, oh, i)
					for j := 0; j < ow; j++ {
						xi, xw := weights(iw, ow, j)
						var acc float64
						for r := range yi {
							for k := range xi {
								acc += yw[r] * xw[k] * float64(x.At(b, ch, yi[r], xi[k]))
							}
						}
						out = append(out, acc)
					}
				}
			}
		}
		return out
	}
	src := func(o, in, out int) (int, int, float64) {
		s := float32(in) / float32(out)
		switch mode {
		case Nearest:
			return min(int(math.Floor(float64(float32(o)*s))), in-1), 0, 0
		case NearestExact:
			return min(int(math.Floor(float64((float32(o)+0.5)*s))), in-1), 0, 0
		}
		f := math.Max(float64((float32(o)+0.5)*s-0.5), 0)
		i0 := min(int(f), in-1)
		return i0, min(i0+1, in-1), f - float64(i0)
	}
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < oh; i++ {
				y0, y1, ly := src(i, ih, oh)
				for j := 0; j < ow; j++ {
					x0, x1, lx := src(j, iw, ow)
					if mode != Bilinear {
						out = append(out, float64(x.At(b, ch, y0, x0)))
						continue
					}
					v := (1-ly)*((1-lx)*float64(x.At(b, ch, y0, x0))+lx*float64(x.At(b, ch, y0, x1))) +
						ly*((1-lx)*float64(x.At(b, ch, y1, x0))+lx*float64(x.At(b, ch, y1, x1)))
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func TestResizeOddSizes(t *testing.T) {
	rng := newRNG(30)
	for _, mode := range []Interp{Nearest, NearestExact, Bilinear, Bicubic, Area} {
		for _, sz := range [][4]int{{5, 7, 10, 14}, {5, 7, 3, 4}, {1, 1, 9, 2}, {8, 8, 13, 17}, {64, 64, 128, 128}, {3, 5, 6, 10}} {
			x := stridedT(rng, 2, 2, 3, sz[0], sz[1])
			if sz[0] == 3 {
				x = x.Clone() // the contiguous ×2 fast path
			}
			dst := paddedT(2, 3, sz[2], sz[3])
			ResizeTo(dst, x, mode)
			checkPad(t, dst)
			closeTo(t, fmt.Sprint(mode, sz), dst.Values(), refResize(x, sz[2], sz[3], mode), 1e-6, 4e-6)
		}
	}
}

func TestCatSplitChunk(t *testing.T) {
	rng := newRNG(31)
	a := stridedT(rng, 1, 2, 3, 4)
	b := randT(rng, 1, 2, 5, 4)
	c := Cat(1, a, b)
	if fmt.Sprint(c.Shape) != "[2 8 4]" {
		t.Fatal(c.Shape)
	}
	eachIndex(c.Shape, func(idx []int) {
		var want float32
		if idx[1] < 3 {
			want = a.At(idx...)
		} else {
			want = b.At(idx[0], idx[1]-3, idx[2])
		}
		if c.At(idx...) != want {
			t.Fatalf("Cat at %v", idx)
		}
	})
	parts := Split(c, 1, 3, 5)
	if fmt.Sprint(parts[0].Values()) != fmt.Sprint(a.Values()) || fmt.Sprint(parts[1].Values()) != fmt.Sprint(b.Values()) {
		t.Fatal("Split does not undo Cat")
	}
	// last-dim Cat into a padded destination
	dst := paddedT(2, 3, 9)
	CatTo(dst, -1, a, Cat(-1, a, FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3, 1)))
	checkPad(t, dst)
	if dst.At(1, 2, 8) != 6 || dst.At(1, 2, 3) != a.At(1, 2, 3) || dst.At(0, 1, 5) != a.At(0, 1, 1) {
		t.Fatal("CatTo along the last dim")
	}
	// torch.chunk: 7 split 3 ways is 3, 3, 1; 2 split 3 ways is 1, 1
	var sizes []int
	for _, p := range Chunk(New(7, 2), 3, 0) {
		sizes = append(sizes, p.Dim(0))
	}
	for _, p := range Chunk(New(2, 2), 3, 0) {
		sizes = append(sizes, p.Dim(0))
	}
	if fmt.Sprint(sizes) != "[3 3 1 1 1]" {
		t.Fatalf("Chunk sizes %v", sizes)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Cat of mismatched shapes did not panic")
		}
	}()
	Cat(1, a, New(3, 1, 4))
}

func TestTimestepEmbedding(t *testing.T) {
	ts := []float32{0, 1, 999, 500.5}
	for _, dim := range []int{320, 7} {
		e := TimestepEmbedding(ts, dim, 10000)
		half := dim / 2
		var want []float64
		for _, tv := range ts {
			for i := 0; i < half; i++ {
				want = append(want, math.Cos(float64(tv)*math.Exp(-math.Log(10000)*float64(i)/float64(half))))
			}
			for i := 0; i < half; i++ {
				want = append(want, math.Sin(float64(tv)*math.Exp(-math.Log(10000)*float64(i)/float64(half))))
			}
			if dim%2 == 1 {
				want = append(want, 0)
			}
		}
		// float32 frequencies: |t|·ulp(freq) ≈ 999·6e-8 of phase error
		closeTo(t, fmt.Sprint("timestep dim ", dim), e.Values(), want, 0, 1e-4)
	}
	e := TimestepEmbedding([]float32{0}, 4, 10000).Values()
	if fmt.Sprint(e) != "[1 1 0 0]" {
		t.Fatalf("t=0 embedding %v", e)
	}
}

func TestEmbedding(t *testing.T) {
	w := FromData([]float32{0, 1, 10, 11, 20, 21}, 3, 2)
	if got := Embedding(w, []int{2, 0, 2}).Values(); fmt.Sprint(got) != "[20 21 0 1 20 21]" {
		t.Fatalf("Embedding = %v", got)
	}
	h := &Tensor{Half: []uint16{0x3c00, 0x4000, 0xc000, 0x0000}, DType: F16, Shape: []int{2, 2}, Strides: []int{2, 1}}
	if got := Embedding(h, []int{1, 0}).Values(); fmt.Sprint(got) != "[-2 0 1 2]" {
		t.Fatalf("F16 Embedding = %v", got)
	}
	bf := &Tensor{Half: []uint16{0x3f80, 0x4040}, DType: BF16, Shape: []int{2, 1}, Strides: []int{1, 1}}
	if got := Embedding(bf, []int{1}).Values(); fmt.Sprint(got) != "[3]" {
		t.Fatalf("BF16 Embedding = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("out-of-range id did not panic")
		}
	}()
	Embedding(w, []int{3})
}

func TestReductions(t *testing.T) {
	rng := newRNG(32)
	x := stridedT(rng, 5, 3, 4, 5)
	for dim := 0; dim < 3; dim++ {
		for _, keep := range []bool{false, true} {
			s, m, mx, mn := Sum(x, dim, keep), Mean(x, dim, keep), MaxAlong(x, dim, keep), MinAlong(x, dim, keep)
			if keep && s.Dim(dim) != 1 || !keep && s.Dims() != 2 {
				t.Fatalf("keepdim shape %v", s.Shape)
			}
			eachIndex(x.Shape, func(idx []int) {
				if idx[dim] != 0 {
					return
				}
				var sum float64
				mxw, mnw := float32(math.Inf(-1)), float32(math.Inf(1))
				for k := 0; k < x.Dim(dim); k++ {
					j := append([]int(nil), idx...)
					j[dim] = k
					v := x.At(j...)
					sum += float64(v)
					mxw = max(mxw, v)
					mnw = min(mnw, v)
				}
				o := append([]int(nil), idx...)
				if !keep {
					o = append(o[:dim], o[dim+1:]...)
				}
				if s.At(o...) != float32(sum) || m.At(o...) != float32(sum/float64(x.Dim(dim))) || mx.At(o...) != mxw || mn.At(o...) != mnw {
					t.Fatalf("dim %d at %v: %v %v %v %v", dim, idx, s.At(o...), m.At(o...), mx.At(o...), mn.At(o...))
				}
			})
		}
	}
	if got := SumAll(FromData([]float32{1, 2, 3.5}, 3)); got != 6.5 {
		t.Fatalf("SumAll = %v", got)
	}
	nan := FromData([]float32{1, float32(math.NaN()), 3}, 3)
	if v := MaxAlong(nan, 0, false).At(); v == v {
		t.Fatal("MaxAlong dropped a NaN")
	}
}

func TestPad2d(t *testing.T) {
	rng := newRNG(33)
	x := stridedT(rng, 1, 2, 3, 4, 5)
	for _, p := range [][4]int{{0, 1, 0, 1}, {2, 0, 1, 3}, {-1, 2, 0, -2}, {0, 0, 0, 0}, {-5, 1, 0, 0}} {
		out := Pad2d(x, p[0], p[1], p[2], p[3], -7)
		if out.Dim(2) != 4+p[2]+p[3] || out.Dim(3) != 5+p[0]+p[1] {
			t.Fatalf("pad %v: shape %v", p, out.Shape)
		}
		eachIndex(out.Shape, func(idx []int) {
			i, j := idx[2]-p[2], idx[3]-p[0]
			want := float32(-7)
			if i >= 0 && i < 4 && j >= 0 && j < 5 {
				want = x.At(idx[0], idx[1], i, j)
			}
			if out.At(idx...) != want {
				t.Fatalf("pad %v at %v: %v want %v", p, idx, out.At(idx...), want)
			}
		})
	}
}
