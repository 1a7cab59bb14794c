package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor/internal/gemm"
)

// The SD1.5 GEMM shapes (M×N×K) that dominate a 512² UNet step.
var gemmShapes = []struct {
	name    string
	m, n, k int
}{
	{"conv3x3_320", 4096, 320, 2880},
	{"linear_320", 4096, 320, 320},
	{"geglu_in", 4096, 2560, 320},
	{"conv3x3_640", 1024, 640, 5760},
	{"conv3x3_1280", 64, 1280, 11520},
	{"attn_qk", 4096, 4096, 40},
}

// BenchmarkGEMM times x·wᵀ through LinearTo, the way the model calls it:
// float32 activations [M,K], weights as stored [N,K] (float32, or fp16 for
// the _f16 variants), packing of both operands inside the timer. Each
// checks a sample of entries against a float64 dot product.
func BenchmarkGEMM(b *testing.B) {
	for _, s := range gemmShapes {
		for _, dt := range []DType{F32, F16} {
			name := s.name
			if dt == F16 {
				name += "_f16"
			}
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, uint64(s.m)))
				x := mmRand(r, s.m, s.k)
				w := mmRand(r, s.n, s.k)
				if dt == F16 {
					w = HalfFromFloat32(w, F16)
				}
				dst := New(s.m, s.n)
				cpu := processCPU()
				for b.Loop() {
					LinearTo(dst, x, w, nil)
				}
				reportGFLOPS(b, 2*float64(s.m)*float64(s.n)*float64(s.k), cpu)
				checkSample(b, x, w.Float(), dst)
			})
		}
	}
}

// checkSample compares 64 random entries of dst = x·wᵀ with float64 dots.
func checkSample(b *testing.B, x, w, dst *Tensor) {
	r := rand.New(rand.NewPCG(2, 2))
	m, n, k := x.Dim(0), w.Dim(0), x.Dim(1)
	for s := 0; s < 64; s++ {
		i, j := r.IntN(m), r.IntN(n)
		var sum, abs float64
		for p := 0; p < k; p++ {
			v := float64(x.Data[i*k+p]) * float64(w.Data[j*k+p])
			sum += v
			abs += math.Abs(v)
		}
		if d := math.Abs(float64(dst.Data[i*n+j]) - sum); d > gemm.Tolerance(k, 1, 0, abs, 0) {
			b.Fatalf("C[%d,%d] = %v, want %v", i, j, dst.Data[i*n+j], sum)
		}
	}
}

// BenchmarkConv2d times Conv2d at SD1.5 UNet shapes (batch 1, 512² image,
// 64² latent) with float32 and fp16 weights.
func BenchmarkConv2d(b *testing.B) {
	for _, c := range []struct {
		cin, cout, hw, k int
	}{
		{320, 320, 64, 3},
		{640, 640, 32, 3},
		{1280, 1280, 16, 3},
		{1280, 1280, 8, 3},
		{320, 320, 64, 1},
	} {
		for _, dt := range []DType{F32, F16} {
			name := fmt.Sprintf("%dx%dx%d_k%d_%v", c.cin, c.hw, c.hw, c.k, dt)
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 3))
				x := mmRand(r, 1, c.cin, c.hw, c.hw)
				w := HalfFromFloat32(mmRand(r, c.cout, c.cin, c.k, c.k), dt)
				bias := mmRand(r, c.cout)
				dst := New(1, c.cout, c.hw, c.hw)
				cpu := processCPU()
				for b.Loop() {
					Conv2dTo(dst, x, w, bias, 1, c.k/2)
				}
				reportGFLOPS(b, 2*float64(c.cout)*float64(c.hw*c.hw)*float64(c.cin*c.k*c.k), cpu)
			})
		}
	}
}

// BenchmarkFMAPeak runs an assembly loop of independent FMAs (AVX-512 or
// AVX2, whichever the GEMM uses) on every core: the run's own ceiling.
func BenchmarkFMAPeak(b *testing.B) {
	nw := runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	var flops float64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu := processCPU()
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := gemm.PeakLoop(b.N * 1000000)
			mu.Lock()
			flops += f
			mu.Unlock()
		}()
	}
	wg.Wait()
	if flops == 0 {
		b.Skip("no vector FMA loop on this CPU")
	}
	reportGFLOPS(b, flops/float64(b.N), cpu)
}

// reportGFLOPS reports GFLOPS (wall clock, the figure that counts) and
// cpuGFLOPS: flops per CPU-second this process used since cpu0, times
// GOMAXPROCS, an estimate of the wall figure on an otherwise idle machine
// (the 2 cores are shared, so wall figures are noisy; compare ratios).
func reportGFLOPS(b *testing.B, flopsPerOp, cpu0 float64) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOPS")
	if used := processCPU() - cpu0; used > 0 {
		b.ReportMetric(total/used*float64(runtime.GOMAXPROCS(0))/1e9, "cpuGFLOPS")
	}
}

// BenchmarkLinearPacked is BenchmarkGEMM with the weight packed once
// (PackLinearWeight), as a layer that caches its packed weight would run.
func BenchmarkLinearPacked(b *testing.B) {
	for _, s := range gemmShapes {
		for _, dt := range []DType{F32, F16} {
			name := s.name
			if dt == F16 {
				name += "_f16"
			}
			b.Run(name, func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, uint64(s.m)))
				x := mmRand(r, s.m, s.k)
				w := mmRand(r, s.n, s.k)
				if dt == F16 {
					w = HalfFromFloat32(w, F16)
				}
				pw := PackLinearWeight(w)
				dst := New(s.m, s.n)
				cpu := processCPU()
				for b.Loop() {
					LinearPackedTo(dst, x, pw, nil)
				}
				reportGFLOPS(b, 2*float64(s.m)*float64(s.n)*float64(s.k), cpu)
				checkSample(b, x, w.Float(), dst)
			})
		}
	}
}

// BenchmarkConv2dPacked is BenchmarkConv2d with the weight packed once.
func BenchmarkConv2dPacked(b *testing.B) {
	for _, c := range []struct{ cin, cout, hw, k int }{{320, 320, 64, 3}, {640, 640, 32, 3}, {1280, 1280, 16, 3}, {1280, 1280, 8, 3}} {
		b.Run(fmt.Sprintf("%dx%dx%d_k%d", c.cin, c.hw, c.hw, c.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			x := mmRand(r, 1, c.cin, c.hw, c.hw)
			pw := PackConv2dWeight(HalfFromFloat32(mmRand(r, c.cout, c.cin, c.k, c.k), F16))
			bias := mmRand(r, c.cout)
			dst := New(1, c.cout, c.hw, c.hw)
			cpu := processCPU()
			for b.Loop() {
				Conv2dPackedTo(dst, x, pw, bias, 1, c.k/2)
			}
			reportGFLOPS(b, 2*float64(c.cout)*float64(c.hw*c.hw)*float64(c.cin*c.k*c.k), cpu)
		})
	}
}
