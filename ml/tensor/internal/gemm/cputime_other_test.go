//go:build !unix

package gemm

func processCPU() float64 { return 0 }
