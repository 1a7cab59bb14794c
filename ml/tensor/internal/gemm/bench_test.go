package gemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// Tuning knobs for benchmarks only: COMFYD_GEMM_KC and COMFYD_GEMM_MC.
func init() {
	if v, err := strconv.Atoi(os.Getenv("COMFYD_GEMM_KC")); err == nil && v > 0 {
		kcMax = v
	}
	if v, err := strconv.Atoi(os.Getenv("COMFYD_GEMM_MC")); err == nil && v > 0 {
		for _, k := range kernels {
			k.mc = v / k.mr * k.mr
			k.nc = v / k.nr * k.nr
		}
	}
}

// BenchmarkShapes is the package-local tuning benchmark; the figures that
// count are tensor's BenchmarkGEMM.
func BenchmarkShapes(b *testing.B) {
	for _, s := range [][3]int{{4096, 320, 2880}, {4096, 320, 320}, {4096, 2560, 320}, {1024, 640, 5760}, {64, 1280, 11520}, {4096, 4096, 40}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			a, w, c := randSlice(r, m*k), randSlice(r, n*k), make([]float32, m*n)
			cpu := processCPU()
			for b.Loop() {
				F32(false, true, m, n, k, 1, a, k, w, k, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/(processCPU()-cpu)*float64(runtime.GOMAXPROCS(0))/1e9, "cpuGFLOPS")
		})
	}
}
