package rng

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

const goldenDir = "../../../shared/golden/sd15-synth"

func readF32(t *testing.T, name string) []float32 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Skipf("golden data: %v", err)
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// The reference mt19937 sequence for seed 5489 (std::mt19937's default):
// its 10000th output is 4123659995.
func TestMT19937Reference(t *testing.T) {
	g := NewTorch(5489)
	var v uint32
	for i := 0; i < 10000; i++ {
		v = g.Uint32()
	}
	if v != 4123659995 {
		t.Fatalf("10000th output = %d, want 4123659995", v)
	}
}

func TestSeedUsesLow32Bits(t *testing.T) {
	a, b := NewTorch(7), NewTorch(7+1<<32)
	for i := 0; i < 100; i++ {
		if a.Uint32() != b.Uint32() {
			t.Fatal("high seed bits changed the stream")
		}
	}
	if b.InitialSeed() != 7+1<<32 {
		t.Fatal("initial seed not kept")
	}
}

func TestRandnGolden(t *testing.T) {
	for _, c := range []struct {
		file  string
		seed  uint64
		shape []int
	}{
		{"noise_seed42_1x4x8x8.f32", 42, []int{1, 4, 8, 8}},
		{"noise_seed42_2x4x8x8.f32", 42, []int{2, 4, 8, 8}},
		{"noise_seed0_1x4x64x64.f32", 0, []int{1, 4, 64, 64}},
		{"caseb_noise.f32", 7, []int{1, 4, 16, 16}},
		{"casec_noise.f32", 123, []int{1, 4, 8, 8}},
	} {
		want := readF32(t, c.file)
		got := NewTorch(c.seed).Randn(c.shape...).Data
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", c.file, len(got), len(want))
		}
		bad := 0
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				if bad < 5 {
					t.Errorf("%s[%d] = %v (%08x), want %v (%08x)", c.file, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d values differ", c.file, bad, len(want))
		}
	}
}

// euler_ancestral draws randn([1,4,8,8]) once per step from one generator.
func TestAncestralStream(t *testing.T) {
	want := readF32(t, "casec_ancestral_noise.f32")
	g := NewTorch(123)
	for step := 0; step < 5; step++ {
		got := g.Randn(1, 4, 8, 8).Data
		for i, v := range got {
			if math.Float32bits(v) != math.Float32bits(want[step*256+i]) {
				t.Fatalf("step %d [%d] = %v, want %v", step, i, v, want[step*256+i])
			}
		}
	}
}

func TestFMA32SingleRounding(t *testing.T) {
	// 1 + 2^-24 is a float32 tie; a tiny product above it must round up,
	// below it down, and an exact tie to even (down).
	one := float32(1)
	tie := float32(0x1p-24)
	if got := fma32(tie, 1, one); got != 1 {
		t.Errorf("exact tie: %v", got)
	}
	if got := fma32(0x1p-24+0x1p-47, 1, one); got != 1+0x1p-23 {
		t.Errorf("above tie: %v", got)
	}
	if got := fma32(0x1p-24-0x1p-48, 1, one); got != 1 {
		t.Errorf("below tie: %v", got)
	}
	// The cases double rounding gets wrong: the float64 sum lands on the tie.
	if got := fma32(1, 0x1p-24, 1+0x1p-23); got != 1+0x1p-22 {
		t.Errorf("tie to even: %v", got)
	}
	// (1+2^-23) + (2^-24 − 2^-70): float64 rounds the sum onto the tie
	// and float32 would then round it to even; the true sum is below it.
	if got := fma32(0x1.000002p-24, 0x1.fffffcp-1, 1+0x1p-23); got != 1+0x1p-23 {
		t.Errorf("double rounding: %v", got)
	}
}

// torch.manual_seed(0); torch.randn(5) is the scalar (cached Box–Muller,
// float64) path: tensor([1.5410, -0.2934, -2.1788, 0.5684, -1.0845]).
func TestRandnScalarPath(t *testing.T) {
	got := NewTorch(0).Randn(5).Data
	want := []float64{1.5410, -0.2934, -2.1788, 0.5684, -1.0845}
	for i, w := range want {
		if math.Abs(float64(got[i])-w) > 6e-5 {
			t.Errorf("randn(5)[%d] = %v, want %v", i, got[i], w)
		}
	}
	// The cached sin half is dropped by a reseed.
	g := NewTorch(0)
	g.Randn(1)
	g.ManualSeed(0)
	if v := g.Randn(1).Data[0]; math.Abs(float64(v)-1.5410) > 6e-5 {
		t.Errorf("after reseed: %v", v)
	}
}

func TestPrepareNoiseBatchIndex(t *testing.T) {
	full := PrepareNoise(42, []int{3, 4, 2, 2}, nil)
	if len(full.Data) != 48 {
		t.Fatal(len(full.Data))
	}
	// Indices draw [1,4,2,2] samples one after another (16 elements each:
	// the vectorised path), keep the wanted ones and repeat duplicates.
	g := NewTorch(42)
	s0, s1, s2 := g.Randn(1, 4, 2, 2).Data, g.Randn(1, 4, 2, 2).Data, g.Randn(1, 4, 2, 2).Data
	_ = s1
	got := PrepareNoise(42, []int{3, 4, 2, 2}, []int{2, 0, 2})
	for i := 0; i < 16; i++ {
		if got.Data[i] != s2[i] || got.Data[16+i] != s0[i] || got.Data[32+i] != s2[i] {
			t.Fatalf("batch_index noise mismatch at %d", i)
		}
	}
}
