package vec

import (
	"math/rand/v2"
	"testing"
)

// Kernel throughput on one core, on an L1-resident row of 384 scores (an
// attention key block).
func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 384)
	for i := range x {
		x[i] = -rng.Float32() * 20
	}
	d := make([]float32, len(x))
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"ExpSubSum", func() { ExpSubSum(d, x, 0.5) }},
		{"ExpSubSum32", func() { ExpSubSum32(d, x, 0.5) }},
		{"Max", func() { Max(x) }},
		{"SiLU", func() { SiLU(d, x) }},
		{"GELU", func() { GELU(d, x) }},
		{"Sum", func() { Sum(x) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.f()
			}
			b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
