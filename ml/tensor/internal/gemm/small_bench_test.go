package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSmall times the serial tile products attention issues (one
// goroutine each): S = Q·Kᵀ (bq×bk×d) and O = P·V (bq×d×bk).
func BenchmarkSmall(b *testing.B) {
	for _, s := range []struct {
		m, n, k int
		tb      bool
	}{{128, 512, 40, true}, {128, 40, 512, false}, {64, 512, 40, true}, {64, 40, 512, false}, {256, 256, 32, true}} {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randSlice(r, s.m*s.k), randSlice(r, s.n*s.k), make([]float32, s.m*s.n)
			ldb := s.n
			if s.tb {
				ldb = s.k
			}
			cpu := processCPU()
			for b.Loop() {
				F32(false, s.tb, s.m, s.n, s.k, 1, a, s.k, w, ldb, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/(processCPU()-cpu)/1e9, "cpuGFLOPS")
		})
	}
}
