package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

const sentinel = float32(-777.5)

// specials are inputs at the edges of every formula.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-30, -1e-30, 20, -20,
	-87.3, -87.4, -88, 88.3, 88.5, 89, -103, -104, 1000, -1000, 5.6, -5.6, 9, -9, 14, -14,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}

func inputs(rng *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		if i < len(specials) && n > 40 {
			x[i] = specials[i]
			continue
		}
		x[i] = (rng.Float32()*2 - 1) * scale
	}
	return x
}

// padded returns a length-n slice whose backing array continues with
// sentinels, and a check that they survived.
func padded(n int) ([]float32, func(t *testing.T)) {
	buf := make([]float32, n+9)
	for i := range buf {
		buf[i] = sentinel
	}
	return buf[:n], func(t *testing.T) {
		t.Helper()
		for i, v := range buf[n:] {
			if v != sentinel {
				t.Fatalf("sentinel %d after %d elements overwritten: %v", i, n, v)
			}
		}
	}
}

func near(a, b float32, rtol, atol float64) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	if math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) {
		return a == b
	}
	return math.Abs(float64(a)-float64(b)) <= atol+rtol*math.Abs(float64(b))
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := -87.3; x < 88.72; x += 0.00737 {
		got := float64(Exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 { // a few ulp (ulp/2 = 6e-8)
		t.Fatalf("Exp32 worst relative error %g", worst)
	}
	for _, c := range []struct{ x, want float32 }{{0, 1}, {-100, 0}, {89, float32(math.Inf(1))},
		{float32(math.Inf(-1)), 0}, {float32(math.Inf(1)), float32(math.Inf(1))}} {
		if got := Exp32(c.x); got != c.want {
			t.Errorf("Exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if v := Exp32(float32(math.NaN())); v == v {
		t.Error("Exp32(NaN) is not NaN")
	}
}

// GELU32 against float64 (via erfc, exact in the tail where 1+erf cancels):
// 1e-6 relative (the erfc fit is 1.2e-7; float32 evaluation of the exponent
// -z²+P adds ~|z²|·2^-24) or 1e-37 absolute where results underflow.
func TestGELU32(t *testing.T) {
	worst := 0.0
	for x := -30.0; x < 30; x += 0.000917 {
		xf := float32(x)
		want := 0.5 * float64(xf) * math.Erfc(-float64(xf)/math.Sqrt2)
		got := GELU32(xf)
		if !near(got, float32(want), geluTol(xf), 1e-37) {
			t.Fatalf("GELU32(%v) = %v, want %v", xf, got, want)
		}
		if want != 0 && math.Abs(want) > 1e-30 {
			worst = math.Max(worst, math.Abs(float64(got)-want)/math.Abs(want))
		}
	}
	t.Logf("GELU32 worst relative error %g", worst)
}

// geluTol is GELU32's relative tolerance at x: 1e-6, plus two ulp of the
// exponent z² = x²/2, which the exponential turns into relative error (it
// matters only in the far negative tail, where results are below 1e-20).
func geluTol(x float32) float64 { return 1e-6 + float64(x)*float64(x)/2*0x1p-22 }

// Each kernel against its scalar reference on every length around the
// vector width, with specials and sentinels. FMA rounding allows 4e-7, and
// geluTol for GELU, whose exponent -z²+P(t) is fused in the vector code.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, useVec := range []bool{false, true} {
		saved := useAVX2
		useAVX2 = useAVX2 && useVec
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 77, 1000, 4099} {
			x := inputs(rng, n, 12)
			g := inputs(rng, n, 6)

			d, chk := padded(n)
			SiLU(d, x)
			chk(t)
			for i := range d {
				if w := SiLU32(x[i]); !near(d[i], w, 4e-7, 1e-38) {
					t.Fatalf("vec=%v SiLU(%v) = %v, want %v", useVec, x[i], d[i], w)
				}
			}
			d, chk = padded(n)
			QuickGELU(d, x)
			chk(t)
			for i := range d {
				if w := QuickGELU32(x[i]); !near(d[i], w, 4e-7, 1e-38) {
					t.Fatalf("vec=%v QuickGELU(%v) = %v, want %v", useVec, x[i], d[i], w)
				}
			}
			d, chk = padded(n)
			GELU(d, x)
			chk(t)
			for i := range d {
				if w := GELU32(x[i]); !near(d[i], w, geluTol(x[i]), 1e-38) {
					t.Fatalf("vec=%v GELU(%v) = %v, want %v", useVec, x[i], d[i], w)
				}
			}
			d, chk = padded(n)
			GELUMul(d, g, x)
			chk(t)
			for i := range d {
				if w := x[i] * GELU32(g[i]); !near(d[i], w, geluTol(g[i]), 1e-38) {
					t.Fatalf("vec=%v GELUMul(%v, %v) = %v, want %v", useVec, g[i], x[i], d[i], w)
				}
			}
			if n == 0 {
				continue
			}
			// softmax pieces on finite inputs (NaN makes Max unspecified)
			xs := make([]float32, n)
			for i := range xs {
				xs[i] = (rng.Float32()*2 - 1) * 40
			}
			xs[n/2] = float32(math.Inf(-1)) // a masked score
			m := Max(xs)
			var want float32 = float32(math.Inf(-1))
			for _, v := range xs {
				want = float32(math.Max(float64(want), float64(v)))
			}
			if m != want {
				t.Fatalf("vec=%v Max = %v, want %v", useVec, m, want)
			}
			d, chk = padded(n)
			s := ExpSubSum(d, xs, m)
			chk(t)
			var ws float64
			for i := range d {
				w := Exp32(xs[i] - m)
				ws += float64(w)
				if !near(d[i], w, 4e-7, 1e-38) {
					t.Fatalf("vec=%v ExpSubSum(%v - %v) = %v, want %v", useVec, xs[i], m, d[i], w)
				}
			}
			if math.Abs(s-ws) > 1e-6*ws {
				t.Fatalf("vec=%v ExpSubSum sum %v, want %v", useVec, s, ws)
			}
			d, chk = padded(n)
			s32 := ExpSubSum32(d, xs, m)
			chk(t)
			for i := range d {
				if w := Exp32(xs[i] - m); !near(d[i], w, 4e-7, 1e-38) {
					t.Fatalf("vec=%v ExpSubSum32(%v - %v) = %v, want %v", useVec, xs[i], m, d[i], w)
				}
			}
			if math.Abs(float64(s32)-ws) > float64(n/8+2)*0x1p-24*ws {
				t.Fatalf("vec=%v ExpSubSum32 sum %v, want %v", useVec, s32, ws)
			}
		}
		useAVX2 = saved
	}
}

