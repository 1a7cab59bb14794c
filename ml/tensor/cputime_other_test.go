//go:build !unix

package tensor

func processCPU() float64 { return 0 }
