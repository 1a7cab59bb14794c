package tensor

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor/internal/gemm"
)

// BenchmarkAttention reports GFLOPS counted as 4·B·heads·Tq·Tk·D (the two
// matrix products; the softmax is not counted), by wall clock and per CPU
// second (cpuGFLOPS, see reportGFLOPS: steadier on the shared machine).
func BenchmarkAttention(b *testing.B) {
	rng := newRNG(20)
	for _, c := range []struct {
		name         string
		h, tq, tk, d int
	}{
		{"self_4096x8x40", 8, 4096, 4096, 40},
		{"self_1024x8x80", 8, 1024, 1024, 80},
		{"self_256x8x160", 8, 256, 256, 160},
		{"cross_4096x77x8x40", 8, 4096, 77, 40},
	} {
		b.Run(c.name, func(b *testing.B) {
			q := randT(rng, 1, 1, c.h, c.tq, c.d)
			k := randT(rng, 1, 1, c.h, c.tk, c.d)
			v := randT(rng, 1, 1, c.h, c.tk, c.d)
			out := New(1, c.h, c.tq, c.d)
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				AttentionTo(out, q, k, v, 0, false)
			}
			reportGFLOPS(b, 4*float64(c.h*c.tq*c.tk*c.d), cpu0)
		})
	}
}

// BenchmarkAttentionGEMM measures gemm.F32 alone on the products attention
// does for one head of self_4096x8x40, as the ceiling attention is compared
// with.
func BenchmarkAttentionGEMM(b *testing.B) {
	rng := newRNG(21)
	for _, c := range []struct{ m, n, k int }{{4096, 4096, 40}, {4096, 40, 4096}, {64, 512, 40}, {64, 40, 512}} {
		b.Run(fmt.Sprintf("%dx%dx%d", c.m, c.n, c.k), func(b *testing.B) {
			a := randT(rng, 1, c.m, c.k).Data
			bb := randT(rng, 1, c.k, c.n).Data
			cc := make([]float32, c.m*c.n)
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				gemm.F32(false, false, c.m, c.n, c.k, 1, a, c.k, bb, c.n, 0, cc, c.n)
			}
			reportGFLOPS(b, 2*float64(c.m*c.n*c.k), cpu0)
		})
	}
}

// reportRate reports perOp units per second by wall clock, and "cpu"+unit:
// the same per CPU-second this process used, times GOMAXPROCS (what the wall
// figure would be on an idle machine; the 2 cores here are shared).
func reportRate(b *testing.B, perOp float64, unit string, cpu0 float64) {
	total := perOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), unit)
	if used := processCPU() - cpu0; used > 0 {
		b.ReportMetric(total/used*float64(runtime.GOMAXPROCS(0)), "cpu"+unit)
	}
}

// BenchmarkGroupNorm reports GB/s of input read plus output written.
func BenchmarkGroupNorm(b *testing.B) {
	rng := newRNG(22)
	for _, c := range []struct {
		name string
		sh   []int
		silu bool
	}{
		{"1x320x64x64", []int{1, 320, 64, 64}, false},
		{"1x320x64x64_silu", []int{1, 320, 64, 64}, true},
		{"2x1280x8x8", []int{2, 1280, 8, 8}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			x := randT(rng, 1, c.sh...)
			g, be := randT(rng, 1, c.sh[1]), randT(rng, 1, c.sh[1])
			out := New(c.sh...)
			b.ResetTimer()
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				if c.silu {
					GroupNormSiLUTo(out, x, 32, g, be, 1e-6)
				} else {
					GroupNormTo(out, x, 32, g, be, 1e-6)
				}
			}
			reportRate(b, 8*float64(x.Len())/1e9, "GB/s", cpu0)
		})
	}
}

// BenchmarkActivation reports elements per second (G/s) at SD's largest
// activation shapes.
func BenchmarkActivation(b *testing.B) {
	rng := newRNG(23)
	x := randT(rng, 4, 1, 320, 64, 64)
	out := New(x.Shape...)
	ff := randT(rng, 4, 1, 4096, 2560)
	ffo := New(1, 4096, 1280)
	up := randT(rng, 1, 1, 512, 64, 64)
	upo := New(1, 512, 128, 128)
	for _, c := range []struct {
		name string
		f    func()
		n    int
	}{
		{"SiLU", func() { SiLUTo(out, x) }, x.Len()},
		{"GELU", func() { GELUTo(out, x) }, x.Len()},
		{"QuickGELU", func() { QuickGELUTo(out, x) }, x.Len()},
		{"GEGLU_4096x2560", func() { GEGLUTo(ffo, ff) }, ffo.Len()},
		{"Softmax_4096x77", func() { SoftmaxTo(ff.Slice(2, 0, 77), ff.Slice(2, 0, 77)) }, 4096 * 77},
		{"Add", func() { AddTo(out, x, x) }, x.Len()},
		{"Upsample2x_1x512x64x64", func() { ResizeTo(upo, up, Nearest) }, upo.Len()},
		{"Bilinear_1x512x64x64", func() { ResizeTo(upo, up, Bilinear) }, upo.Len()},
		{"Transpose_320x4096", func() { CopyTo(out.Reshape(1, 4096, 320), x.Reshape(1, 320, 4096).Permute(0, 2, 1)) }, x.Len()},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				c.f()
			}
			reportRate(b, float64(c.n)/1e9, "Gelem/s", cpu0)
		})
	}
}