// In place (dst = src) must work for every kernel.
func TestInPlace(t *testing.T) {
	x := []float32{-3, -1, 0, 0.5, 1, 2, 3, 4, 5, 6, 7}
	y := append([]float32(nil), x...)
	GELU(y, y)
	for i := range x {
		if !near(y[i], GELU32(x[i]), 2e-6, 0) {
			t.Fatalf("in-place GELU[%d] = %v", i, y[i])
		}
	}
	y = append([]float32(nil), x...)
	SiLU(y, y)
	for i := range x {
		if !near(y[i], SiLU32(x[i]), 4e-7, 0) {
			t.Fatalf("in-place SiLU[%d] = %v", i, y[i])
		}
	}
}

func TestSumsAndScaleShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, useVec := range []bool{false, true} {
		saved := useAVX2
		useAVX2 = useAVX2 && useVec
		for _, n := range []int{0, 1, 7, 8, 9, 17, 100, 4099} {
			x := make([]float32, n)
			for i := range x {
				x[i] = (rng.Float32()*2-1)*3 + 50
			}
			var s, q float64
			for _, v := range x {
				s += float64(v)
				d := v - 50.5
				q += float64(d * d)
			}
			if got := Sum(x); math.Abs(got-s) > 1e-12*math.Abs(s) {
				t.Fatalf("vec=%v Sum(%d) = %v, want %v", useVec, n, got, s)
			}
			if got := SumSqDev(x, 50.5); math.Abs(got-q) > 1e-12*q {
				t.Fatalf("vec=%v SumSqDev(%d) = %v, want %v", useVec, n, got, q)
			}
			d, chk := padded(n)
			g := make([]float32, n)
			bb := make([]float32, n)
			for i := range x {
				d[i] = x[i]
				g[i] = rng.Float32()*4 - 2
				bb[i] = rng.Float32()*4 - 2
			}
			MulAdd(d, g, bb)
			chk(t)
			for i, v := range x {
				w := float64(v)*float64(g[i]) + float64(bb[i])
				if math.Abs(float64(d[i])-w) > 0x1p-23*(math.Abs(float64(v*g[i]))+math.Abs(float64(bb[i]))) {
					t.Fatalf("vec=%v MulAdd(%v, %v, %v) = %v, want %v", useVec, v, g[i], bb[i], d[i], w)
				}
			}
			d, chk = padded(n)
			ScaleShift(d, x, -0.37, 18.5)
			chk(t)
			for i, v := range x {
				w := float64(v)*-0.37 + 18.5
				if math.Abs(float64(d[i])-w) > 0x1p-23*(math.Abs(float64(v)*0.37)+18.5) {
					t.Fatalf("vec=%v ScaleShift(%v) = %v, want %v", useVec, v, d[i], w)
				}
			}
		}
		useAVX2 = saved
	}
}
