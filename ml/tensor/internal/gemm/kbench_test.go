package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// BenchmarkKernel times the micro-kernels alone (panels hot in cache) on
// every core, to separate kernel speed from driver and memory effects.
func BenchmarkKernel(b *testing.B) {
	for _, kc := range []int{128, 256, 384, 512} {
		for _, kn := range kernels {
			for _, direct := range []bool{false, true} {
				if direct && kn.direct == nil {
					continue
				}
				b.Run(fmt.Sprintf("%s/direct=%v/kc=%d", kn.name, direct, kc), func(b *testing.B) {
					nw := runtime.GOMAXPROCS(0)
					const tiles = 8
					var wg sync.WaitGroup
					for w := 0; w < nw; w++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							r := rand.New(rand.NewPCG(1, 1))
							a := randSlice(r, kn.mr*kc)
							ad := randSlice(r, kn.mr*(kc+16))
							bp := randSlice(r, tiles*kn.nr*kc)
							c := make([]float32, kn.mr*kn.nr*tiles)
							for i := 0; i < b.N; i++ {
								for t := 0; t < tiles; t++ {
									if direct {
										kn.direct(kc, ad, kc+16, bp[t*kn.nr*kc:], c[t*kn.nr:], kn.nr*tiles, 1, 1)
									} else {
										kn.fn(kc, a, bp[t*kn.nr*kc:], c[t*kn.nr:], kn.nr*tiles, 1, 1)
									}
								}
							}
						}()
					}
					wg.Wait()
					b.ReportMetric(2*float64(kn.mr*kn.nr*kc*tiles*nw)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
				})
			}
		}
	}
}

func BenchmarkPeak(b *testing.B) {
	nw := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	var flops float64
	var mu sync.Mutex
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := PeakLoop(b.N * 1000)
			mu.Lock()
			flops += f
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
}
