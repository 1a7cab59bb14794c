package half

import (
	"math"
	"math/big"
	"testing"
)

// TestF16RoundTripAll widens every half and narrows it back.
func TestF16RoundTripAll(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToF32(h)
		back := F32ToF16(f)
		if f != f { // NaN: stays NaN
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
}

// f16Exact is the exact value of a finite half as a big.Float.
func f16Exact(h uint16) *big.Float {
	return new(big.Float).SetFloat64(float64(F16ToF32(h)))
}

// TestF32ToF16RoundsNearestEven checks narrowing against exact arithmetic on
// every half's neighbourhood: midpoints, just above, just below.
func TestF32ToF16RoundsNearestEven(t *testing.T) {
	for i := 0; i < 0x7bff; i++ { // positive finite halves and their successor
		lo, hi := uint16(i), uint16(i+1)
		mid := new(big.Float).Add(f16Exact(lo), f16Exact(hi))
		mid.Quo(mid, big.NewFloat(2))
		m, _ := mid.Float32() // exact: midpoints of halves fit in float32
		even := lo
		if lo&1 != 0 {
			even = hi
		}
		if got := F32ToF16(m); got != even {
			t.Fatalf("midpoint of %#04x,%#04x: got %#04x want %#04x", lo, hi, got, even)
		}
		if got := F32ToF16(math.Nextafter32(m, 0)); got != lo {
			t.Fatalf("below midpoint of %#04x: got %#04x", lo, got)
		}
		if got := F32ToF16(math.Nextafter32(m, 1e9)); got != hi {
			t.Fatalf("above midpoint of %#04x: got %#04x", lo, got)
		}
		if got := F32ToF16(-m); got != even|0x8000 {
			t.Fatalf("negative midpoint of %#04x: got %#04x", lo, got)
		}
	}
	// 65520 lies halfway between the largest half (65504) and 2^16, whose
	// even mantissa wins: it rounds to inf; just below stays finite.
	if F32ToF16(65520) != 0x7c00 || F32ToF16(math.Nextafter32(65520, 0)) != 0x7bff {
		t.Fatal("rounding at the top of the half range")
	}
	if F32ToF16(1e6) != 0x7c00 || F32ToF16(float32(math.Inf(-1))) != 0xfc00 {
		t.Fatal("overflow must give inf")
	}
	if F32ToF16(1e-30) != 0 || F32ToF16(-1e-30) != 0x8000 {
		t.Fatal("underflow must give signed zero")
	}
}

func TestBF16(t *testing.T) {
	cases := []struct {
		f    uint32
		want uint16
	}{
		{0x3f800000, 0x3f80},
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81},
		{0x7f7fffff, 0x7f80}, // rounds up to inf
		{0xff800000, 0xff80},
	}
	for _, c := range cases {
		if got := F32ToBF16(math.Float32frombits(c.f)); got != c.want {
			t.Errorf("%#08x: got %#04x want %#04x", c.f, got, c.want)
		}
	}
	if nan := F32ToBF16(float32(math.NaN())); nan&0x7f80 != 0x7f80 || nan&0x7f == 0 {
		t.Errorf("NaN narrowed to %#04x", nan)
	}
	for i := 0; i < 1<<16; i++ {
		f := BF16ToF32(uint16(i))
		if f == f && F32ToBF16(f) != uint16(i) {
			t.Fatalf("bf16 %#04x does not round-trip", i)
		}
	}
}

// TestBulkMatchesScalar covers the vector path and its tail on every length
// around the 32-element block.
func TestBulkMatchesScalar(t *testing.T) {
	src := make([]uint16, 200)
	for i := range src {
		src[i] = uint16(i*7919 + 13)
	}
	for n := 0; n <= len(src); n += 1 + n/8 {
		dst := make([]float32, n+1)
		dst[n] = 42
		F16ToF32s(dst, src[:n])
		for i := 0; i < n; i++ {
			want := F16ToF32(src[i])
			if math.Float32bits(dst[i]) != math.Float32bits(want) && !(want != want && dst[i] != dst[i]) {
				t.Fatalf("n=%d i=%d: %v want %v", n, i, dst[i], want)
			}
		}
		if dst[n] != 42 {
			t.Fatalf("n=%d: wrote past the end", n)
		}
		back := make([]uint16, n+1)
		back[n] = 0xbeef
		fs := make([]float32, n)
		for i := range fs {
			fs[i] = float32(i)*0.3141 - 17 + float32(i*i)*1e-3
		}
		F32ToF16s(back, fs)
		for i := 0; i < n; i++ {
			if back[i] != F32ToF16(fs[i]) {
				t.Fatalf("n=%d i=%d: %#04x want %#04x", n, i, back[i], F32ToF16(fs[i]))
			}
		}
		if back[n] != 0xbeef {
			t.Fatalf("n=%d: wrote past the end", n)
		}
	}
}

func BenchmarkF16ToF32(b *testing.B) {
	src := make([]uint16, 1<<20)
	dst := make([]float32, len(src))
	b.SetBytes(int64(len(src) * 2))
	for b.Loop() {
		F16ToF32s(dst, src)
	}
}
