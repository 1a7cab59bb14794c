//go:build !amd64

package gemm

// PeakLoop has no vector loop on this architecture: it reports 0 flops.
func PeakLoop(iters int) (flops float64) { return 0 }

func archKernels() []*kernel { return nil }
