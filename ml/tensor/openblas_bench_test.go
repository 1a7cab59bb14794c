//go:build openblas && cgo

package tensor

import (
	"math/rand/v2"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor/internal/blasref"
)

// BenchmarkOpenBLAS times OpenBLAS's SGEMM at BenchmarkGEMM's shapes (same
// operands and layout: x [M,K] · wᵀ with w [N,K]) for comparison; build with
// -tags openblas and run with env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE.
func BenchmarkOpenBLAS(b *testing.B) {
	for _, s := range gemmShapes {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, uint64(s.m)))
			x := mmRand(r, s.m, s.k)
			w := mmRand(r, s.n, s.k)
			dst := New(s.m, s.n)
			cpu := processCPU()
			for b.Loop() {
				blasref.SGEMM(false, true, s.m, s.n, s.k, 1, x.Data, s.k, w.Data, s.k, 0, dst.Data, s.n)
			}
			reportGFLOPS(b, 2*float64(s.m)*float64(s.n)*float64(s.k), cpu)
			checkSample(b, x, w, dst)
		})
	}
}
